import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRecords } from '../../src/audit/schema.js';
import { queryRows } from '../../src/db/client.js';
import { withTx } from '../../src/db/tx.js';
import { maintainAccessLogPartitions } from '../../src/detection/partitions.js';
import { scanAccessLogs } from '../../src/detection/scan.js';
import { findings } from '../../src/detection/schema.js';
import { jobs } from '../../src/scheduler.js';
import { makeTakuso } from '../support/access.js';
import { onPostgres } from '../support/db.js';
import { at, hire, makeUtilityGroup, plusMs, T0 } from '../support/factories.js';
import { logged, startHarness, type Harness } from './access-support.js';

const NOW = at('2026-10-20T12:00:00+09:00');
const minute = (n: number) => plusMs(at('2026-10-19T09:00:00+09:00'), n * 60_000).toISOString();

describe('findings from access logs: scanning and status', () => {
  let h: Harness;
  let clerk: string;
  /** A retail clerk looking at a new entrant's customer's name: a non-public view. */
  const peek = (n: number) => logged({ at: minute(n), personId: clerk, terminalId: 'T-EP-01', customerId: `C${n}`, retailer: 'shinden-a', fields: ['holderName'] });
  const nonpublic = async () => (await h.database.db.select().from(findings).where(eq(findings.rule, 'nonpublic-viewed-by-non-wheeling'))).sort((a, b) => +a.firstSeen - +b.firstSeen);

  beforeAll(async () => {
    h = await startHarness(NOW, async ({ db }) => {
      await makeUtilityGroup(db);
      await makeTakuso(db);
      clerk = await hire(db, { company: 'ep', at: T0 });
    });
  });
  afterAll(() => h.close());

  it('is scheduled: the rules every 5 seconds, partitions hourly', () => {
    expect(jobs.find((j) => j.name === 'detection.scan-access-logs')).toMatchObject({ cron: '*/5 * * * * *', run: scanAccessLogs });
    expect(jobs.find((j) => j.name === 'detection.maintain-access-log-partitions')).toMatchObject({ cron: '17 * * * *', run: maintainAccessLogPartitions });
  });

  it('scans each batch once: running again, or twice at once, counts nothing twice', async () => {
    await h.post([peek(1), peek(2)]);
    await h.post([peek(3)]);
    const [a, b] = await Promise.all([h.scan(NOW), h.scan(plusMs(NOW, 10))]);
    expect(a.events + b.events).toBe(3);
    expect((await h.scan(plusMs(NOW, 1000))).batches).toBe(0);
    const [finding] = await nonpublic();
    expect(finding).toMatchObject({ count: 3, personId: clerk, status: 'open', firstSeen: new Date(minute(1)), lastSeen: new Date(minute(3)) });
  });

  it('acknowledges and resolves a finding with who, when and why; an acknowledged one keeps counting, a resolved one stays closed', async () => {
    const [finding] = await nonpublic();
    const ack = await h.call('POST', `/v1/findings/${finding!.id}/status`, { status: 'acknowledged', note: 'asked the Hachinohe office' });
    expect(ack).toMatchObject({ status: 200, body: { id: finding!.id, status: 'acknowledged', statusNote: 'asked the Hachinohe office', statusChangedAt: NOW.toISOString(), statusChangedBy: expect.stringMatching(/^token:/) } });

    await h.post([peek(4)]);
    await h.scan(NOW);
    expect((await nonpublic()).map((f) => [f.status, f.count])).toEqual([['acknowledged', 4]]);

    const resolved = await h.call('POST', `/v1/findings/${finding!.id}/status`, { status: 'resolved', note: 'terminal moved, staff retrained' });
    expect(resolved).toMatchObject({ status: 200, body: { status: 'resolved', statusNote: 'terminal moved, staff retrained' } });
    const audit = await h.database.db.select().from(auditRecords).where(eq(auditRecords.subjectId, finding!.id));
    expect(audit.map((r) => [r.action, r.data.note])).toEqual([
      ['finding.acknowledged', 'asked the Hachinohe office'],
      ['finding.resolved', 'terminal moved, staff retrained'],
    ]);

    // It happens again: a new finding, the resolved one untouched.
    await h.post([peek(5)]);
    await h.scan(NOW);
    expect((await nonpublic()).map((f) => [f.status, f.count])).toEqual([
      ['resolved', 4],
      ['open', 1],
    ]);
  });

  it('refuses status changes it cannot make, with problems, and changes nothing', async () => {
    const [resolved, open] = await nonpublic();
    const before = await h.database.db.select().from(findings);
    const auditBefore = await h.database.db.$count(auditRecords);
    const tries: [string, unknown, string?][] = [
      [`/v1/findings/${resolved!.id}/status`, { status: 'acknowledged', note: 'reopen?' }],
      [`/v1/findings/${resolved!.id}/status`, { status: 'resolved', note: 'again' }],
      [`/v1/findings/00000000-0000-4000-8000-000000000000/status`, { status: 'resolved', note: 'x' }],
      [`/v1/findings/not-a-uuid/status`, { status: 'resolved', note: 'x' }],
      [`/v1/findings/${open!.id}/status`, { status: 'open', note: 'x' }],
      [`/v1/findings/${open!.id}/status`, { status: 'resolved' }],
      [`/v1/findings/${open!.id}/status`, { status: 'resolved', note: '   ' }],
      [`/v1/findings/${open!.id}/status`, { status: 'resolved', note: 'x', by: 'someone' }],
      [`/v1/findings/${open!.id}/status`, { status: 'resolved', note: 'x' }, h.logsToken],
    ];
    const statuses = [];
    for (const [path, body, token] of tries) {
      const res = await h.call('POST', path, body, token);
      statuses.push(res.status);
      expect(res.body).toMatchObject({ status: res.status, title: expect.any(String) });
    }
    expect(statuses).toEqual([409, 409, 404, 400, 400, 400, 400, 400, 403]);
    expect(await h.database.db.select().from(findings)).toEqual(before);
    expect(await h.database.db.$count(auditRecords)).toBe(auditBefore);
  });

  it('refuses report requests it cannot answer, with problems', async () => {
    const q = (s: string) => encodeURIComponent(s);
    const [from, to] = [q('2026-10-01T00:00:00+09:00'), q('2026-11-01T00:00:00+09:00')];
    const tries: [string, number, string?][] = [
      [`/v1/reports/nonpublic-access?from=${to}&to=${from}`, 400],
      [`/v1/reports/nonpublic-access?from=${from}`, 400],
      [`/v1/reports/nonpublic-access?from=2026-10-01&to=${to}`, 400],
      [`/v1/reports/nonpublic-access?from=${from}&to=${to}&format=xlsx`, 400],
      [`/v1/reports/nonpublic-access?from=${from}&to=${to}&viewer=x`, 400],
      [`/v1/reports/exposure?from=${from}&to=${to}`, 400],
      [`/v1/reports/exposure?from=${from}&to=${to}&customerId=${q('C 1')}`, 400],
      [`/v1/reports/nonpublic-access?from=${from}&to=${to}`, 403, h.logsToken],
      [`/v1/reports/exposure?from=${from}&to=${to}&system=takuso`, 401, 'not-a-valid-token-at-all'],
    ];
    const statuses = [];
    for (const [path, , token] of tries) {
      const res = await h.get(path, token);
      statuses.push(res.status);
      expect(res.body).toMatchObject({ status: res.status, type: expect.stringMatching(/^https:\/\/sekisho\.dev\/problems\//) });
    }
    expect(statuses).toEqual(tries.map(([, status]) => status));
    expect((await h.get(`/v1/reports/nonpublic-access?from=${from}&to=${to}`)).status).toBe(200);
  });

  // Two transactions committing out of order need two connections: PostgreSQL only.
  it.skipIf(!onPostgres)('scans a batch that commits after a later one did', async () => {
    const db = h.database.db;
    const scanned = async () =>
      (await queryRows<{ id: number }>(db, sql`select id from access_log_batches where scanned_at is not null order by id`)).map((r) => Number(r.id));
    let late = 0;
    await withTx(db, async (tx) => {
      // A slow intake: its batch id is taken, its commit comes last.
      const [row] = await queryRows<{ id: number }>(
        tx,
        sql`insert into access_log_batches (body_sha256, accepted, min_at, max_at, received_at, received_by)
            values ('slow', 1, ${minute(10)}, ${minute(10)}, ${NOW.toISOString()}, 'test') returning id`,
      );
      late = Number(row!.id);
      await tx.execute(sql`insert into access_events (at, batch_id, seq, nonpublic, system, action, person_id, company_code, rules_company, rules_kind, breaches)
        values (${minute(10)}, ${late}, 0, true, 'takuso', 'view', ${clerk}, 'ep', 'ep', 'retail', array['nonpublic-viewed-by-non-wheeling'])`);
      const quick = await h.post([peek(11)]);
      await h.scan(NOW);
      expect(await scanned()).toContain(Number(quick.body.batchId));
      expect(await scanned()).not.toContain(late);
    });
    await h.scan(NOW);
    expect(await scanned()).toContain(late);
    expect((await nonpublic()).at(-1)).toMatchObject({ status: 'open', count: 3 });
  });

  // A second replica needs a second connection while the first scan is open: PostgreSQL only.
  it.skipIf(!onPostgres)('a replica that finds another one scanning leaves the batches to it', async () => {
    await h.post([peek(20)]);
    const result = await withTx(h.database.db, async (tx) => {
      const mine = await scanAccessLogs({ db: tx, now: NOW });
      const other = await scanAccessLogs({ db: h.database.db, now: NOW });
      return { mine, other };
    });
    expect(result.mine.batches).toBe(1);
    expect(result.other).toMatchObject({ ran: false, batches: 0 });
  });
});
