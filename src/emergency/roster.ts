import { eq } from 'drizzle-orm';
import { persons } from '../affiliation/schema.js';
import { appendAudit } from '../audit/chain.js';
import type { Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { emergencyProblems } from './errors.js';
import { emergencyRoster } from './schema.js';

export type RosterMember = typeof emergencyRoster.$inferSelect;

/** Puts a person on the disaster-support roster for these areas. Membership alone grants nothing. */
export async function putRosterMember(args: {
  db: Db;
  now: Date;
  actor: string;
  personId: string;
  areas: string[];
  trainedAt?: Date | null;
  contractRef?: string | null;
}): Promise<{ member: RosterMember; created: boolean }> {
  const { db, now, actor, personId } = args;
  const areas = [...new Set(args.areas)].sort();
  return withTx(db, async (tx) => {
    const [person] = await tx.select({ id: persons.id }).from(persons).where(eq(persons.id, personId));
    if (!person) throw emergencyProblems.unknownPerson(`person '${personId}' does not exist`);
    const [existing] = await tx.select().from(emergencyRoster).where(eq(emergencyRoster.personId, personId)).for('update');
    const values = { areas, trainedAt: args.trainedAt ?? null, contractRef: args.contractRef ?? null, updatedAt: now };
    const [member] = existing
      ? await tx.update(emergencyRoster).set(values).where(eq(emergencyRoster.personId, personId)).returning()
      : await tx.insert(emergencyRoster).values({ personId, createdAt: now, ...values }).returning();
    await appendAudit(tx, now, {
      actor,
      action: existing ? 'emergency-roster.updated' : 'emergency-roster.added',
      subjectType: 'roster',
      subjectId: personId,
      data: { areas, trainedAt: values.trainedAt?.toISOString() ?? null, contractRef: values.contractRef },
    });
    return { member: member!, created: !existing };
  });
}

export async function removeRosterMember(args: { db: Db; now: Date; actor: string; personId: string }): Promise<void> {
  await withTx(args.db, async (tx) => {
    const [removed] = await tx.delete(emergencyRoster).where(eq(emergencyRoster.personId, args.personId)).returning();
    if (!removed) throw emergencyProblems.notOnRoster(`person '${args.personId}' is not on the roster`);
    await appendAudit(tx, args.now, { actor: args.actor, action: 'emergency-roster.removed', subjectType: 'roster', subjectId: args.personId, data: { areas: removed.areas } });
  });
}

export async function listRoster(db: Db): Promise<RosterMember[]> {
  return db.select().from(emergencyRoster).orderBy(emergencyRoster.personId);
}
