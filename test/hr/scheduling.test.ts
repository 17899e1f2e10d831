import { like, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auditRecords } from '../../src/audit/schema.js';
import { verifyAudit } from '../../src/audit/chain.js';
import { openDatabase, type Db } from '../../src/db/client.js';
import { countPendingEvents, receiveHrEvent } from '../../src/hr/intake.js';
import { applyDueEvents } from '../../src/hr/jobs.js';
import { hrEvents } from '../../src/hr/schema.js';
import { onPostgres } from '../support/db.js';
import { T0, at, hire, leave, plusMs, transfer, uniqueId } from '../support/factories.js';
import {
  adminGet,
  deliver,
  effectiveRecords,
  expectReceipt,
  findEvent,
  hiredEvent,
  leftEvent,
  q,
  startHrFixture,
  transferredEvent,
  type HrFixture,
} from './helpers.js';

const DAY = 86_400_000;

/**
 * 300 events that fall due at `due` (+1 day for the leavings), all received at T0:
 * 100 transfers and 100 leavings of people hired earlier, and 100 hires of new people.
 */
async function scheduleEvents(db: Db, due: Date): Promise<{ eventId: string; type: string }[]> {
  const events: { eventId: string; type: string }[] = [];
  for (let i = 0; i < 100; i++) {
    const personId = await hire(db, { company: 'nw', at: at('2025-04-01T00:00:00+09:00'), now: T0 });
    const moved = await transfer(db, { personId, company: 'ep', at: due, now: T0 });
    const left = await leave(db, { personId, at: plusMs(due, DAY), now: T0 });
    const newcomer = await receiveHrEvent({
      db,
      now: T0,
      webhookId: uniqueId('wh'),
      event: { type: 'person.hired', personId: uniqueId('N'), name: 'New Person', company: 'shinden-a', effectiveAt: due },
    });
    for (const r of [moved, left, newcomer]) expect(r.status).toBe('scheduled');
    events.push({ eventId: moved.eventId, type: 'person.transferred' }, { eventId: left.eventId, type: 'person.left' }, { eventId: newcomer.eventId, type: 'person.hired' });
  }
  return events;
}

/** Every event has exactly one `<type>.effective` record and is marked applied; no event anywhere has two. */
async function expectEachAppliedOnce(db: Db, events: { eventId: string; type: string }[], now: Date): Promise<void> {
  const records = await db
    .select({ eventId: sql<string>`${auditRecords.data}->>'eventId'`, action: auditRecords.action })
    .from(auditRecords)
    .where(like(auditRecords.action, '%.effective'));
  const byEvent = new Map<string, string[]>();
  for (const r of records) byEvent.set(r.eventId, [...(byEvent.get(r.eventId) ?? []), r.action]);
  for (const e of events) expect({ eventId: e.eventId, actions: byEvent.get(e.eventId) }).toEqual({ eventId: e.eventId, actions: [`${e.type}.effective`] });
  expect([...byEvent.values()].filter((actions) => actions.length > 1)).toEqual([]);

  const applied = await db.select({ id: hrEvents.id, appliedAt: hrEvents.appliedAt }).from(hrEvents);
  const appliedAt = new Map(applied.map((r) => [r.id, r.appliedAt]));
  for (const e of events) expect(appliedAt.get(e.eventId)).toEqual(now);
}

async function expectAuditChainIntact(db: Db): Promise<void> {
  const [total] = await db.select({ n: sql<number>`count(*)::int` }).from(auditRecords);
  expect(await verifyAudit(db)).toEqual({ ok: true, checked: total!.n });
}

describe('events dated in the future are visible as of their instant and take effect once', () => {
  let f: HrFixture;
  beforeAll(async () => {
    f = await startHrFixture({ now: T0 });
  });
  afterAll(() => f.close());
  beforeEach(() => f.server.setNow(T0));

  const companyAt = async (personId: string, instant: Date) => (await adminGet(f.server, `/v1/persons/${personId}?at=${q(instant)}`)).body.affiliation?.company ?? null;

  it('a transfer announced for next month shows from exactly its instant and its effects run once, when the job runs', async () => {
    const id = uniqueId('E');
    await expectReceipt((await deliver(f.server.url, hiredEvent(id, 'nw', '2025-04-01T00:00:00+09:00'), { at: T0 })).res, 202);
    const effectiveAt = at('2026-05-01T00:00:00+09:00');
    const receipt = await expectReceipt((await deliver(f.server.url, transferredEvent(id, 'ep', '2026-05-01T00:00:00+09:00'), { at: T0 })).res, 202);
    expect(receipt.status).toBe('scheduled');

    // No job has run: reads as of the instant already see the transfer.
    expect(await companyAt(id, plusMs(effectiveAt, -1))).toBe('nw');
    expect(await companyAt(id, effectiveAt)).toBe('ep');
    expect((await adminGet(f.server, `/v1/persons/${id}`)).body.affiliation.company).toBe('nw');
    expect((await findEvent(f.db, receipt.eventId))!.appliedAt).toBeNull();
    expect(await effectiveRecords(f.db, receipt.eventId)).toEqual([]);

    await applyDueEvents({ db: f.db, now: plusMs(effectiveAt, -1) });
    expect((await findEvent(f.db, receipt.eventId))!.appliedAt).toBeNull();
    expect(await effectiveRecords(f.db, receipt.eventId)).toEqual([]);

    await applyDueEvents({ db: f.db, now: effectiveAt });
    expect((await findEvent(f.db, receipt.eventId))!.appliedAt).toEqual(effectiveAt);
    const expected = [{ action: 'person.transferred.effective', subjectId: id, at: effectiveAt }];
    expect(await effectiveRecords(f.db, receipt.eventId)).toEqual(expected);

    await applyDueEvents({ db: f.db, now: plusMs(effectiveAt, DAY) });
    expect(await effectiveRecords(f.db, receipt.eventId)).toEqual(expected);
    f.server.setNow(effectiveAt);
    expect((await adminGet(f.server, `/v1/persons/${id}`)).body.affiliation.company).toBe('ep');
  });

  it('a future hire has no affiliation until its instant, and a future leaving ends it at exactly its instant', async () => {
    const id = uniqueId('E');
    const hiredAt = at('2026-04-15T09:00:00+09:00');
    const leftAt = at('2026-09-30T18:00:00+09:00');
    const hired = await expectReceipt((await deliver(f.server.url, hiredEvent(id, 'nw', hiredAt.toISOString()), { at: T0 })).res, 202);
    const left = await expectReceipt((await deliver(f.server.url, leftEvent(id, leftAt.toISOString()), { at: T0 })).res, 202);
    expect([hired.status, left.status]).toEqual(['scheduled', 'scheduled']);

    expect((await adminGet(f.server, `/v1/persons/${id}`)).body).toMatchObject({ status: 'active', affiliation: null });
    expect(await companyAt(id, plusMs(hiredAt, -1))).toBeNull();
    expect(await companyAt(id, hiredAt)).toBe('nw');
    expect(await companyAt(id, plusMs(leftAt, -1))).toBe('nw');
    expect(await companyAt(id, leftAt)).toBeNull();
    expect((await adminGet(f.server, `/v1/persons/${id}?at=${q(leftAt)}`)).body.status).toBe('left');
  });

  it('the due-events job run twice in a row applies each of 300 events exactly once and keeps the audit chain intact', async () => {
    const due = at('2027-04-01T00:00:00+09:00');
    const now = plusMs(due, DAY);
    await applyDueEvents({ db: f.db, now: plusMs(due, -1) }); // whatever earlier tests left due
    const events = await scheduleEvents(f.db, due);
    expect(await countPendingEvents(f.db, now)).toBe(300);

    expect(await applyDueEvents({ db: f.db, now, batchSize: 64 })).toEqual({ applied: 300 });
    expect(await applyDueEvents({ db: f.db, now, batchSize: 64 })).toEqual({ applied: 0 });

    expect(await countPendingEvents(f.db, now)).toBe(0);
    await expectEachAppliedOnce(f.db, events, now);
    await expectAuditChainIntact(f.db);
  });

  // PGlite is one connection in this process: it cannot run two workers at once, so the race
  // between two replicas can only be shown on PostgreSQL.
  describe.skipIf(!onPostgres)('two replicas (PostgreSQL)', () => {
    it('two workers on separate connection pools apply each of 300 due events exactly once between them', async () => {
      const due = at('2028-04-01T00:00:00+09:00');
      const now = plusMs(due, DAY);
      await applyDueEvents({ db: f.db, now: plusMs(due, -1) }); // whatever earlier tests left due
      const events = await scheduleEvents(f.db, due);
      expect(await countPendingEvents(f.db, now)).toBe(300);

      const replica = await openDatabase({ databaseUrl: f.database.url! });
      try {
        const [a, b] = await Promise.all([
          applyDueEvents({ db: f.db, now, batchSize: 10 }),
          applyDueEvents({ db: replica.db, now, batchSize: 10 }),
        ]);
        expect(a.applied + b.applied).toBe(300);
      } finally {
        await replica.close();
      }

      expect(await countPendingEvents(f.db, now)).toBe(0);
      await expectEachAppliedOnce(f.db, events, now);
      await expectAuditChainIntact(f.db);
    });
  });
});
