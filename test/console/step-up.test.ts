import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { at, plusMs } from '../support/factories.js';
import type { TestDatabase } from '../support/db.js';
import type { TestServer } from '../support/http.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { registerPasskey, sessionFor, startConsoleServer, stepUp, type Browser } from './support.js';

const NOW = at('2026-06-01T09:00:00+09:00');

const count = async (db: TestDatabase['db'], table: 'emergencies' | 'grants') =>
  (await queryRows<{ n: number }>(db, sql`select count(*)::int as n from ${sql.identifier(table)}`))[0]!.n;

describe('sensitive acts need a passkey assertion less than 5 minutes old', () => {
  let database: TestDatabase;
  let server: TestServer;
  let officer: Browser;
  let officerKey: SoftAuthenticator;
  let admin: Browser;
  let adminKey: SoftAuthenticator;

  beforeAll(async () => {
    ({ database, server } = await startConsoleServer(NOW));
    officer = await sessionFor(server, database.db, 'E1002', NOW);
    admin = await sessionFor(server, database.db, 'E1001', NOW);
    // Registering a passkey is itself an assertion: start each test from a stale session.
    officerKey = await registerPasskey(officer);
    adminKey = await registerPasskey(admin);
    server.setNow(plusMs(NOW, 10 * 60_000));
  });
  afterAll(async () => {
    await server?.close();
    await database?.close();
  });

  const api = async (b: Browser, method: string, path: string, body?: unknown) => {
    const csrf = await b.csrf();
    const res = await b.request(path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), 'x-csrf-token': csrf, origin: server.publicUrl },
      follow: false,
    });
    return { status: res.status, json: res.text ? (JSON.parse(res.text) as Record<string, any>) : {} };
  };

  it('declaring an emergency on the page without a fresh assertion is refused with 403 and declares nothing', async () => {
    const csrf = await officer.csrf();
    const res = await officer.postForm('/console/emergencies', { _csrf: csrf, areas: 'aomori', durationMinutes: '60', reason: '台風' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('console.step-up-required');
    expect(await count(database.db, 'emergencies')).toBe(0);
  });

  it('declaring, ending and extending through the API with a console session are refused with 403 without a fresh assertion', async () => {
    const declared = await api(officer, 'POST', '/v1/emergencies', { areas: ['aomori'], reason: 'typhoon', durationMinutes: 60 });
    expect(declared.status).toBe(403);
    expect(declared.json).toMatchObject({ code: 'console.step-up-required' });
    expect(await count(database.db, 'emergencies')).toBe(0);

    // Declared by a service token (integrations are not asked for a passkey) to have one to end.
    const token = await server.token('emergency');
    const res = await fetch(`${server.url}/v1/emergencies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ areas: ['aomori'], reason: 'typhoon', durationMinutes: 60 }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect((await api(officer, 'POST', `/v1/emergencies/${id}/extend`, { minutes: 30, reason: 'more rain' })).status).toBe(403);
    expect((await api(officer, 'POST', `/v1/emergencies/${id}/end`)).status).toBe(403);
    const [row] = await queryRows<{ status: string }>(database.db, sql`select status from emergencies where id = ${id}::uuid`);
    expect(row!.status).toBe('active');

    // Confirmed with the passkey: the same calls go through.
    await stepUp(officer, officerKey);
    expect((await api(officer, 'POST', `/v1/emergencies/${id}/extend`, { minutes: 30, reason: 'more rain' })).status).toBe(200);
    expect((await api(officer, 'POST', `/v1/emergencies/${id}/end`)).json).toMatchObject({ status: 'ended' });
  });

  it('an assertion counts for five minutes: the page declares within them and refuses to end after them', async () => {
    await stepUp(officer, officerKey);
    let csrf = await officer.csrf();
    const declared = await officer.postForm('/console/emergencies', { _csrf: csrf, areas: 'aomori', otherAreas: 'iwate', durationMinutes: '120', reason: '地震' });
    expect(declared.status).toBe(303);
    const id = /\/console\/emergencies\/([0-9a-f-]{36})/.exec(declared.location!)![1]!;

    server.setNow(plusMs(NOW, 10 * 60_000 + 5 * 60_000));
    csrf = await officer.csrf();
    const stale = await officer.postForm(`/console/emergencies/${id}/end`, { _csrf: csrf });
    expect(stale.status).toBe(403);
    await stepUp(officer, officerKey);
    const ended = await officer.postForm(`/console/emergencies/${id}/end`, { _csrf: csrf });
    expect(ended.status).toBe(303);
    server.setNow(plusMs(NOW, 10 * 60_000));
  });

  it('closing a campaign, rotating a shared secret and granting to a retail person are refused with 403 through page and API until confirmed', async () => {
    const token = server.adminToken;
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }).then(
        async (r) => ({ status: r.status, json: (await r.json()) as Record<string, any> }),
      );
    const campaign = await call('POST', '/v1/review-campaigns', { name: 'Q2', scope: { system: 'takuso' }, dueAt: '2026-07-01T00:00:00+09:00', onNoResponse: 'keep' });
    expect(campaign.status).toBe(201);
    const secret = await call('POST', '/v1/shared-secrets', { system: 'takuso', name: 'admin', knownBy: ['E1003'] });
    expect(secret.status).toBe(201);
    const grantsBefore = await count(database.db, 'grants');

    expect((await api(admin, 'POST', `/v1/review-campaigns/${campaign.json.id}/close`)).status).toBe(403);
    expect((await api(admin, 'POST', `/v1/shared-secrets/${secret.json.id}/rotate`)).status).toBe(403);
    expect((await api(admin, 'POST', '/v1/grants', { personId: 'R2002', entitlement: 'takuso-switching', reason: 'cover' })).status).toBe(403);
    const csrf = await admin.csrf();
    expect((await admin.postForm(`/console/campaigns/${campaign.json.id}/close`, { _csrf: csrf })).status).toBe(403);
    expect((await admin.postForm(`/console/secrets/${secret.json.id}/rotate`, { _csrf: csrf })).status).toBe(403);
    expect((await admin.postForm('/console/people/R2003/grants', { _csrf: csrf, entitlement: 'takuso-switching', reason: 'cover' })).status).toBe(403);
    expect(await count(database.db, 'grants')).toBe(grantsBefore);
    const [open] = await queryRows<{ status: string }>(database.db, sql`select status from review_campaigns where id = ${campaign.json.id}::uuid`);
    expect(open!.status).toBe('open');

    // Granting to someone of the wheeling company is not a sensitive act.
    expect((await api(admin, 'POST', '/v1/grants', { personId: 'E1005', entitlement: 'takuso-switching', reason: 'support desk' })).status).toBe(201);

    await stepUp(admin, adminKey);
    expect((await api(admin, 'POST', '/v1/grants', { personId: 'R2002', entitlement: 'takuso-switching', reason: 'cover' })).status).toBe(201);
    expect((await api(admin, 'POST', `/v1/shared-secrets/${secret.json.id}/rotate`)).json).toMatchObject({ status: 'ok', version: 2 });
    expect((await admin.postForm(`/console/campaigns/${campaign.json.id}/close`, { _csrf: csrf })).status).toBe(303);
  });

  it('a challenge issued for someone else neither enrols a passkey to them nor steps up this session', async () => {
    const authn = await server.token('authn');
    const viaApi = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${authn}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
        async (r) => (await r.json()) as Record<string, any>,
      );
    const csrf = await officer.csrf();
    const foreign = await viaApi('/v1/webauthn/registration/options', { personId: 'E1004' });
    const stranger = new SoftAuthenticator({ origin: server.publicUrl, id: 'localhost' });
    const enrol = await officer.postJson('/console/passkeys/verify', { challengeId: foreign.challengeId, response: stranger.register(foreign.options) }, csrf);
    expect(enrol.status).toBe(401);
    const [passkeys] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from credentials where person_id = 'E1004' and type = 'passkey'`);
    expect(passkeys!.n).toBe(0);

    // E1001's own challenge and passkey, presented in E1002's session.
    const theirs = await viaApi('/v1/webauthn/authentication/options', { personId: 'E1001' });
    const borrowed = await officer.postJson('/console/step-up/verify', { challengeId: theirs.challengeId, response: adminKey.assert(theirs.options) }, csrf);
    expect(borrowed.status).toBe(401);
    const declared = await officer.postForm('/console/emergencies', { _csrf: csrf, areas: 'aomori', durationMinutes: '60', reason: 'x' });
    expect(declared.status).toBe(403);
  });

  it('service tokens keep working without any passkey: integrations are not people', async () => {
    const token = await server.token('emergency');
    const res = await fetch(`${server.url}/v1/emergencies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ areas: ['miyagi'], reason: 'drill', durationMinutes: 30 }),
    });
    expect(res.status).toBe(201);
  });
});
