import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putBirthrightRule } from '../../src/access/birthright.js';
import { putEntitlement } from '../../src/access/catalog.js';
import { createGrant, listPersonGrants } from '../../src/access/grants.js';
import { verifyAudit } from '../../src/audit/chain.js';
import type { Db } from '../../src/db/client.js';
import { applyDueEvents } from '../../src/hr/jobs.js';
import { makeTakuso } from '../support/access.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { at, hire, makeUtilityGroup, plusMs, T0, transfer } from '../support/factories.js';
import { startTestServer, type TestServer } from '../support/http.js';

const activeEntitlements = async (db: Db, personId: string, now: Date) =>
  (await listPersonGrants(db, personId, now))
    .filter((g) => g.status === 'active')
    .map((g) => g.entitlement)
    .sort();

describe('birthright: what a company gives everyone who joins or moves in', () => {
  let database: TestDatabase;
  let server: TestServer;
  const T = at('2027-04-01T00:00:00+09:00');

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    await makeUtilityGroup(db);
    await makeTakuso(db);
    await putEntitlement({ db, now: T0, actor: 'test', code: 'retail-crm', system: 'takuso', name: 'Retail CRM', allowedCompanyKinds: ['retail'] });
    await putEntitlement({ db, now: T0, actor: 'test', code: 'takuso-dispatch', system: 'takuso', name: 'Dispatch', allowedCompanyKinds: ['wheeling'] });
    await putBirthrightRule({ db, now: T0, actor: 'test', code: 'nw-operators', company: 'nw', entitlement: 'takuso-operator' });
    await putBirthrightRule({ db, now: T0, actor: 'test', code: 'nw-dispatch', company: 'nw', orgUnit: 'dispatch', entitlement: 'takuso-dispatch' });
    await putBirthrightRule({ db, now: T0, actor: 'test', code: 'ep-crm', company: 'ep', entitlement: 'retail-crm' });
    // The contractor acts for the wheeling company, so the wheeling-only entitlement is allowed to it.
    await putBirthrightRule({ db, now: T0, actor: 'test', code: 'nw-sys-operators', company: 'nw-sys', entitlement: 'takuso-operator' });
    server = await startTestServer(database, { now: T0 });
  });
  afterAll(async () => {
    await server.close();
    await database.close();
  });

  it("gives a hire their company's rules, and their org unit's only when they are in it", async () => {
    const { db } = database;
    const dispatcher = await hire(db, { company: 'nw', orgUnit: 'dispatch', at: T0 });
    const clerk = await hire(db, { company: 'nw', orgUnit: 'billing', at: T0 });
    const contractor = await hire(db, { company: 'nw-sys', at: T0 });
    expect(await activeEntitlements(db, dispatcher, T0)).toEqual(['takuso-dispatch', 'takuso-operator']);
    expect(await activeEntitlements(db, clerk, T0)).toEqual(['takuso-operator']);
    expect(await activeEntitlements(db, contractor, T0)).toEqual(['takuso-operator']);
  });

  it("moves a transferred person's access with them: the wheeling grants go, retail's arrive, at the transfer's instant", async () => {
    const { db } = database;
    const mover = await hire(db, { company: 'nw', orgUnit: 'dispatch', at: T0 });
    await transfer(db, { personId: mover, company: 'ep', orgUnit: 'sales', at: T, now: T0 });
    expect(await activeEntitlements(db, mover, plusMs(T, -1))).toEqual(['takuso-dispatch', 'takuso-operator']);
    await applyDueEvents({ db, now: T });
    expect(await activeEntitlements(db, mover, T)).toEqual(['retail-crm']);
    const crm = (await listPersonGrants(db, mover, T)).find((g) => g.entitlement === 'retail-crm')!;
    expect(crm).toMatchObject({ reason: 'birthright:ep-crm', grantedBy: 'system:hr', validFrom: T });
  });

  it('does not grant twice what a person already holds', async () => {
    const { db } = database;
    const person = await hire(db, { company: 'ep', at: T0 });
    expect(await activeEntitlements(db, person, T0)).toEqual(['retail-crm']);
    await createGrant({ db, now: T0, actor: 'test', personId: person, entitlement: 'takuso-switching', reason: 'switching support' });
    // Moving within retail (ep → new entrant and back) re-runs the rules.
    await transfer(db, { personId: person, company: 'shinden-a', at: plusMs(T0, 1000) });
    await transfer(db, { personId: person, company: 'ep', at: plusMs(T0, 2000) });
    const grants = (await listPersonGrants(db, person, plusMs(T0, 2000))).filter((g) => g.status === 'active' && g.entitlement === 'retail-crm');
    expect(grants).toHaveLength(1);
  });

  it('provisions nothing across the firewall even when an entitlement is narrowed after its rule was made', async () => {
    const { db } = database;
    await putEntitlement({ db, now: T0, actor: 'test', code: 'retail-crm', system: 'takuso', name: 'Retail CRM', allowedCompanyKinds: ['wheeling'] });
    try {
      const person = await hire(db, { company: 'ep', at: T0 });
      expect(await activeEntitlements(db, person, T0)).toEqual([]);
    } finally {
      await putEntitlement({ db, now: T0, actor: 'test', code: 'retail-crm', system: 'takuso', name: 'Retail CRM', allowedCompanyKinds: ['retail'] });
    }
  });

  it('refuses a rule that would give retail a wheeling-only entitlement, with a firewall problem, storing nothing', async () => {
    const res = await fetch(`${server.url}/v1/birthright-rules/ep-operators`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ company: 'ep', entitlement: 'takuso-operator' }),
    });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(((await res.json()) as { type: string }).type).toMatch(/\/firewall$/);
    const list = (await (await fetch(`${server.url}/v1/birthright-rules`, { headers: { authorization: `Bearer ${server.adminToken}` } })).json()) as {
      items: { code: string }[];
    };
    expect(list.items.map((r) => r.code)).not.toContain('ep-operators');
  });

  it('manages rules over HTTP: created, listed, removed, unknown names refused', async () => {
    const put = (code: string, body: unknown) =>
      fetch(`${server.url}/v1/birthright-rules/${code}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const created = await put('ep-switching', { company: 'ep', orgUnit: 'switching', entitlement: 'takuso-switching' });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ code: 'ep-switching', company: 'ep', orgUnit: 'switching', entitlement: 'takuso-switching' });
    expect((await put('ep-switching', { company: 'ep', entitlement: 'takuso-switching' })).status).toBe(200);
    expect((await put('x', { company: 'nobody', entitlement: 'takuso-switching' })).status).toBe(422);
    expect((await put('x', { company: 'ep', entitlement: 'nothing' })).status).toBe(422);
    expect((await put('x', { company: 'ep', entitlement: 'takuso-switching', extra: 1 })).status).toBe(400);
    const del = (code: string) => fetch(`${server.url}/v1/birthright-rules/${code}`, { method: 'DELETE', headers: { authorization: `Bearer ${server.adminToken}` } });
    expect((await del('ep-switching')).status).toBe(204);
    expect((await del('ep-switching')).status).toBe(404);
    const hrOnly = await server.token('hr');
    const forbidden = await fetch(`${server.url}/v1/birthright-rules`, { headers: { authorization: `Bearer ${hrOnly}` } });
    expect(forbidden.status).toBe(403);
    expect(await verifyAudit(database.db)).toMatchObject({ ok: true });
  });
});
