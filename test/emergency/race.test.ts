import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRecords } from '../../src/audit/schema.js';
import { verifyAudit } from '../../src/audit/chain.js';
import type { EmergencyPolicy } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { declareEmergency, endEmergency, extendEmergency } from '../../src/emergency/declarations.js';
import { emergencies, emergencyTransitions } from '../../src/emergency/schema.js';
import { DomainError } from '../../src/errors.js';
import { outboxEvents } from '../../src/outbox/schema.js';
import { putRosterMember } from '../../src/emergency/roster.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../support/db.js';
import { at, hire, makeUtilityGroup, plusMs, T0 } from '../support/factories.js';

const policy: EmergencyPolicy = { approval: 'single', maxMinutes: 72 * 60, maxTotalMinutes: 7 * 24 * 60 };
const BASE = at('2026-10-01T03:00:00+09:00');
const ITERATIONS = 20;
const DURATION_MIN = 60;
const EXTEND_MIN = 30;

// Ending and extending race only when two transactions run at once on two connections.
// PGlite is one in-process connection that runs one transaction at a time, so no race can
// happen there: this file runs on PostgreSQL only.
describe.skipIf(!onPostgres)('ending and extending the same emergency at the same moment', () => {
  let database: TestDatabase;
  /** Two replicas: separate pools, so the two transactions certainly hold separate connections. */
  let replicas: Database[];
  let member: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    await makeUtilityGroup(database.db);
    member = await hire(database.db, { company: 'ep', at: T0 });
    await putRosterMember({ db: database.db, now: T0, actor: 'test', personId: member, areas: ['aomori'] });
    replicas = await Promise.all([0, 1].map(() => openDatabase({ databaseUrl: database.url!, poolSize: 2 })));
    // Warm both pools so neither side is handicapped by opening its connection during the race.
    await Promise.all(replicas.map((r) => r.pg!`select 1`));
  });
  afterAll(async () => {
    await Promise.all((replicas ?? []).map((r) => r.close()));
    await database?.close();
  });

  it('ends up in exactly one consistent outcome every time: never an extension after the end', async () => {
    const outcomes = { extendedThenEnded: 0, endedExtendRejected: 0 };
    for (let i = 0; i < ITERATIONS; i++) {
      const declaredAt = plusMs(BASE, i * 86_400_000);
      const raceAt = plusMs(declaredAt, 60_000);
      const declared = await declareEmergency({ db: database.db, now: declaredAt, actor: 'desk-declare', policy, areas: ['aomori'], reason: `race ${i}`, durationMinutes: DURATION_MIN });
      const originalExpiry = declared.expiresAt.getTime();
      expect(originalExpiry).toBe(declaredAt.getTime() + DURATION_MIN * 60_000);

      const end = () => endEmergency({ db: replicas[i % 2]!.db, now: raceAt, actor: 'desk-end', id: declared.id });
      const extend = () => extendEmergency({ db: replicas[(i + 1) % 2]!.db, now: raceAt, actor: 'desk-extend', policy, id: declared.id, minutes: EXTEND_MIN, reason: 'still flooding' });
      // Alternate which call is issued first, and which replica serves it.
      const [ended, extended] = i % 2 === 0 ? await Promise.allSettled([end(), extend()]) : await Promise.allSettled([extend(), end()]).then(([x, e]) => [e, x] as const);

      // Ending an active emergency always succeeds.
      expect(ended.status, `iteration ${i}: end failed: ${ended.status === 'rejected' ? String(ended.reason) : ''}`).toBe('fulfilled');
      let extendWon: boolean;
      if (extended.status === 'fulfilled') {
        extendWon = true;
        outcomes.extendedThenEnded++;
        expect(extended.value.status).toBe('active');
        expect(extended.value.expiresAt.getTime()).toBe(originalExpiry + EXTEND_MIN * 60_000);
      } else {
        extendWon = false;
        outcomes.endedExtendRejected++;
        expect(extended.reason, `iteration ${i}: extend failed unexpectedly: ${String(extended.reason)}`).toBeInstanceOf(DomainError);
        expect(extended.reason).toMatchObject({ code: 'emergency.not-active', status: 409 });
      }
      const expectedExpiry = originalExpiry + (extendWon ? EXTEND_MIN * 60_000 : 0);

      // The row: ended now, by the desk, with the expiry of whichever order happened.
      const [row] = await database.db.select().from(emergencies).where(eq(emergencies.id, declared.id));
      expect(row).toMatchObject({ status: 'ended', endedBy: 'desk-end', endReason: 'ended' });
      expect(row!.endedAt?.getTime()).toBe(raceAt.getTime());
      expect(row!.expiresAt.getTime()).toBe(expectedExpiry);
      if (ended.status === 'fulfilled') expect(ended.value.expiresAt.getTime()).toBe(expectedExpiry);

      // The timeline holds exactly the transitions that happened.
      const transitions = await database.db.select().from(emergencyTransitions).where(eq(emergencyTransitions.emergencyId, declared.id));
      expect(transitions.map((t) => t.kind).sort()).toEqual(extendWon ? ['declared', 'ended', 'extended'] : ['declared', 'ended']);
      if (extendWon) {
        const ext = transitions.find((t) => t.kind === 'extended')!;
        expect(JSON.parse(ext.detail!)).toMatchObject({ minutes: EXTEND_MIN, expiresAt: new Date(expectedExpiry).toISOString() });
        expect(ext.actor).toBe('desk-extend');
      }

      // The audit chain records them in commit order: an extension, if any, strictly before the end.
      const audit = await database.db
        .select({ action: auditRecords.action, actor: auditRecords.actor })
        .from(auditRecords)
        .where(and(eq(auditRecords.subjectType, 'emergency'), eq(auditRecords.subjectId, declared.id)))
        .orderBy(asc(auditRecords.seq));
      expect(audit).toEqual([
        { action: 'emergency.declared', actor: 'desk-declare' },
        ...(extendWon ? [{ action: 'emergency.extended', actor: 'desk-extend' }] : []),
        { action: 'emergency.ended', actor: 'desk-end' },
      ]);

      // Connected systems were told of the end once, with the expiry that was in force when it ended.
      const announced = await database.db
        .select({ type: outboxEvents.type, payload: outboxEvents.payload })
        .from(outboxEvents)
        .where(and(eq(outboxEvents.subjectType, 'emergency'), eq(outboxEvents.subjectId, declared.id)));
      expect(announced.map((a) => a.type).sort()).toEqual(['emergency.declared', 'emergency.ended']);
      expect(announced.find((a) => a.type === 'emergency.ended')!.payload).toMatchObject({
        expiresAt: new Date(expectedExpiry).toISOString(),
        endedAt: raceAt.toISOString(),
      });
    }
    // Which order won each time is up to the scheduler; every run is one of the two outcomes.
    expect(outcomes.extendedThenEnded + outcomes.endedExtendRejected).toBe(ITERATIONS);
    console.info(`end/extend race outcomes over ${ITERATIONS} runs: ${JSON.stringify(outcomes)}`);

    const roster = await database.db.select().from(outboxEvents).where(and(eq(outboxEvents.type, 'session.revoked'), eq(outboxEvents.subjectId, member)));
    expect(roster).toHaveLength(ITERATIONS);
    expect(await verifyAudit(database.db)).toMatchObject({ ok: true });
  });
});
