import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRecords } from '../../src/audit/schema.js';
import { deliverDue, type DeliverResult } from '../../src/outbox/deliver.js';
import { deliveryKey } from '../../src/outbox/requests.js';
import { getEventDeliveries } from '../../src/outbox/status.js';
import { createSubscriber } from '../../src/outbox/subscribers.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { plusMs, T0 } from '../support/factories.js';
import { testKeyring } from '../support/http.js';
import { commitEvents, deliveriesOf, nextDue, startFakeSubscriber, type FakeSubscriber } from './support.js';

const publicUrl = 'https://sekisho.example';
const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** The policy under test, stated independently of the code: 5 s doubling, capped at 5 min, equal jitter. */
const ceiling = (failures: number) => Math.min(5 * MINUTE, 5 * SECOND * 2 ** (failures - 1));

interface Run {
  now: Date;
  result: DeliverResult;
  /** Pending deliveries' next_attempt_at just before the run, by idempotency key. */
  dueBefore: Map<string, Date>;
}

/**
 * Simulated time: each run happens exactly at the earliest instant something is due, as the
 * every-second scheduler would within a second. Stops when nothing is pending.
 */
async function runUntilSettled(db: TestDatabase['db'], subscriberId: string, clock: { now: Date }): Promise<Run[]> {
  const runs: Run[] = [];
  for (let i = 0; i < 500; i++) {
    const pending = (await deliveriesOf(db, subscriberId)).filter((d) => d.status === 'pending');
    const dueBefore = new Map(pending.map((d) => [deliveryKey(d.eventId, subscriberId), d.nextAttemptAt]));
    const result = await deliverDue({ db, now: clock.now, keyring: testKeyring, publicUrl });
    runs.push({ now: clock.now, result, dueBefore });
    const next = await nextDue(db, subscriberId);
    if (!next) return runs;
    clock.now = new Date(Math.max(next.getTime(), clock.now.getTime() + 1));
  }
  throw new Error('did not settle');
}

describe('a subscriber that is down for ten minutes', () => {
  let database: TestDatabase;
  let subscriber: FakeSubscriber;
  let subscriberId: string;
  let runs: Run[];
  const T = plusMs(T0, 86_400_000);
  const backUpAt = plusMs(T, 10 * MINUTE);
  const clock = { now: T };

  beforeAll(async () => {
    database = await createTestDatabase();
    subscriber = await startFakeSubscriber({ clock: () => clock.now, respond: (r) => (r.at < backUpAt ? 503 : 200) });
    subscriberId = (await createSubscriber({ db: database.db, now: T0, actor: 'test', keyring: testKeyring, name: 'takuso', url: subscriber.url, format: 'webhook', eventTypes: [] })).subscriber.id;
    await commitEvents(database.db, T, 6);
    runs = await runUntilSettled(database.db, subscriberId, clock);
  });
  afterAll(async () => {
    await subscriber?.close();
    await database?.close();
  });

  it('receives every event after it comes back', async () => {
    expect(subscriber.acceptedIds().size).toBe(6);
    const ds = await deliveriesOf(database.db, subscriberId);
    expect(ds.map((d) => d.status)).toEqual(Array(6).fill('delivered'));
    expect(ds.every((d) => d.deliveredAt! >= backUpAt && d.attempts > 1)).toBe(true);
    expect(subscriber.received.filter((r) => r.status === 200).every((r) => r.at >= backUpAt)).toBe(true);
  });

  it('is never tried before a delivery is due', () => {
    const runAt = new Map(runs.map((run) => [run.now.getTime(), run]));
    for (const r of subscriber.received) {
      const run = runAt.get(r.at.getTime())!;
      expect(run.dueBefore.get(String(r.headers['webhook-id']))!.getTime()).toBeLessThanOrEqual(run.now.getTime());
    }
    expect(runs.reduce((n, run) => n + run.result.delivered + run.result.failed + run.result.dead, 0)).toBe(subscriber.received.length);
  });

  it('is tried with growing gaps: doubling from 5 s with jitter, capped at 5 minutes', () => {
    const byKey = new Map<string, number[]>();
    for (const r of subscriber.received) byKey.set(String(r.headers['webhook-id']), [...(byKey.get(String(r.headers['webhook-id'])) ?? []), r.at.getTime()]);
    expect(byKey.size).toBe(6);
    for (const instants of byKey.values()) {
      const gaps = instants.slice(1).map((t, i) => t - instants[i]!);
      expect(gaps.length).toBeGreaterThanOrEqual(6);
      gaps.forEach((gap, i) => {
        expect(gap).toBeGreaterThanOrEqual(ceiling(i + 1) / 2);
        expect(gap).toBeLessThanOrEqual(ceiling(i + 1));
      });
      // Before the cap each gap is at least the previous one.
      for (let i = 1; i < gaps.length && ceiling(i + 1) < 5 * MINUTE; i++) expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1]!);
      expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]! * 10);
    }
  });

  it('is not flooded while failing: the first run sends as many as the per-subscriber bound and holds the rest back', () => {
    expect(runs[0]!.result).toMatchObject({ claimed: 6, failed: 4, deferred: 2, delivered: 0 });
    expect(subscriber.received.filter((r) => r.at.getTime() === T.getTime())).toHaveLength(4);
  });
});

describe('a subscriber that never comes back', () => {
  let database: TestDatabase;
  let subscriber: FakeSubscriber;
  let subscriberId: string;
  const T = plusMs(T0, 86_400_000);
  const clock = { now: T };

  beforeAll(async () => {
    database = await createTestDatabase();
    subscriber = await startFakeSubscriber({ respond: () => 500 });
    subscriberId = (await createSubscriber({ db: database.db, now: T0, actor: 'test', keyring: testKeyring, name: 'gone', url: subscriber.url, format: 'webhook', eventTypes: [] })).subscriber.id;
    await commitEvents(database.db, T, 1);
    await runUntilSettled(database.db, subscriberId, clock);
  });
  afterAll(async () => {
    await subscriber?.close();
    await database?.close();
  });

  it('dead-letters a delivery after 15 failed attempts, with the last status code and no response body', async () => {
    expect(subscriber.received).toHaveLength(15);
    const [d] = await deliveriesOf(database.db, subscriberId);
    expect(d).toMatchObject({ status: 'dead', attempts: 15, lastError: 'http-500', leaseUntil: null });
    const view = await getEventDeliveries(database.db, d!.eventId);
    expect(view.items).toEqual([expect.objectContaining({ status: 'dead', attempts: 15, lastError: 'http-500', nextAttemptAt: null, deliveredAt: null })]);
  });

  it('records the dead letter in the audit chain', async () => {
    const [d] = await deliveriesOf(database.db, subscriberId);
    const records = await database.db.select().from(auditRecords).where(and(eq(auditRecords.action, 'outbox.delivery-dead'), eq(auditRecords.subjectId, d!.eventId)));
    expect(records).toHaveLength(1);
    expect(records[0]!.data).toMatchObject({ subscriberId, attempts: 15, lastError: 'http-500' });
  });

  it('is not tried again, however much later', async () => {
    const later = await deliverDue({ db: database.db, now: plusMs(clock.now, 7 * 86_400_000), keyring: testKeyring, publicUrl });
    expect(later.claimed).toBe(0);
    expect(subscriber.received).toHaveLength(15);
  });
});
