import { desc, eq } from 'drizzle-orm';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRecords } from '../../src/audit/schema.js';
import { hrEvents } from '../../src/hr/schema.js';
import { applyDueEvents } from '../../src/hr/jobs.js';
import { deliverDue } from '../../src/outbox/deliver.js';
import { CREDENTIAL_CHANGE, SESSION_REVOKED } from '../../src/outbox/set.js';
import { startFakeSubscriber, verifyWebhook, type FakeSubscriber } from '../outbox/support.js';
import { makeTakuso } from '../support/access.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { at, hire, makeUtilityGroup, plusMs, T0, uniqueId } from '../support/factories.js';
import { startTestServer, testKeyring, type TestServer } from '../support/http.js';
import { passkeyClient, type PasskeyClient } from '../support/passkey-client.js';
import type { SoftAuthenticator } from '../support/soft-authenticator.js';
import { postHrEvent } from '../support/webhook.js';

/**
 * Issue 3, "done means" #1, as one story told through the HTTP surface a connected system and
 * an HR system use. The test server runs no scheduler: nothing applies the transfer or
 * delivers events until the story runs those jobs itself.
 */
describe('a wheeling employee with a password, a badge, a passkey and an API token, transferred to retail at T', () => {
  const T = at('2027-04-01T00:00:00+09:00');
  const recordedAt = at('2027-03-15T10:00:00+09:00');
  const justBefore = plusMs(T, -1000);
  const justAfter = plusMs(T, 1);

  let database: TestDatabase;
  let server: TestServer;
  let authn: string;
  let passkeys: PasskeyClient;
  let webhookSub: FakeSubscriber;
  let setSub: FakeSubscriber;
  let webhookSecret: string;

  let personId: string;
  let colleagueId: string;
  const loginId = uniqueId('yamada');
  const badgeId = uniqueId('badge');
  let password: string;
  let token: string;
  let authenticator: SoftAuthenticator;
  let passkeyId: string;
  const colleagueLogin = uniqueId('colleague');
  let colleaguePassword: string;
  let secretId: string;

  const call = async (method: 'GET' | 'POST', path: string, opts: { token?: string; body?: unknown } = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${opts.token ?? server.adminToken}`, ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  /** The mover signs in with each of the four credentials, as connected systems would ask. */
  const signInWithEach = async () => ({
    password: await call('POST', '/v1/authn/password', { token: authn, body: { system: 'takuso', loginId, password } }),
    badge: await call('POST', '/v1/authn/badge', { token: authn, body: { badgeId } }),
    passkey: await passkeys.signIn(authenticator, { personId }),
    token: await call('POST', '/v1/authn/token', { token: authn, body: { token } }),
  });

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    await makeUtilityGroup(db);
    await makeTakuso(db);
    server = await startTestServer(database, { now: recordedAt });
    authn = await server.token('authn');
    passkeys = passkeyClient(server, authn);

    // Two connected systems listen: one for Standard Webhooks, one for CAEP Security Event Tokens.
    webhookSub = await startFakeSubscriber();
    setSub = await startFakeSubscriber({ respond: () => 202 });
    const webhook = await call('POST', '/v1/subscribers', { body: { name: 'takuso', url: webhookSub.url } });
    expect(webhook.status).toBe(201);
    webhookSecret = webhook.body.secret;
    expect((await call('POST', '/v1/subscribers', { body: { name: 'idp', url: setSub.url, format: 'set' } })).status).toBe(201);

    personId = await hire(db, { company: 'nw', at: T0 });
    colleagueId = await hire(db, { company: 'nw', at: T0 });

    // Everything the mover holds, issued under the wheeling company.
    const issued = await call('POST', `/v1/persons/${personId}/credentials`, { body: { type: 'password', system: 'takuso', loginId } });
    expect(issued.body).toMatchObject({ type: 'password', company: 'nw' });
    password = issued.body.password;
    expect((await call('POST', `/v1/persons/${personId}/credentials`, { body: { type: 'badge', badgeId } })).body).toMatchObject({ type: 'badge', company: 'nw' });
    const tokenIssued = await call('POST', `/v1/persons/${personId}/credentials`, { body: { type: 'api_token' } });
    expect(tokenIssued.body).toMatchObject({ type: 'api_token', company: 'nw' });
    token = tokenIssued.body.token;
    const enrolled = await passkeys.enrol(personId);
    expect(enrolled.credential).toMatchObject({ type: 'passkey', company: 'nw' });
    authenticator = enrolled.authenticator;
    passkeyId = enrolled.credential.id;
    colleaguePassword = (await call('POST', `/v1/persons/${colleagueId}/credentials`, { body: { type: 'password', system: 'takuso', loginId: colleagueLogin } })).body.password;

    // The system's shared administrator password, known to both.
    const secret = await call('POST', '/v1/shared-secrets', { body: { system: 'takuso', name: uniqueId('root'), knownBy: [personId, colleagueId] } });
    expect(secret.body).toMatchObject({ status: 'ok' });
    secretId = secret.body.id;

    // HR records the transfer two weeks ahead, signed, over its webhook.
    const hr = await postHrEvent(server.url, { type: 'person.transferred', personId, company: 'ep', effectiveAt: T.toISOString() }, { now: recordedAt });
    expect(hr.status).toBe(202);
    expect(await hr.json()).toMatchObject({ status: 'scheduled' });
  });
  afterAll(async () => {
    await webhookSub?.close();
    await setSub?.close();
    await server?.close();
    await database?.close();
  });

  it('authenticates with every one of the four credentials one second before T', async () => {
    server.setNow(justBefore);
    const results = await signInWithEach();
    for (const [kind, r] of Object.entries(results)) {
      expect({ kind, status: r.status, body: r.body }).toEqual({ kind, status: 200, body: { personId, company: 'nw' } });
    }
  });

  it('authenticates with none of them one millisecond after T, the HR job not having run', async () => {
    server.setNow(justAfter);
    const [transfer] = await database.db.select().from(hrEvents).where(eq(hrEvents.personId, personId)).orderBy(desc(hrEvents.receivedAt)).limit(1);
    expect(transfer).toMatchObject({ type: 'person.transferred', appliedAt: null });

    const results = await signInWithEach();
    for (const [kind, r] of Object.entries(results)) {
      expect({ kind, status: r.status, detail: r.body.detail }).toEqual({ kind, status: 401, detail: 'invalid credentials' });
    }
    const failures = await database.db.select().from(auditRecords).where(eq(auditRecords.action, 'authn.failed')).orderBy(desc(auditRecords.seq)).limit(4);
    expect(failures.map((f) => [f.data.method, f.data.reason]).sort()).toEqual(
      [
        ['api_token', 'holder-not-affiliated-with-issuing-company'],
        ['badge', 'holder-not-affiliated-with-issuing-company'],
        ['passkey', 'holder-not-affiliated-with-issuing-company'],
        ['password', 'holder-not-affiliated-with-issuing-company'],
      ].sort(),
    );
    // Refused by the timeline alone: nothing is revoked yet.
    const { body } = await call('GET', `/v1/persons/${personId}/credentials`);
    expect(body.items.map((c: { status: string }) => c.status)).toEqual(['active', 'active', 'active', 'active']);
    // The colleague who stays is not affected.
    const colleague = await call('POST', '/v1/authn/password', { token: authn, body: { system: 'takuso', loginId: colleagueLogin, password: colleaguePassword } });
    expect(colleague).toEqual({ status: 200, body: { personId: colleagueId, company: 'nw' } });
  });

  it('has all four revoked with reason transfer and the shared secret rotation_required once the job has run', async () => {
    expect(await applyDueEvents({ db: database.db, now: justAfter })).toEqual({ applied: 1 });

    const { body } = await call('GET', `/v1/persons/${personId}/credentials`);
    expect(body.items.map((c: Record<string, unknown>) => [c.type, c.status, c.company, c.revokedReason]).sort()).toEqual(
      [
        ['api_token', 'revoked', 'nw', 'transfer'],
        ['badge', 'revoked', 'nw', 'transfer'],
        ['passkey', 'revoked', 'nw', 'transfer'],
        ['password', 'revoked', 'nw', 'transfer'],
      ].sort(),
    );
    const secret = await call('GET', `/v1/shared-secrets/${secretId}`);
    expect(secret).toEqual({ status: 200, body: { id: secretId, system: 'takuso', name: expect.any(String), status: 'rotation_required', exposedTo: [{ personId, company: 'ep' }] } });
    // Still refused, now as revoked.
    const again = await signInWithEach();
    expect(Object.values(again).map((r) => r.status)).toEqual([401, 401, 401, 401]);
    // The colleague who stayed keeps their password; only the mover is listed as exposed.
    expect((await call('GET', `/v1/persons/${colleagueId}/credentials`)).body.items.map((c: { status: string }) => c.status)).toEqual(['active']);
  });

  it('tells a local webhook subscriber with signed events that verify with the standardwebhooks package', async () => {
    let result;
    do result = await deliverDue({ db: database.db, now: justAfter, keyring: testKeyring, publicUrl: server.url });
    while (result.claimed > 0);
    expect(webhookSub.received.every((r) => r.status === 200)).toBe(true);

    const messages = webhookSub.received.map((r) => verifyWebhook(webhookSecret, r));
    const about = messages.filter((m) => m.type !== 'person.hired' && (m.data.subjectId === personId || m.data.subjectId === secretId));
    expect(about.map((m) => m.type).sort()).toEqual(
      ['credential.revoked', 'credential.revoked', 'credential.revoked', 'credential.revoked', 'person.transferred', 'session.revoked', 'shared-secret.rotation-required'].sort(),
    );
    const revoked = about.filter((m) => m.type === 'credential.revoked');
    expect(revoked.map((m) => m.data.credentialType).sort()).toEqual(['api_token', 'badge', 'passkey', 'password']);
    expect(revoked.every((m) => m.data.subjectId === personId && m.data.reason === 'transfer' && m.data.company === 'nw')).toBe(true);
    expect(revoked.find((m) => m.data.credentialType === 'passkey')!.data.credentialId).toBe(passkeyId);
    expect(about.find((m) => m.type === 'shared-secret.rotation-required')!.data).toMatchObject({ secretId, reason: 'holder-transferred', exposedTo: [{ personId, company: 'ep' }] });
    // Nothing about the colleague who stayed.
    expect(messages.filter((m) => m.data.subjectId === colleagueId).map((m) => m.type)).toEqual(['person.hired']);
    // A changed body does not verify.
    const first = webhookSub.received[0]!;
    expect(() => verifyWebhook(webhookSecret, { ...first, body: first.body.replace('"type"', '"tyPe"') })).toThrow();
  });

  it('tells a local SET subscriber with CAEP tokens that verify against the published JWKS', async () => {
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const tokens = await Promise.all(
      setSub.received.map(async (r) => {
        const { payload } = await jwtVerify(r.body, jwks, { issuer: server.url, audience: setSub.url, typ: 'secevent+jwt', currentDate: justAfter });
        return payload as { sub_id: { format: string; id: string }; events: Record<string, Record<string, unknown>> };
      }),
    );
    expect(tokens.every((t) => t.sub_id.format === 'opaque' && t.sub_id.id === personId)).toBe(true);
    const events = tokens.flatMap((t) => Object.entries(t.events));
    expect(events.filter(([uri]) => uri === SESSION_REVOKED)).toHaveLength(1);
    const changes = events.filter(([uri]) => uri === CREDENTIAL_CHANGE).map(([, e]) => e);
    expect(changes.map((c) => c.credential_type).sort()).toEqual(['api-token', 'badge', 'fido2-platform', 'password']);
    expect(changes.every((c) => c.change_type === 'revoke' && (c.reason_admin as { en: string }).en === 'transfer')).toBe(true);
    expect(events).toHaveLength(5);
  });
});
