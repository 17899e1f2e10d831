import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { deliverDue } from '../../src/outbox/deliver.js';
import { createSubscriber } from '../../src/outbox/subscribers.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { plusMs, T0 } from '../support/factories.js';
import { testKeyring } from '../support/http.js';
import { commitEvents, deliveriesOf, startFakeSubscriber, type FakeSubscriber } from './support.js';

const publicUrl = 'https://sekisho.example';

/**
 * "The process" is a database connection plus a worker. On PostgreSQL the crashed process
 * has its own pool, closed when it dies, and the restarted one opens a new pool; on PGlite the
 * restarted process opens a new embedded database from the data directory the crash left.
 */
describe('a worker killed between commit and delivery', () => {
  let database: TestDatabase;
  let crashed: Database;
  let restarted: Database;
  let subscriber: FakeSubscriber;
  let subscriberId: string;
  const T = plusMs(T0, 86_400_000);

  beforeAll(async () => {
    database = await createTestDatabase();
    subscriber = await startFakeSubscriber();
    subscriberId = (await createSubscriber({ db: database.db, now: T0, actor: 'test', keyring: testKeyring, name: 'takuso', url: subscriber.url, format: 'webhook', eventTypes: [] })).subscriber.id;
    // Committed by the mover's transaction; the process dies before anything is delivered.
    await commitEvents(database.db, T, 6);
    crashed = database.url ? await openDatabase({ databaseUrl: database.url, poolSize: 2 }) : database;
  });
  afterAll(async () => {
    await subscriber?.close();
    if (restarted && restarted !== database) await restarted.close();
    await database?.close();
  });

  it('loses nothing: after restart and lease expiry every event arrives, the ones sent before the crash under the same idempotency key', async () => {
    // The dying worker claims the batch and gets requests out, then the process stops before
    // any response is recorded: its fetch forwards the request and never returns.
    const forwardThenHang: typeof fetch = async (input, init) => {
      await fetch(input, { ...init, signal: undefined });
      return new Promise<Response>(() => {});
    };
    void deliverDue({ db: crashed.db, now: T, keyring: testKeyring, publicUrl, fetch: forwardThenHang });
    await vi.waitFor(() => expect(subscriber.received).toHaveLength(4), { timeout: 20_000 });
    const sentBeforeCrash = subscriber.received.map((r) => String(r.headers['webhook-id']));
    expect((await deliveriesOf(database.db, subscriberId)).every((d) => d.status === 'pending' && d.leaseUntil !== null)).toBe(true);

    if (database.url) {
      await crashed.close();
      restarted = await openDatabase({ databaseUrl: database.url, poolSize: 2 });
    } else {
      const dataDir = await (database.db as unknown as { $client: PGlite }).$client.dumpDataDir('none');
      restarted = await openDatabase({ pgliteSnapshot: dataDir });
    }

    // While the dead worker's leases run, a restarted worker does not send them again.
    const early = await deliverDue({ db: restarted.db, now: plusMs(T, 30_000), keyring: testKeyring, publicUrl });
    expect(early.claimed).toBe(0);
    expect(subscriber.received).toHaveLength(4);

    const late = await deliverDue({ db: restarted.db, now: plusMs(T, 61_000), keyring: testKeyring, publicUrl });
    expect(late).toMatchObject({ claimed: 6, delivered: 6, failed: 0 });
    expect(subscriber.acceptedIds().size).toBe(6);
    const secondRound = subscriber.received.slice(4).map((r) => String(r.headers['webhook-id']));
    expect(secondRound).toHaveLength(6);
    expect(secondRound).toEqual(expect.arrayContaining(sentBeforeCrash));
    expect((await deliveriesOf(restarted.db, subscriberId)).map((d) => d.status)).toEqual(Array(6).fill('delivered'));
  });
});
