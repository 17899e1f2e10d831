import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, type DecisionRequest } from '../../src/access/decide.js';
import { loadSnapshot } from '../../src/access/snapshot.js';
import { auditRecords } from '../../src/audit/schema.js';
import type { EmergencyPolicy } from '../../src/config.js';
import { approveEmergency, declareEmergency } from '../../src/emergency/declarations.js';
import { putRosterMember } from '../../src/emergency/roster.js';
import { emergencies, emergencyTransitions } from '../../src/emergency/schema.js';
import { createLogger } from '../../src/logger.js';
import { outboxEvents } from '../../src/outbox/schema.js';
import { startScheduler } from '../../src/scheduler.js';
import { makeTakuso } from '../support/access.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { at, hire, makeUtilityGroup, plusMs, T0 } from '../support/factories.js';
import { testKeyring } from '../support/http.js';

const single: EmergencyPolicy = { approval: 'single', maxMinutes: 72 * 60, maxTotalMinutes: 7 * 24 * 60 };
const dual: EmergencyPolicy = { ...single, approval: 'dual' };
const min = 60_000;

describe('an emergency that expired while the service was down', () => {
  let database: TestDatabase;
  let aomori: string[];
  let iwateOnly: string;

  /** Declared at 03:00 for an hour; the service went down and comes back at 09:00. */
  const DECLARED_AT = at('2026-10-01T03:00:00+09:00');
  const EXPIRES_AT = plusMs(DECLARED_AT, 60 * min);
  const RESTARTED_AT = at('2026-10-01T09:00:00+09:00');

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    await makeUtilityGroup(db);
    await makeTakuso(db);
    aomori = [];
    for (const areas of [['aomori'], ['aomori', 'iwate']]) {
      const p = await hire(db, { company: 'ep', at: T0 });
      await putRosterMember({ db, now: T0, actor: 'test', personId: p, areas });
      aomori.push(p);
    }
    iwateOnly = await hire(db, { company: 'ep', at: T0 });
    await putRosterMember({ db, now: T0, actor: 'test', personId: iwateOnly, areas: ['iwate'] });
  });
  afterAll(async () => {
    await database?.close();
  });

  const request = (personId: string, area = 'aomori'): DecisionRequest => ({
    personId,
    terminalId: 'T-EP-01',
    system: 'takuso',
    record: { customerId: 'C-1', retailer: 'shinden-a', area },
    fields: ['supplyPoint', 'holderName', 'usage'],
  });

  it('is ended on start-up at its expiry instant, its end is announced, and it denies immediately', async () => {
    const { db } = database;
    const e = await declareEmergency({ db, now: DECLARED_AT, actor: 'desk', policy: single, areas: ['aomori'], reason: '地震', durationMinutes: 60 });
    expect(e).toMatchObject({ status: 'active', expiresAt: EXPIRES_AT });

    const scheduler = await startScheduler(db, createLogger('silent'), () => RESTARTED_AT, { keyring: testKeyring, publicUrl: 'http://localhost:0' });
    await scheduler.stop();

    const [row] = await db.select().from(emergencies).where(eq(emergencies.id, e.id));
    expect(row).toMatchObject({ status: 'ended', endReason: 'expired', endedBy: 'system:expiry', endedAt: EXPIRES_AT, closedOutAt: RESTARTED_AT });
    expect(row!.endedAt!.getTime()).toBe(row!.expiresAt.getTime());
    const transitions = await db.select({ kind: emergencyTransitions.kind }).from(emergencyTransitions).where(eq(emergencyTransitions.emergencyId, e.id));
    expect(transitions.map((t) => t.kind).sort()).toEqual(['declared', 'expired']);
    const audit = await db.select({ action: auditRecords.action }).from(auditRecords).where(and(eq(auditRecords.subjectType, 'emergency'), eq(auditRecords.subjectId, e.id)));
    expect(audit.map((a) => a.action)).toEqual(['emergency.declared', 'emergency.expired']);

    // Connected systems hear of the end, and every roster member covering Aomori loses their sessions.
    const ended = await db.select().from(outboxEvents).where(and(eq(outboxEvents.type, 'emergency.ended'), eq(outboxEvents.subjectId, e.id)));
    expect(ended).toHaveLength(1);
    expect(ended[0]!.payload).toMatchObject({ emergencyId: e.id, areas: ['aomori'], endedAt: EXPIRES_AT.toISOString() });
    const revoked = await db.select().from(outboxEvents).where(eq(outboxEvents.type, 'session.revoked'));
    expect(revoked.map((r) => r.subjectId).sort()).toEqual([...aomori].sort());
    expect(revoked.every((r) => r.payload.emergencyId === e.id && r.payload.reason === 'emergency-ended')).toBe(true);
    expect(revoked.map((r) => r.subjectId)).not.toContain(iwateOnly);

    // From the expiry instant on, a roster member gets nothing; up to it, the emergency's history stands.
    const snapshot = await loadSnapshot(db);
    for (const p of aomori) {
      const now = decide(snapshot, request(p), RESTARTED_AT.getTime());
      expect(now).toMatchObject({ decision: 'deny', reasons: ['emergency-not-active'], fields: { supplyPoint: 'mask', holderName: 'mask', usage: 'mask' } });
      expect(decide(snapshot, request(p), EXPIRES_AT.getTime())).toMatchObject({ decision: 'deny' });
      expect(decide(snapshot, request(p), EXPIRES_AT.getTime() - 1)).toMatchObject({ decision: 'permit', emergencyId: e.id });
    }

    // Start-up again (another replica, or a second restart): nothing more is ended or announced.
    const again = await startScheduler(db, createLogger('silent'), () => plusMs(RESTARTED_AT, min), {});
    await again.stop();
    expect(await db.select().from(outboxEvents).where(eq(outboxEvents.type, 'emergency.ended'))).toHaveLength(1);
    expect(await db.select().from(outboxEvents).where(eq(outboxEvents.type, 'session.revoked'))).toHaveLength(aomori.length);
  });

  it('under dual control, a pending declaration grants nothing until a different person approves it', async () => {
    const { db } = database;
    const DECLARED = at('2026-11-01T10:00:00+09:00');
    const APPROVED = plusMs(DECLARED, 10 * min);
    const pending = await declareEmergency({ db, now: DECLARED, actor: 'desk-a', policy: dual, areas: ['aomori'], reason: '台風', durationMinutes: 60 });
    expect(pending).toMatchObject({ status: 'pending_approval', startedAt: null, approvedBy: null });

    const member = aomori[0]!;
    const pendingSnapshot = await loadSnapshot(db);
    expect(decide(pendingSnapshot, request(member), plusMs(DECLARED, min).getTime())).toMatchObject({ decision: 'deny', reasons: ['emergency-not-active'] });
    const announcedBefore = await db.select().from(outboxEvents).where(eq(outboxEvents.subjectId, pending.id));
    expect(announcedBefore).toEqual([]);

    // The declarer cannot approve their own declaration; nothing changes.
    const [before] = await db.select().from(emergencies).where(eq(emergencies.id, pending.id));
    await expect(approveEmergency({ db, now: plusMs(DECLARED, 5 * min), actor: 'desk-a', policy: dual, id: pending.id })).rejects.toMatchObject({
      code: 'emergency.same-approver',
      status: 409,
    });
    expect(await db.select().from(emergencies).where(eq(emergencies.id, pending.id))).toEqual([before]);
    expect((await db.select().from(emergencyTransitions).where(eq(emergencyTransitions.emergencyId, pending.id))).map((t) => t.kind)).toEqual(['declared']);
    expect(await db.select().from(outboxEvents).where(eq(outboxEvents.subjectId, pending.id))).toEqual([]);
    expect(decide(await loadSnapshot(db), request(member), plusMs(DECLARED, 6 * min).getTime())).toMatchObject({ decision: 'deny' });

    // A second person approves: the emergency starts then, for its full duration.
    const active = await approveEmergency({ db, now: APPROVED, actor: 'desk-b', policy: dual, id: pending.id });
    expect(active).toMatchObject({ status: 'active', approvedBy: 'desk-b', startedAt: APPROVED, expiresAt: plusMs(APPROVED, 60 * min) });
    const declaredEvents = await db.select({ type: outboxEvents.type }).from(outboxEvents).where(eq(outboxEvents.subjectId, pending.id));
    expect(declaredEvents.map((d) => d.type)).toEqual(['emergency.declared']);

    const snapshot = await loadSnapshot(db);
    // Nothing was granted while it awaited approval, even looking back.
    expect(decide(snapshot, request(member), plusMs(APPROVED, -1).getTime())).toMatchObject({ decision: 'deny', reasons: ['emergency-not-active'] });
    expect(decide(snapshot, request(member), plusMs(APPROVED, min).getTime())).toMatchObject({
      decision: 'permit',
      reasons: ['emergency'],
      emergencyId: pending.id,
      fields: { supplyPoint: 'allow', holderName: 'allow', usage: 'mask' },
    });
    // A roster member for another area still gets nothing.
    expect(decide(snapshot, request(iwateOnly), plusMs(APPROVED, min).getTime())).toMatchObject({ decision: 'deny' });

    // Approving twice is refused.
    await expect(approveEmergency({ db, now: plusMs(APPROVED, min), actor: 'desk-c', policy: dual, id: pending.id })).rejects.toMatchObject({
      code: 'emergency.not-pending',
      status: 409,
    });
  });
});
