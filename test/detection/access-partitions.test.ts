import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { maintainAccessLogPartitions, monthStart, partitionName } from '../../src/detection/partitions.js';
import { makeTakuso } from '../support/access.js';
import { at, hire, makeUtilityGroup, T0 } from '../support/factories.js';
import { logged, reportPath, startHarness, type Harness } from './access-support.js';

const NOW = at('2026-11-01T09:00:00+09:00');

describe('access events are kept in monthly partitions, created ahead and dropped after retention', () => {
  let h: Harness;
  let clerk: string;
  const peek = (when: string, customerId: string) => logged({ at: when, personId: clerk, terminalId: 'T-EP-01', customerId, retailer: 'shinden-a', fields: ['holderName'] });
  const partitions = async () =>
    (
      await queryRows<{ name: string; rows: number }>(
        h.database.db,
        sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
            where i.inhparent = 'access_events'::regclass order by 1`,
      )
    ).map((r) => r.name);
  const rowsIn = async (table: string) => (await queryRows<{ n: number }>(h.database.db, sql`select count(*)::int as n from ${sql.identifier(table)}`))[0]!.n;
  const maintain = (now: Date, retentionMonths = 60) => maintainAccessLogPartitions({ db: h.database.db, now, detection: { retentionMonths, bulkAccessThreshold: 200 } });

  beforeAll(async () => {
    h = await startHarness(NOW, async ({ db }) => {
      await makeUtilityGroup(db);
      await makeTakuso(db);
      clerk = await hire(db, { company: 'ep', at: T0 });
    });
  });
  afterAll(() => h.close());

  it('creates the current month and the next three, once, however many replicas run it', async () => {
    const when = at('2030-01-15T00:00:00Z');
    const results = await Promise.all([maintain(when), maintain(when)]);
    const expected = ['access_events_203001', 'access_events_203002', 'access_events_203003', 'access_events_203004'];
    expect(results.flatMap((r) => r.created).sort()).toEqual(expected);
    expect(await partitions()).toEqual(expect.arrayContaining([...expected, 'access_events_default']));
    expect((await maintain(when)).created).toEqual([]);
  });

  it('gives late logs older than every partition their own month, moving them out of the default partition', async () => {
    // Logs of June and July 2024, delivered now: older than any partition, so they land in the default one.
    const res = await h.post([peek('2024-06-10T10:00:00+09:00', 'C1'), peek('2024-06-20T10:00:00+09:00', 'C2'), peek('2024-06-30T23:30:00Z', 'C3'), peek('2024-07-01T08:00:00+09:00', 'C4')]);
    expect(res.status).toBe(202);
    expect(await rowsIn('access_events_default')).toBe(4);

    const result = await maintain(NOW);
    // 2024-07-01T08:00+09:00 is still June in UTC: partitions are UTC months.
    expect(result.movedFromDefault).toEqual({ access_events_202406: 4 });
    expect(await rowsIn('access_events_default')).toBe(0);
    expect(await rowsIn('access_events_202406')).toBe(4);
    expect(await partitions()).toContain(partitionName(monthStart(NOW, 3)));
    // Nothing is lost for the reports.
    const report = (await h.get(reportPath('2024-06-01T00:00:00Z', '2024-08-01T00:00:00Z'))).body;
    expect(report.totals).toMatchObject({ records: 4, customers: 4, viewers: 1 });
  });

  it('drops whole months past retention, and older rows still in the default partition, and reports nothing of them', async () => {
    await h.post([peek('2023-01-05T10:00:00+09:00', 'C9')]);
    await h.scan(NOW);
    expect(await rowsIn('access_events_default')).toBe(1);
    const batchesBefore = (await h.counts()).batches;

    // 60 months after August 2024: the June 2024 partition has ended before the cutoff (2024-08-01).
    const result = await maintain(at('2029-08-10T00:00:00Z'), 60);
    expect(result.dropped).toEqual(['access_events_202406']);
    expect(result.deletedFromDefault).toBe(1);
    expect(await partitions()).not.toContain('access_events_202406');
    expect(await rowsIn('access_events_default')).toBe(0);
    expect((await h.counts()).batches).toBe(batchesBefore - 2);
    expect((await h.get(reportPath('2023-01-01T00:00:00Z', '2024-08-01T00:00:00Z'))).body.totals).toMatchObject({ records: 0, customers: 0 });
    expect((await maintain(at('2029-08-10T00:00:00Z'), 60)).dropped).toEqual([]);
  });
});
