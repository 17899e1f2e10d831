import { and, desc, eq, lte, sql } from 'drizzle-orm';
import { appendAudit, type AuditEntry } from '../audit/chain.js';
import type { EmergencyPolicy } from '../config.js';
import { endConsoleSessions } from '../console/sessions.js';
import type { Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { enqueueEvents, type OutboundEvent } from '../outbox/enqueue.js';
import { emergencyProblems } from './errors.js';
import { emergencies, emergencyRoster, emergencyTransitions } from './schema.js';

export type Emergency = typeof emergencies.$inferSelect;
type Status = 'pending_approval' | 'active' | 'ended';

const minutes = (n: number) => n * 60_000;

/** The status at `now`: an active emergency whose expiry has passed is ended, whether or not a job has said so. */
export function statusAt(e: Emergency, now: Date): Status {
  if (e.status === 'active' && e.expiresAt.getTime() <= now.getTime()) return 'ended';
  return e.status as Status;
}

/** When it ended: the recorded end, or its expiry once passed. */
export function endedAt(e: Emergency, now: Date): Date | null {
  return e.endedAt ?? (statusAt(e, now) === 'ended' ? e.expiresAt : null);
}

async function transition(tx: Db, now: Date, e: { id: string }, kind: string, actor: string, detail: Record<string, unknown>, audit: AuditEntry[] = []) {
  await tx.insert(emergencyTransitions).values({ emergencyId: e.id, kind, at: now, actor, detail: JSON.stringify(detail) });
  await appendAudit(tx, now, [{ actor, action: `emergency.${kind}`, subjectType: 'emergency', subjectId: e.id, data: detail }, ...audit]);
}

async function lock(tx: Db, id: string): Promise<Emergency> {
  const [row] = await tx.select().from(emergencies).where(eq(emergencies.id, id)).for('update');
  if (!row) throw emergencyProblems.notFound(`emergency '${id}' does not exist`);
  return row;
}

export async function declareEmergency(args: {
  db: Db;
  now: Date;
  actor: string;
  policy: EmergencyPolicy;
  areas: string[];
  reason: string;
  durationMinutes: number;
}): Promise<Emergency> {
  const { db, now, actor, policy, reason } = args;
  if (args.durationMinutes > policy.maxMinutes) {
    throw emergencyProblems.tooLong(`durationMinutes may be at most ${policy.maxMinutes}; extend explicitly if more time is needed`);
  }
  const areas = [...new Set(args.areas)].sort();
  const active = policy.approval === 'single';
  return withTx(db, async (tx) => {
    const [row] = await tx
      .insert(emergencies)
      .values({
        areas,
        reason,
        status: active ? 'active' : 'pending_approval',
        declaredBy: actor,
        declaredAt: now,
        startedAt: active ? now : null,
        expiresAt: new Date(now.getTime() + minutes(args.durationMinutes)),
        latestExpiry: new Date(now.getTime() + minutes(policy.maxTotalMinutes)),
      })
      .returning();
    await transition(tx, now, row!, 'declared', actor, { areas, reason, durationMinutes: args.durationMinutes, status: row!.status });
    if (active) await announce(tx, now, row!, 'emergency.declared');
    return row!;
  });
}

/** Dual control: a second, different person starts the emergency; its clock starts then. */
export async function approveEmergency(args: { db: Db; now: Date; actor: string; policy: EmergencyPolicy; id: string }): Promise<Emergency> {
  const { db, now, actor, policy } = args;
  return withTx(db, async (tx) => {
    const e = await lock(tx, args.id);
    if (e.status !== 'pending_approval') throw emergencyProblems.notPending(`emergency '${e.id}' is ${statusAt(e, now)}`);
    if (e.declaredBy === actor) throw emergencyProblems.sameApprover('the person who declared an emergency cannot approve it');
    const duration = e.expiresAt.getTime() - e.declaredAt.getTime();
    const [row] = await tx
      .update(emergencies)
      .set({
        status: 'active',
        approvedBy: actor,
        startedAt: now,
        expiresAt: new Date(now.getTime() + duration),
        latestExpiry: new Date(now.getTime() + minutes(policy.maxTotalMinutes)),
      })
      .where(eq(emergencies.id, e.id))
      .returning();
    await transition(tx, now, row!, 'approved', actor, { expiresAt: row!.expiresAt.toISOString() });
    await announce(tx, now, row!, 'emergency.declared');
    return row!;
  });
}

/** Extending is an explicit, audited act, bounded per step and in total. */
export async function extendEmergency(args: { db: Db; now: Date; actor: string; policy: EmergencyPolicy; id: string; minutes: number; reason: string }): Promise<Emergency> {
  const { db, now, actor, policy } = args;
  if (args.minutes > policy.maxMinutes) throw emergencyProblems.tooLong(`an extension may be at most ${policy.maxMinutes} minutes`);
  return withTx(db, async (tx) => {
    const e = await lock(tx, args.id);
    if (statusAt(e, now) !== 'active') throw emergencyProblems.notActive(`emergency '${e.id}' is ${statusAt(e, now)} and cannot be extended`);
    const expiresAt = new Date(e.expiresAt.getTime() + minutes(args.minutes));
    if (expiresAt.getTime() > e.latestExpiry.getTime()) {
      throw emergencyProblems.extensionBound(`no emergency may last past ${e.latestExpiry.toISOString()}; declare a new one`);
    }
    const [row] = await tx.update(emergencies).set({ expiresAt }).where(eq(emergencies.id, e.id)).returning();
    await transition(tx, now, row!, 'extended', actor, { minutes: args.minutes, reason: args.reason, expiresAt: expiresAt.toISOString() });
    return row!;
  });
}

/**
 * Ends an emergency now (or records that it expired), and closes it out in the same
 * transaction: roster members' sessions are revoked and connected systems told.
 */
export async function endEmergency(args: { db: Db; now: Date; actor: string; id: string; reason?: string }): Promise<Emergency> {
  const { db, now, actor } = args;
  return withTx(db, async (tx) => {
    const e = await lock(tx, args.id);
    const status = statusAt(e, now);
    if (e.status === 'ended') throw emergencyProblems.notActive(`emergency '${e.id}' already ended at ${e.endedAt!.toISOString()}`);
    const expired = status === 'ended';
    return closeOut(tx, now, e, {
      endedAt: expired ? e.expiresAt : now,
      endedBy: expired ? 'system:expiry' : actor,
      endReason: expired ? 'expired' : (args.reason ?? 'ended'),
      actor,
    });
  });
}

async function closeOut(tx: Db, now: Date, e: Emergency, end: { endedAt: Date; endedBy: string; endReason: string; actor: string }): Promise<Emergency> {
  const [row] = await tx
    .update(emergencies)
    .set({ status: 'ended', endedAt: end.endedAt, endedBy: end.endedBy, endReason: end.endReason, closedOutAt: now })
    .where(eq(emergencies.id, e.id))
    .returning();
  if (e.status === 'active') await announce(tx, now, row!, 'emergency.ended');
  await transition(tx, now, row!, end.endReason === 'expired' ? 'expired' : 'ended', end.actor, { endedAt: end.endedAt.toISOString(), reason: end.endReason });
  return row!;
}

/** Tells connected systems; on the end, every roster member covering the areas loses their sessions. */
async function announce(tx: Db, now: Date, e: Emergency, type: 'emergency.declared' | 'emergency.ended'): Promise<void> {
  const payload = { emergencyId: e.id, areas: e.areas, startedAt: e.startedAt?.toISOString(), expiresAt: e.expiresAt.toISOString(), endedAt: e.endedAt?.toISOString() ?? null };
  const events: OutboundEvent[] = [{ type, subjectType: 'emergency', subjectId: e.id, occurredAt: now, payload }];
  if (type === 'emergency.ended') {
    const members = await tx
      .select({ personId: emergencyRoster.personId })
      .from(emergencyRoster)
      .where(sql`${emergencyRoster.areas} && ${`{${e.areas.join(',')}}`}::text[]`);
    for (const m of members) events.push({ type: 'session.revoked', subjectType: 'person', subjectId: m.personId, occurredAt: now, payload: { reason: 'emergency-ended', emergencyId: e.id } });
    // Their Sekisho console sessions end in the same transaction (set-based).
    const ended = await endConsoleSessions(tx, { personIds: members.map((m) => m.personId), now, reason: 'emergency-ended' });
    if (ended.length > 0) {
      await appendAudit(tx, now, ended.map((s) => ({ actor: 'system:emergency', action: 'console-session.revoked', subjectType: 'person', subjectId: s.personId, data: { session: s.session, reason: 'emergency-ended', emergencyId: e.id } })));
    }
  }
  await enqueueEvents(tx, now, events);
}

/**
 * emergency.end-expired: records the end of every emergency whose expiry has passed — also
 * those that expired while the service was down — and closes them out. Decisions never wait
 * for this (they compare the instant); it makes the end visible and tells everyone.
 */
export async function endExpiredEmergencies(args: { db: Db; now: Date }): Promise<{ ended: number }> {
  return withTx(args.db, async (tx) => {
    const due = await tx
      .select()
      .from(emergencies)
      .where(and(eq(emergencies.status, 'active'), lte(emergencies.expiresAt, args.now)))
      .for('update', { skipLocked: true });
    for (const e of due) await closeOut(tx, args.now, e, { endedAt: e.expiresAt, endedBy: 'system:expiry', endReason: 'expired', actor: 'system:expiry' });
    return { ended: due.length };
  });
}

export async function getEmergency(db: Db, id: string): Promise<Emergency> {
  const [row] = await db.select().from(emergencies).where(eq(emergencies.id, id));
  if (!row) throw emergencyProblems.notFound(`emergency '${id}' does not exist`);
  return row;
}

export async function listEmergencies(db: Db, now: Date, status?: Status): Promise<Emergency[]> {
  const t = now.toISOString();
  const where = {
    pending_approval: sql`${emergencies.status} = 'pending_approval'`,
    active: sql`${emergencies.status} = 'active' and ${emergencies.expiresAt} > ${t}::timestamptz`,
    ended: sql`(${emergencies.status} = 'ended' or ${emergencies.expiresAt} <= ${t}::timestamptz)`,
  };
  return db.select().from(emergencies).where(status ? where[status] : undefined).orderBy(desc(emergencies.declaredAt)).limit(500);
}
