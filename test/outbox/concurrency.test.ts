import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { deliverDue } from '../../src/outbox/deliver.js';
import { createSubscriber } from '../../src/outbox/subscribers.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../support/db.js';
import { plusMs, T0 } from '../support/factories.js';
import { testKeyring } from '../support/http.js';
import { commitEvents, deliveriesOf, startFakeSubscriber, type FakeSubscriber } from './support.js';

// Two replicas need two connections to one database: PGlite is a single in-process connection,
// so the race only exists (and is only tested) on PostgreSQL.
describe.skipIf(!onPostgres)('two replicas delivering at the same time', () => {
  let database: TestDatabase;
  let replicas: Database[];
  let subscribers: FakeSubscriber[];
  let subscriberIds: string[];
  const T = plusMs(T0, 86_400_000);
  const EVENTS = 60;

  beforeAll(async () => {
    database = await createTestDatabase();
    subscribers = await Promise.all([0, 1].map(() => startFakeSubscriber({ respond: () => 200 })));
    subscriberIds = [];
    for (const [i, s] of subscribers.entries()) {
      subscriberIds.push((await createSubscriber({ db: database.db, now: T0, actor: 'test', keyring: testKeyring, name: `system-${i}`, url: s.url, format: 'webhook', eventTypes: [] })).subscriber.id);
    }
    await commitEvents(database.db, T, EVENTS);
    replicas = await Promise.all([0, 1].map(() => openDatabase({ databaseUrl: database.url!, poolSize: 4 })));
  });
  afterAll(async () => {
    await Promise.all((replicas ?? []).map((r) => r.close()));
    await Promise.all((subscribers ?? []).map((s) => s.close()));
    await database?.close();
  });

  it('delivers each event to each subscriber exactly once', async () => {
    const results = await Promise.all(replicas.map((r) => deliverDue({ db: r.db, now: T, keyring: testKeyring, publicUrl: 'https://sekisho.example', batchSize: 5 })));
    expect(results.reduce((n, r) => n + r.delivered, 0)).toBe(2 * EVENTS);
    expect(results.reduce((n, r) => n + r.claimed, 0)).toBe(2 * EVENTS);
    for (const [i, s] of subscribers.entries()) {
      expect(s.received).toHaveLength(EVENTS);
      expect(s.acceptedIds().size).toBe(EVENTS);
      expect((await deliveriesOf(database.db, subscriberIds[i]!)).every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
    }
  });
});
