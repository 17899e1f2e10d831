import { count, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrant } from '../../src/access/grants.js';
import { decisionLog } from '../../src/access/schema.js';
import { auditRecords } from '../../src/audit/schema.js';
import { queryRows } from '../../src/db/client.js';
import { makeTakuso } from '../support/access.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { at, hire, makeUtilityGroup, plusMs, T0 } from '../support/factories.js';
import { startTestServer, type TestServer } from '../support/http.js';

const NOW = at('2026-10-01T10:00:00+09:00');
const ALL = ['supplyPoint', 'supplyAddress', 'holderName', 'phone', 'usage', 'loadEquipment', 'retailerName'];

interface DecisionOut {
  decision: 'permit' | 'deny';
  fields: Record<string, 'allow' | 'mask'>;
  reasons: string[];
  decisionId: string;
}

describe('POST /v1/decisions and /v1/decisions:batch', () => {
  let database: TestDatabase;
  let server: TestServer;
  let decideToken: string;
  const people: Record<string, string> = {};

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    await makeUtilityGroup(db);
    await makeTakuso(db);
    people.nwOperator = await hire(db, { company: 'nw', at: T0 });
    await createGrant({ db, now: T0, actor: 'test', personId: people.nwOperator, entitlement: 'takuso-operator', reason: 'test' });
    people.epClerk = await hire(db, { company: 'ep', at: T0 });
    await createGrant({ db, now: T0, actor: 'test', personId: people.epClerk, entitlement: 'takuso-switching', reason: 'test' });
    server = await startTestServer(database, { now: NOW });
    decideToken = await server.token('decide');
  });
  afterAll(async () => {
    await server.close();
    await database.close();
  });

  const post = (path: string, body: unknown, token: string | null = decideToken) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const ask = (personId: string, terminalId: string, record: Record<string, unknown>, fields = ALL) => ({
    personId,
    terminalId,
    system: 'takuso',
    record: { customerId: 'C1', ...record },
    fields,
  });
  const allowed = (d: DecisionOut) => Object.keys(d.fields).filter((f) => d.fields[f] === 'allow').sort();

  /** What a rejected request must leave untouched: the decision log and the whole audit chain. */
  const logState = async () => {
    const [decisions] = await database.db.select({ n: count() }).from(decisionLog);
    const [audit] = await database.db.select({ n: count(), maxSeq: sql<number>`coalesce(max(${auditRecords.seq}), 0)::int` }).from(auditRecords);
    return { decisions: Number(decisions!.n), audit: Number(audit!.n), maxSeq: Number(audit!.maxSeq) };
  };
  const batchAuditFor = async (firstId: string) =>
    queryRows<{ data: { count: number; firstId: string; lastId: string; digest: string } }>(
      database.db,
      sql`select data from audit_records where action = 'decision.batch' and data->>'firstId' = ${firstId}`,
    );

  it('answers a decision with its id only once it is in the decision log, covered by a decision.batch audit record', async () => {
    const res = await post('/v1/decisions', ask(people.epClerk!, 'T-EP-01', { retailer: 'ep', area: 'aomori' }, [...ALL, 'myNumber']));
    expect(res.status).toBe(200);
    const d = (await res.json()) as DecisionOut;
    expect(d.decision).toBe('permit');
    expect(d.decisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(allowed(d)).toEqual(['holderName', 'phone', 'supplyAddress', 'supplyPoint', 'usage']);
    expect(d.fields).toMatchObject({ loadEquipment: 'mask', retailerName: 'mask', myNumber: 'mask' });

    const [row] = await database.db.select().from(decisionLog).where(eq(decisionLog.id, d.decisionId));
    expect(row).toMatchObject({ personId: people.epClerk, terminalId: 'T-EP-01', system: 'takuso', customerId: 'C1', retailer: 'ep', area: 'aomori', decision: 'permit' });
    expect(row!.at.toISOString()).toBe(NOW.toISOString());
    expect([...row!.allowed].sort()).toEqual(allowed(d));
    expect([...row!.masked].sort()).toEqual(['loadEquipment', 'myNumber', 'retailerName']);
    expect(row!.caller).toMatch(/^token:/);

    const audits = await batchAuditFor(d.decisionId);
    expect(audits).toHaveLength(1);
    expect(audits[0]!.data).toMatchObject({ count: 1, firstId: d.decisionId, lastId: d.decisionId });
    expect(audits[0]!.data.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers a batch of three in request order, each logged, under one audit record counting three', async () => {
    const items = [
      ask(people.nwOperator!, 'T-NW-01', { retailer: 'shinden-a' }),
      ask(people.epClerk!, 'T-NW-01', { retailer: 'shinden-a' }),
      ask(people.epClerk!, 'T-EP-01', { retailer: 'shinden-a' }),
    ];
    const res = await post('/v1/decisions:batch', { items });
    expect(res.status).toBe(200);
    const out = ((await res.json()) as { items: DecisionOut[] }).items;
    expect(out).toHaveLength(3);
    expect(out[0]!.decision).toBe('permit');
    expect(allowed(out[0]!)).toEqual([...ALL].sort());
    expect(out[1]!.decision).toBe('deny');
    expect(out[1]!.reasons).toEqual(['terminal-company-mismatch']);
    expect(allowed(out[1]!)).toEqual([]);
    expect(out[2]!.decision).toBe('permit');
    expect(allowed(out[2]!)).toEqual(['supplyAddress', 'supplyPoint']);

    const ids = out.map((o) => o.decisionId);
    expect(new Set(ids).size).toBe(3);
    const rows = await database.db.select().from(decisionLog).where(inArray(decisionLog.id, ids));
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(ids.map((id) => [byId.get(id)?.personId, byId.get(id)?.terminalId, byId.get(id)?.decision])).toEqual([
      [people.nwOperator, 'T-NW-01', 'permit'],
      [people.epClerk, 'T-NW-01', 'deny'],
      [people.epClerk, 'T-EP-01', 'permit'],
    ]);
    const audits = await batchAuditFor(ids[0]!);
    expect(audits).toHaveLength(1);
    expect(audits[0]!.data).toMatchObject({ count: 3, firstId: ids[0], lastId: ids[2] });
  });

  it('refuses a request without a token (401) and a token without the decide scope (403), logging nothing', async () => {
    const adminOnly = await server.token('admin');
    const before = await logState();
    const body = ask(people.nwOperator!, 'T-NW-01', { retailer: 'ep' });
    for (const path of ['/v1/decisions', '/v1/decisions:batch']) {
      const payload = path.endsWith(':batch') ? { items: [body] } : body;
      const anonymous = await post(path, payload, null);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await post(path, payload, 'sks_not-a-real-token-at-all')).status).toBe(401);
      const forbidden = await post(path, payload, adminOnly);
      expect(forbidden.status).toBe(403);
      expect(forbidden.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    expect(await logState()).toEqual(before);
  });

  describe('rejects malformed requests with 400 and logs nothing', () => {
    const good = () => ask(people.nwOperator!, 'T-NW-01', { retailer: 'ep' });
    const cases: [string, string, () => unknown][] = [
      ['an unknown top-level property', '/v1/decisions', () => ({ ...good(), screen: 'customer-detail' })],
      ['an unknown property in the record', '/v1/decisions', () => ({ ...good(), record: { customerId: 'C1', retailer: 'ep', contractState: 'x' } })],
      ['no personId', '/v1/decisions', () => ({ ...good(), personId: undefined })],
      ['no system', '/v1/decisions', () => ({ ...good(), system: undefined })],
      ['no fields', '/v1/decisions', () => ({ ...good(), fields: undefined })],
      ['no record', '/v1/decisions', () => ({ ...good(), record: undefined })],
      ['zero fields', '/v1/decisions', () => ({ ...good(), fields: [] })],
      ['501 fields', '/v1/decisions', () => ({ ...good(), fields: Array.from({ length: 501 }, (_, i) => `f${i}`) })],
      ['a malformed field name', '/v1/decisions', () => ({ ...good(), fields: ['holder name'] })],
      ['an empty batch', '/v1/decisions:batch', () => ({ items: [] })],
      ['10,001 batch items', '/v1/decisions:batch', () => ({ items: Array.from({ length: 10_001 }, good) })],
      ['a batch with one bad item among good ones', '/v1/decisions:batch', () => ({ items: [good(), { ...good(), fields: [] }, good()] })],
      ['an unknown property next to items', '/v1/decisions:batch', () => ({ items: [good()], dryRun: true })],
    ];
    it.each(cases)('%s', async (_name, path, body) => {
      const before = await logState();
      const res = await post(path, body());
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const problem = (await res.json()) as { status: number; errors?: unknown[] };
      expect(problem.status).toBe(400);
      expect(problem.errors?.length).toBeGreaterThan(0);
      expect(await logState()).toEqual(before);
    });

    it('500 fields and 10,000 batch items are still accepted', async () => {
      const wide = await post('/v1/decisions', { ...good(), fields: Array.from({ length: 500 }, (_, i) => `f${i}`) });
      expect(wide.status).toBe(200);
      const full = await post('/v1/decisions:batch', { items: Array.from({ length: 10_000 }, good) });
      expect(full.status).toBe(200);
      expect(((await full.json()) as { items: unknown[] }).items).toHaveLength(10_000);
    });
  });

  it('denies on the very next decision once a grant is revoked through DELETE /v1/grants/{id}', async () => {
    const person = await hire(database.db, { company: 'nw', at: T0 });
    server.setNow(NOW);
    const admin = server.adminToken;
    const granted = await post('/v1/grants', { personId: person, entitlement: 'takuso-operator', reason: 'shift cover' }, admin);
    expect(granted.status).toBe(201);
    const grant = (await granted.json()) as { id: string };

    server.setNow(plusMs(NOW, 60_000));
    const req = ask(person, 'T-NW-01', { retailer: 'shinden-a' });
    const before = (await (await post('/v1/decisions', req)).json()) as DecisionOut;
    expect(before.decision).toBe('permit');
    expect(before.fields.holderName).toBe('allow');

    server.setNow(plusMs(NOW, 120_000));
    const revoked = await fetch(`${server.url}/v1/grants/${grant.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { status: string }).status).toBe('revoked');

    const after = (await (await post('/v1/decisions', req)).json()) as DecisionOut;
    expect(after.decision).toBe('deny');
    expect(after.reasons).toEqual(['no-grant']);
    expect(allowed(after)).toEqual([]);
    server.setNow(NOW);
  });
});
