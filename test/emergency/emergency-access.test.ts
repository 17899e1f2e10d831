import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrant } from '../../src/access/grants.js';
import { findings } from '../../src/detection/schema.js';
import { putRosterMember } from '../../src/emergency/roster.js';
import { endExpiredEmergencies } from '../../src/emergency/declarations.js';
import { makeTakuso } from '../support/access.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { at, hire, makeUtilityGroup, T0 } from '../support/factories.js';
import { startTestServer, type TestServer } from '../support/http.js';

const NOW = at('2026-10-01T03:00:00+09:00');
const mins = (n: number) => new Date(NOW.getTime() + n * 60_000);

describe('disaster-time access exists only while an emergency is declared', () => {
  let database: TestDatabase;
  let server: TestServer;
  let member: string;
  let grantedMember: string;
  let deciderToken: string;
  let desk: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    await makeUtilityGroup(db);
    await makeTakuso(db);
    // A retail employee on the disaster-support roster for Aomori: no grant on takuso at all.
    member = await hire(db, { company: 'ep', at: T0 });
    await putRosterMember({ db, now: T0, actor: 'test', personId: member, areas: ['aomori'], contractRef: 'DS-2026-01' });
    // Another one who also holds the everyday switching-support grant.
    grantedMember = await hire(db, { company: 'ep', at: T0 });
    await createGrant({ db, now: T0, actor: 'test', personId: grantedMember, entitlement: 'takuso-switching', reason: 'switching support' });
    await putRosterMember({ db, now: T0, actor: 'test', personId: grantedMember, areas: ['aomori'], contractRef: 'DS-2026-01' });
    server = await startTestServer(database, { now: NOW });
    deciderToken = await server.token('decide');
    desk = await server.token('emergency');
  });
  afterAll(async () => {
    await server.close();
    await database.close();
  });

  const call = (method: string, path: string, token: string, body?: unknown) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  const decideFor = async (area: string, personId = member) => {
    const res = await call('POST', '/v1/decisions', deciderToken, {
      personId,
      terminalId: 'T-EP-01',
      system: 'takuso',
      record: { customerId: `C-${area}`, retailer: 'shinden-a', area },
      fields: ['supplyPoint', 'holderName', 'phone', 'usage', 'loadEquipment'],
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { decision: string; fields: Record<string, string>; reasons: string[]; decisionId: string };
  };
  const declare = async (durationMinutes: number) => {
    const res = await call('POST', '/v1/emergencies', desk, { areas: ['aomori'], reason: '豪雨災害', durationMinutes });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; status: string; expiresAt: string };
  };

  it('denies a roster member before any declaration and raises the emergency-access-outside-emergency finding', async () => {
    const d = await decideFor('aomori');
    expect(d.decision).toBe('deny');
    expect(d.reasons).toEqual(['emergency-not-active']);
    await decideFor('aomori');
    const rows = await database.db.select().from(findings).where(eq(findings.rule, 'emergency-access-outside-emergency'));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ personId: member, count: 2, status: 'open' });
    // Compliance reads it over HTTP with the audit scope; a decision token may not.
    const listed = await call('GET', `/v1/findings?status=open&rule=emergency-access-outside-emergency&personId=${member}`, await server.token('audit'));
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: unknown[] }).items).toEqual([expect.objectContaining({ id: rows[0]!.id, count: 2, severity: 'high' })]);
    expect((await call('GET', '/v1/findings', deciderToken)).status).toBe(403);
    expect((await call('GET', '/v1/findings?status=closed', await server.token('audit'))).status).toBe(400);
  });

  it('permits exactly the emergency field set during the emergency, in its area only, and reports exactly those decisions', async () => {
    server.setNow(mins(1));
    const e = await declare(60);
    expect(e.status).toBe('active');
    server.setNow(mins(2));
    const during = await decideFor('aomori');
    expect(during.decision).toBe('permit');
    expect(during.fields).toEqual({ supplyPoint: 'allow', holderName: 'allow', phone: 'allow', usage: 'mask', loadEquipment: 'mask' });
    expect(during.reasons).toEqual(['emergency']);
    // A grant does not change the emergency set; the reasons name both bases.
    const withGrant = await decideFor('aomori', grantedMember);
    expect(withGrant.fields).toEqual(during.fields);
    expect(withGrant.reasons).toEqual(['grant', 'emergency']);
    const elsewhere = await decideFor('iwate');
    expect(elsewhere.decision).toBe('deny');

    server.setNow(mins(3));
    const ended = await call('POST', `/v1/emergencies/${e.id}/end`, desk);
    expect(ended.status).toBe(200);
    expect(await ended.json()).toMatchObject({ id: e.id, status: 'ended', endedAt: mins(3).toISOString() });
    const after = await decideFor('aomori');
    expect(after.decision).toBe('deny');

    const report = (await (await call('GET', `/v1/emergencies/${e.id}/report`, desk)).json()) as { decisions: { decisionId: string }[] };
    expect(report.decisions.map((d) => d.decisionId).sort()).toEqual([during.decisionId, withGrant.decisionId].sort());
    const csv = await (await call('GET', `/v1/emergencies/${e.id}/report?format=csv`, desk)).text();
    expect(csv.trim().split('\r\n')).toHaveLength(3);
    expect(csv).toContain(during.decisionId);
  });

  it('denies the instant an emergency expires, with no job run, and the job then records the end once', async () => {
    server.setNow(mins(10));
    const e = await declare(5);
    server.setNow(mins(14));
    expect((await decideFor('aomori')).decision).toBe('permit');
    server.setNow(mins(15));
    expect((await decideFor('aomori')).decision).toBe('deny');
    const listed = (await (await call('GET', '/v1/emergencies?status=active', desk)).json()) as { items: { id: string }[] };
    expect(listed.items.map((i) => i.id)).not.toContain(e.id);
    // As on start-up after downtime: the job records the end at the expiry instant, once.
    expect(await endExpiredEmergencies({ db: database.db, now: mins(20) })).toEqual({ ended: 1 });
    expect(await endExpiredEmergencies({ db: database.db, now: mins(21) })).toEqual({ ended: 0 });
    const all = (await (await call('GET', '/v1/emergencies?status=ended', desk)).json()) as { items: { id: string; endedAt: string; endReason: string }[] };
    expect(all.items.find((i) => i.id === e.id)).toMatchObject({ endedAt: mins(15).toISOString(), endReason: 'expired' });
  });

  it('refuses a token without the emergency scope, and a declaration longer than allowed', async () => {
    const res = await call('POST', '/v1/emergencies', deciderToken, { areas: ['aomori'], reason: 'x', durationMinutes: 30 });
    expect(res.status).toBe(403);
    const tooLong = await call('POST', '/v1/emergencies', desk, { areas: ['aomori'], reason: 'x', durationMinutes: 100_000 });
    expect(tooLong.status).toBe(422);
    const active = (await (await call('GET', '/v1/emergencies?status=active', desk)).json()) as { items: unknown[] };
    expect(active.items).toEqual([]);
  });

  it('extends only within the total bound and never after the end', async () => {
    server.setNow(mins(30));
    const e = await declare(60);
    const ok = await call('POST', `/v1/emergencies/${e.id}/extend`, desk, { minutes: 60, reason: '復旧作業継続' });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { expiresAt: string }).expiresAt).toBe(mins(150).toISOString());
    // Declared at +30 min: no emergency may last past +30 min + 7 days (10,110 min from NOW).
    expect((await call('POST', `/v1/emergencies/${e.id}/extend`, desk, { minutes: 4320, reason: 'x' })).status).toBe(200); // → +4,470
    expect((await call('POST', `/v1/emergencies/${e.id}/extend`, desk, { minutes: 4320, reason: 'x' })).status).toBe(200); // → +8,790
    const beyond = await call('POST', `/v1/emergencies/${e.id}/extend`, desk, { minutes: 4320, reason: 'x' }); // → +13,110
    expect(beyond.status).toBe(422);
    expect(((await beyond.json()) as { code: string }).code).toBe('emergency.extension-beyond-bound');
    await call('POST', `/v1/emergencies/${e.id}/end`, desk);
    const late = await call('POST', `/v1/emergencies/${e.id}/extend`, desk, { minutes: 10, reason: 'x' });
    expect(late.status).toBe(409);
  });
});
