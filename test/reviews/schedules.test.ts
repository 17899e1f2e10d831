import { like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrant } from '../../src/access/grants.js';
import { openDatabase } from '../../src/db/client.js';
import { reviewCampaigns } from '../../src/reviews/schema.js';
import { createDueOccurrences, latestOccurrence, putSchedule } from '../../src/reviews/schedules.js';
import { makeTakuso } from '../support/access.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../support/db.js';
import { at, hire, makeUtilityGroup, plusMs, T0 } from '../support/factories.js';
import { startTestServer, type TestServer } from '../support/http.js';

const NOW = at('2026-10-01T09:00:00+09:00'); // a Thursday
const DAY = 86_400_000;
const campaign = { name: 'weekly takuso', scope: { system: 'takuso' }, dueInDays: 5, onNoResponse: 'keep' as const };

describe('recurring review schedules', () => {
  let database: TestDatabase;
  let server: TestServer;

  const campaignsOf = (schedule: string) => database.db.select().from(reviewCampaigns).where(like(reviewCampaigns.occurrenceKey, `${schedule}@%`));

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    await makeUtilityGroup(db);
    await makeTakuso(db);
    const person = await hire(db, { company: 'nw', at: T0 });
    await createGrant({ db, now: T0, actor: 'test', personId: person, entitlement: 'takuso-operator', reason: 'test' });
    server = await startTestServer(database, { now: NOW });
  });
  afterAll(async () => {
    await server.close();
    await database.close();
  });

  it('reads the cron in the schedule’s time zone: Monday 09:00 in Tokyo is Monday 00:00 UTC', () => {
    const schedule = { cron: '0 9 * * 1', timezone: 'Asia/Tokyo' };
    expect(latestOccurrence(schedule, NOW, plusMs(NOW, 7 * DAY))).toEqual(at('2026-10-05T00:00:00Z'));
    expect(latestOccurrence({ ...schedule, timezone: 'UTC' }, NOW, plusMs(NOW, 7 * DAY))).toEqual(at('2026-10-05T09:00:00Z'));
    expect(latestOccurrence(schedule, NOW, plusMs(NOW, 3 * DAY))).toBeUndefined();
  });

  it('is set over HTTP with Asia/Tokyo by default, and refuses a bad cron or time zone', async () => {
    const put = (name: string, body: unknown) =>
      fetch(`${server.url}/v1/review-schedules/${name}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const created = await put('http-weekly', { cron: '0 9 * * 1', campaign });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: 'http-weekly', timezone: 'Asia/Tokyo', lastOccurrenceAt: null });
    expect((await put('bad', { cron: '0 9 * *', campaign })).status).toBe(400);
    expect((await put('bad', { cron: '0 9 * * 1', timezone: 'Mars/Olympus', campaign })).status).toBe(400);
    expect((await put('bad', { cron: '0 9 * * 1', campaign: { ...campaign, dueInDays: 0 } })).status).toBe(400);
  });

  it('after three weeks down, creates one campaign on start-up for the latest missed occurrence, then none until the next', async () => {
    const { db } = database;
    await putSchedule({ db, now: NOW, actor: 'test', name: 'weekly', cron: '0 9 * * 1', timezone: 'Asia/Tokyo', campaign });
    const restart = plusMs(NOW, 21 * DAY); // Thursday 22 October, three Mondays missed
    const first = await createDueOccurrences({ db, now: restart });
    expect(first.failed).toEqual([]);
    const created = await campaignsOf('weekly');
    expect(created.map((c) => c.occurrenceKey)).toEqual(['weekly@2026-10-19T00:00:00.000Z']);
    expect(created[0]!.itemCount).toBe(1);
    expect(created[0]!.dueAt).toEqual(at('2026-10-24T00:00:00Z'));

    await createDueOccurrences({ db, now: plusMs(restart, 60_000) });
    expect(await campaignsOf('weekly')).toHaveLength(1);
    await createDueOccurrences({ db, now: at('2026-10-26T00:00:30Z') });
    expect((await campaignsOf('weekly')).map((c) => c.occurrenceKey).sort()).toEqual(['weekly@2026-10-19T00:00:00.000Z', 'weekly@2026-10-26T00:00:00.000Z']);
  });

  it('does not create occurrences from before the schedule existed', async () => {
    const { db } = database;
    await putSchedule({ db, now: NOW, actor: 'test', name: 'monthly', cron: '0 9 1 * *', timezone: 'Asia/Tokyo', campaign });
    // 1 October 09:00 JST is exactly when the schedule was made: not after it, so not due.
    await createDueOccurrences({ db, now: plusMs(NOW, DAY) });
    expect(await campaignsOf('monthly')).toHaveLength(0);
  });

  // PGlite is one connection: only PostgreSQL can run the two replicas side by side.
  describe.skipIf(!onPostgres)('two replicas (PostgreSQL)', () => {
    it('firing the same occurrence at the same moment create exactly one campaign', async () => {
      const { db } = database;
      await putSchedule({ db, now: NOW, actor: 'test', name: 'race', cron: '*/5 * * * *', timezone: 'Asia/Tokyo', campaign });
      const replica = await openDatabase({ databaseUrl: database.url!, poolSize: 2 });
      try {
        for (let i = 1; i <= 10; i++) {
          const now = plusMs(NOW, i * 5 * 60_000);
          const [a, b] = await Promise.all([createDueOccurrences({ db, now }), createDueOccurrences({ db: replica.db, now })]);
          expect([...a.failed, ...b.failed]).toEqual([]);
          expect(a.created.length + b.created.length).toBe(1);
        }
      } finally {
        await replica.close();
      }
      const created = await campaignsOf('race');
      expect(created).toHaveLength(10);
      expect(new Set(created.map((c) => c.occurrenceKey)).size).toBe(10);
    });
  });
});
