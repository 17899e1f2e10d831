import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRecords } from '../../src/audit/schema.js';
import { verifyAudit } from '../../src/audit/chain.js';
import { accessEvents } from '../../src/detection/schema.js';
import { makeTakuso } from '../support/access.js';
import { onPostgres } from '../support/db.js';
import { at, hire, makeUtilityGroup, T0 } from '../support/factories.js';
import { logged, startHarness, type Harness } from './access-support.js';

const NOW = at('2026-10-20T12:00:00+09:00');

describe('POST /v1/access-logs', () => {
  let h: Harness;
  let clerk: string;
  const ev = (i: number, extra: Record<string, unknown> = {}) =>
    logged({ at: new Date(at('2026-10-19T09:00:00+09:00').getTime() + i * 1000).toISOString(), personId: clerk, terminalId: 'T-EP-01', customerId: `C${i}`, retailer: 'ep', fields: ['supplyPoint'], ...extra });

  beforeAll(async () => {
    h = await startHarness(NOW, async ({ db }) => {
      await makeUtilityGroup(db);
      await makeTakuso(db);
      clerk = await hire(db, { company: 'ep', at: T0 });
    });
  });
  afterAll(() => h.close());

  /** Posts, expects a problem with this status, and checks nothing was stored. */
  const refused = async (status: number, body: unknown[] | string, opts: Parameters<Harness['post']>[1] = {}) => {
    const before = await h.counts();
    const res = await h.post(body, opts);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status, type: expect.stringMatching(/^https:\/\/sekisho\.dev\/problems\//) });
    expect(await h.counts()).toEqual(before);
    return res.body as { code: string; detail: string; errors?: { path: string; message: string }[] };
  };

  it('accepts a JSON array and NDJSON alike, answering 202 only once the events are stored', async () => {
    const before = await h.counts();
    const json = await h.post([ev(1), ev(2)]);
    expect(json).toMatchObject({ status: 202, body: { accepted: 2, batchId: expect.stringMatching(/^\d+$/) } });
    const ndjson = await h.post([ev(3), ev(4), ev(5)], { ndjson: true });
    expect(ndjson).toMatchObject({ status: 202, body: { accepted: 3 } });
    // CRLF lines and blank lines are fine in NDJSON.
    const crlf = await h.post(`${JSON.stringify(ev(6))}\r\n\r\n${JSON.stringify(ev(7))}\r\n`, { ndjson: true });
    expect(crlf).toMatchObject({ status: 202, body: { accepted: 2 } });
    expect((await h.counts()).events).toBe(before.events + 7);
    const stored = await h.database.db.select().from(accessEvents).where(eq(accessEvents.batchId, Number(json.body.batchId)));
    expect(stored.map((e) => [e.seq, e.customerId, e.personId, e.companyCode, e.terminalCompany, e.site, e.nonpublic])).toEqual([
      [0, 'C1', clerk, 'ep', 'ep', '八戸営業所', false],
      [1, 'C2', clerk, 'ep', 'ep', '八戸営業所', false],
    ]);
  });

  it('takes a gzip-compressed body', async () => {
    const body = Buffer.from([ev(8), ev(9)].map((e) => JSON.stringify(e)).join('\n'));
    const res = await fetch(`${h.server.url}/v1/access-logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.logsToken}`, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
      body: gzipSync(body),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 2 });
  });

  it('records each accepted batch in the audit chain with the digest of the body as received', async () => {
    const text = JSON.stringify([ev(10)]);
    const res = await h.post(text);
    const [last] = await h.database.db.select().from(auditRecords).where(eq(auditRecords.action, 'access-log.accepted')).orderBy(desc(auditRecords.seq)).limit(1);
    expect(last).toMatchObject({ subjectType: 'access-log-batch', subjectId: res.body.batchId, actor: expect.stringMatching(/^token:/) });
    expect(last!.data).toMatchObject({ accepted: 1, sha256: createHash('sha256').update(text).digest('hex') });
    expect(await verifyAudit(h.database.db)).toMatchObject({ ok: true });
  });

  it('refuses the whole batch when one event is not valid, naming each bad event by its index, and stores nothing', async () => {
    const problem = await refused(400, [
      ev(1),
      ev(2, { at: '2026-02-30T10:00:00+09:00' }),
      ev(3, { shoeSize: 42 }),
      ev(4, { personId: undefined }),
      ev(5, { fields: 'holderName' }),
      ev(6, { at: '2026-10-19 10:00' }),
      ev(7, { at: '2026-10-23T10:00:00+09:00' }),
      ev(8, { system: 'takuso system' }),
      ev(9, { customerId: 'C\u0000' }),
    ]);
    expect(problem.code).toBe('request.invalid');
    expect(problem.detail).toMatch(/^8 of 9 events are not valid/);
    expect(problem.errors!.map((e) => e.path)).toEqual(['/1/at', '/2', '/3/personId', '/4/fields', '/5/at', '/6/at', '/7/system', '/8/customerId']);
    expect(problem.errors!.find((e) => e.path === '/2')!.message).toBe('unknown field(s): shoeSize');
    expect(problem.errors!.find((e) => e.path === '/6/at')!.message).toMatch(/ahead of Sekisho/);
  });

  it('names the line of broken NDJSON, and refuses two events on one line', async () => {
    const broken = await refused(400, `${JSON.stringify(ev(1))}\n\n{"at": "2026-10-19T09:00:00Z", \n`, { ndjson: true });
    expect(broken.errors).toEqual([{ path: '/1', message: 'not one JSON value' }]);
    expect(broken.detail).toContain('line 3');
    const twoOnOneLine = await refused(400, `${JSON.stringify(ev(1))},${JSON.stringify(ev(2))}\n${JSON.stringify(ev(3))}\n`, { ndjson: true });
    expect(twoOnOneLine.errors).toEqual([{ path: '/0', message: 'not one JSON value' }]);
  });

  it('refuses bodies that are not a batch of events', async () => {
    expect((await refused(400, '{"at": "2026-10-19T09:00:00Z"}')).errors).toEqual([{ path: '', message: 'not an array' }]);
    await refused(400, '[');
    await refused(400, []);
    await refused(400, '', { ndjson: true });
    await refused(415, [ev(1)], { contentType: 'text/plain' });
    await refused(415, [ev(1)], { contentType: 'application/json; charset=iso-8859-1' });
  });

  it('refuses a body that is not UTF-8', async () => {
    const before = await h.counts();
    const res = await fetch(`${h.server.url}/v1/access-logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.logsToken}`, 'content-type': 'application/json' },
      body: Buffer.concat([Buffer.from('[{"at":"2026-10-19T09:00:00Z","system":"takuso","personId":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","action":"view"}]')]),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain('UTF-8');
    expect(await h.counts()).toEqual(before);
  });

  it('refuses events of a system Sekisho does not know with 422', async () => {
    const problem = await refused(422, [ev(1), ev(2, { system: 'billing' })]);
    expect(problem.code).toBe('access-log.unknown-system');
    expect(problem.detail).toContain('billing');
  });

  it('refuses more than 100,000 events in one request with 413', async () => {
    const lines = `${JSON.stringify(ev(1))}\n`.repeat(100_001);
    const problem = await refused(413, lines, { ndjson: true });
    expect(problem.code).toBe('access-log.too-many-events');
  });

  it('needs a token with the logs scope', async () => {
    await refused(401, [ev(1)], { token: 'not-a-valid-token-at-all' });
    await refused(403, [ev(1)], { token: h.auditToken });
  });

  it('answers a re-delivered batch id as before and stores nothing twice', async () => {
    const batch = [ev(20), ev(21), ev(22)];
    const first = await h.post(batch, { key: 'takuso:2026-10-19/0001' });
    expect(first).toMatchObject({ status: 202, body: { accepted: 3, batchId: 'takuso:2026-10-19/0001' } });
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const before = await h.counts();
    const again = await h.post(batch, { key: 'takuso:2026-10-19/0001' });
    expect(again).toMatchObject({ status: 202, body: first.body });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await h.counts()).toEqual(before);
  });

  it('refuses a batch id used before for different events, and a malformed batch id', async () => {
    await h.post([ev(30)], { key: 'takuso:2026-10-19/0002' });
    const problem = await refused(422, [ev(31)], { key: 'takuso:2026-10-19/0002' });
    expect(problem.code).toBe('access-log.idempotency-key-reused');
    const bad = await refused(400, [ev(32)], { key: 'x'.repeat(201) });
    expect(bad.errors![0]!.path).toBe('/headers/idempotency-key');
  });

  it('stores one batch when the same batch id is delivered several times at once', async () => {
    const batch = [ev(40), ev(41)];
    const before = await h.counts();
    const answers = await Promise.all(Array.from({ length: 4 }, () => h.post(batch, { key: 'takuso:race' })));
    expect(answers.map((a) => [a.status, a.body.accepted, a.body.batchId])).toEqual(Array(4).fill([202, 2, 'takuso:race']));
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    const after = await h.counts();
    expect([after.events - before.events, after.batches - before.batches]).toEqual([2, 1]);
  });

  // Concurrent requests only interleave on PostgreSQL; PGlite runs one transaction at a time.
  it.skipIf(!onPostgres)('keeps concurrent batches apart and whole', async () => {
    const before = await h.counts();
    const batches = Array.from({ length: 6 }, (_, b) => Array.from({ length: 500 }, (_, i) => ev(1000 * (b + 1) + i)));
    const answers = await Promise.all(batches.map((batch, b) => h.post(batch, { ndjson: b % 2 === 0 })));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(202));
    expect((await h.counts()).events - before.events).toBe(3000);
  });
});

describe('the published API', () => {
  it('describes the access-log, finding-status and report endpoints in /openapi.json', async () => {
    const h = await startHarness(NOW, async () => {});
    try {
      const res = await fetch(`${h.server.url}/openapi.json`);
      expect(res.status).toBe(200);
      const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/access-logs', '/v1/findings/{id}/status', '/v1/reports/nonpublic-access', '/v1/reports/exposure']));
      expect(doc.paths['/v1/access-logs']).toHaveProperty('post');
    } finally {
      await h.close();
    }
  });
});
