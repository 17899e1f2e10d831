import { Writable } from 'node:stream';
import { and, asc, eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auditRecords } from '../../src/audit/schema.js';
import { authenticatePasskey, purgeExpiredChallenges, relyingParty } from '../../src/credentials/passkeys.js';
import { credentials, webauthnChallenges } from '../../src/credentials/schema.js';
import { makeTakuso } from '../support/access.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../support/db.js';
import { at, hire, makeUtilityGroup, plusMs, T0, transfer } from '../support/factories.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { passkeyClient, type PasskeyClient } from '../support/passkey-client.js';

const NOW = at('2026-06-01T09:00:00+09:00');
const MINUTE = 60_000;

interface Fixture {
  database: TestDatabase;
  server: TestServer;
  authn: string;
}

async function startFixture(poolSize?: number): Promise<Fixture> {
  const database = await createTestDatabase({ poolSize });
  await makeUtilityGroup(database.db);
  await makeTakuso(database.db);
  const server = await startTestServer(database, { now: NOW });
  return { database, server, authn: await server.token('authn') };
}

/** The calls a connected system's back end makes, with its `authn` token. */
const client = (f: Fixture) => passkeyClient(f.server, f.authn);

async function passkeyRow(f: Fixture, credentialId: string) {
  const [row] = await f.database.db.select().from(credentials).where(eq(credentials.id, credentialId));
  return row!;
}

/** The audit record of the attempt that used this challenge. */
async function auditOf(f: Fixture, challengeId: string) {
  const rows = await f.database.db
    .select()
    .from(auditRecords)
    .where(sql`${auditRecords.data}->>'challengeId' = ${challengeId}`)
    .orderBy(asc(auditRecords.seq));
  return rows;
}

const expectInvalidCredentials = (res: { status: number; body: Record<string, any> }) => {
  expect(res.status).toBe(401);
  expect(res.body).toMatchObject({ code: 'authn.invalid-credentials', detail: 'invalid credentials' });
};

describe('passkeys, with a software authenticator', () => {
  let f: Fixture;
  let api: PasskeyClient;

  beforeAll(async () => {
    f = await startFixture();
    api = client(f);
  });
  afterAll(async () => {
    await f.server.close();
    await f.database.close();
  });
  beforeEach(() => f.server.setNow(NOW));

  it("registers a passkey under the person's current company and signs in with it", async () => {
    const personId = await hire(f.database.db, { company: 'nw', at: T0 });
    const { authenticator, credential } = await api.enrol(personId);
    expect(credential).toMatchObject({ type: 'passkey', company: 'nw', status: 'active' });
    expect((await passkeyRow(f, credential.id)).webauthnId).toBe(authenticator.id);

    const first = await api.signIn(authenticator, { personId });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ personId, company: 'nw' });
    // Without naming anyone (a discoverable passkey), the credential names its holder.
    const second = await api.signIn(authenticator);
    expect(second.body).toEqual({ personId, company: 'nw' });
    const row = await passkeyRow(f, credential.id);
    expect(row.signCount).toBe(2);
    expect(row.lastUsedAt).toEqual(NOW);
    expect((await auditOf(f, second.challengeId)).map((r) => r.action)).toEqual(['authn.succeeded']);
  });

  it('a challenge answers once: the same assertion posted again is refused with 401 and nothing changes', async () => {
    const personId = await hire(f.database.db, { company: 'nw', at: T0 });
    const { authenticator, credential } = await api.enrol(personId);
    const ok = await api.signIn(authenticator, { personId });
    expect(ok.status).toBe(200);
    const before = await passkeyRow(f, credential.id);

    const replay = await api.post('/v1/webauthn/authentication/verify', { challengeId: ok.challengeId, response: ok.response });
    expectInvalidCredentials(replay);
    expect(await passkeyRow(f, credential.id)).toEqual(before);
    const audit = await auditOf(f, ok.challengeId);
    expect(audit.map((r) => [r.action, r.data.reason])).toEqual([
      ['authn.succeeded', undefined],
      ['authn.failed', 'challenge-unknown-or-used'],
    ]);
  });

  it('a registration challenge answers once too: one passkey, the second attempt refused', async () => {
    const personId = await hire(f.database.db, { company: 'nw', at: T0 });
    const authenticator = api.softAuthenticator();
    const { body: start } = await api.registrationOptions(personId);
    const response = authenticator.register(start.options as { challenge: string });
    expect((await api.post('/v1/webauthn/registration/verify', { challengeId: start.challengeId, response })).status).toBe(201);
    expectInvalidCredentials(await api.post('/v1/webauthn/registration/verify', { challengeId: start.challengeId, response }));
    const rows = await f.database.db.select().from(credentials).where(and(eq(credentials.personId, personId), eq(credentials.type, 'passkey')));
    expect(rows).toHaveLength(1);
    expect((await auditOf(f, start.challengeId)).map((r) => [r.action, r.data.reason])).toEqual([['passkey.registration-failed', 'challenge-unknown-or-used']]);
  });

  it('a challenge answered after five minutes is refused as expired, one answered just before is accepted', async () => {
    const personId = await hire(f.database.db, { company: 'nw', at: T0 });
    const { authenticator, credential } = await api.enrol(personId);

    const { body: late } = await api.authenticationOptions(personId);
    const { body: inTime } = await api.authenticationOptions(personId);
    f.server.setNow(plusMs(NOW, 5 * MINUTE - 1));
    const accepted = await api.post('/v1/webauthn/authentication/verify', { challengeId: inTime.challengeId, response: authenticator.assert(inTime.options as { challenge: string }) });
    expect(accepted.status).toBe(200);

    f.server.setNow(plusMs(NOW, 6 * MINUTE));
    const before = await passkeyRow(f, credential.id);
    const refused = await api.post('/v1/webauthn/authentication/verify', { challengeId: late.challengeId, response: authenticator.assert(late.options as { challenge: string }) });
    expectInvalidCredentials(refused);
    expect(await passkeyRow(f, credential.id)).toEqual(before);
    expect((await auditOf(f, late.challengeId)).map((r) => r.data.reason)).toEqual(['challenge-expired']);
  });

  it('a registration challenge cannot be used to sign in', async () => {
    const personId = await hire(f.database.db, { company: 'nw', at: T0 });
    const { authenticator, credential } = await api.enrol(personId);
    const { body: registration } = await api.registrationOptions(personId);
    const before = await passkeyRow(f, credential.id);

    const res = await api.post('/v1/webauthn/authentication/verify', {
      challengeId: registration.challengeId,
      response: authenticator.assert(registration.options as { challenge: string }),
    });
    expectInvalidCredentials(res);
    expect(await passkeyRow(f, credential.id)).toEqual(before);
    expect((await auditOf(f, registration.challengeId)).map((r) => r.data.reason)).toEqual(['challenge-wrong-ceremony']);
  });

  it('a counter that goes backwards, or stands still, is a cloned authenticator: refused with the reason audited', async () => {
    const personId = await hire(f.database.db, { company: 'nw', at: T0 });
    const { authenticator, credential } = await api.enrol(personId);
    expect((await api.signIn(authenticator, { personId, signCount: 10 })).status).toBe(200);

    for (const signCount of [7, 10]) {
      const clone = await api.signIn(authenticator, { personId, signCount });
      expectInvalidCredentials(clone);
      const [audit] = await auditOf(f, clone.challengeId);
      expect(audit!.action).toBe('authn.failed');
      expect(audit!.data).toMatchObject({ reason: 'counter-did-not-advance', storedCounter: 10, presentedCounter: signCount, credentialId: credential.id });
      expect((await passkeyRow(f, credential.id)).signCount).toBe(10);
    }
    expect((await api.signIn(authenticator, { personId, signCount: 11 })).status).toBe(200);
  });

  it('an authenticator that keeps no counter (always 0) signs in again and again', async () => {
    const personId = await hire(f.database.db, { company: 'nw', at: T0 });
    const { authenticator, credential } = await api.enrol(personId, { counts: false });
    for (let i = 0; i < 3; i++) expect((await api.signIn(authenticator, { personId })).status).toBe(200);
    expect((await passkeyRow(f, credential.id)).signCount).toBe(0);
  });

  it("an assertion answering someone else's challenge is refused", async () => {
    const holder = await hire(f.database.db, { company: 'nw', at: T0 });
    const other = await hire(f.database.db, { company: 'nw', at: T0 });
    await api.enrol(other);
    const { authenticator } = await api.enrol(holder);
    const res = await api.signIn(authenticator, { personId: other });
    expectInvalidCredentials(res);
    expect((await auditOf(f, res.challengeId)).map((r) => r.data.reason)).toEqual(['challenge-for-another-person']);
  });

  it('a forged signature is refused with the generic 401; the library’s message is logged, never echoed', async () => {
    const personId = await hire(f.database.db, { company: 'nw', at: T0 });
    const { authenticator } = await api.enrol(personId);
    const { body: start } = await api.authenticationOptions(personId);
    const response = authenticator.assert(start.options as { challenge: string });
    const forged = { ...response, response: { ...response.response, signature: Buffer.alloc(70, 1).toString('base64url') } };

    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => void (lines.push(String(chunk)), done()) }));
    const attempt = authenticatePasskey({
      db: f.database.db,
      now: NOW,
      caller: 'test',
      rp: relyingParty(f.server.publicUrl),
      logger,
      challengeId: start.challengeId,
      response: forged,
    });
    await expect(attempt).rejects.toMatchObject({ status: 401, message: 'invalid credentials' });
    expect(lines.join('')).toMatch(/passkey assertion rejected/);
    expect(JSON.parse(lines.at(-1)!).webauthnError).toEqual(expect.any(String));
    expect((await auditOf(f, start.challengeId)).map((r) => r.data.reason)).toEqual(['assertion-invalid']);
  });

  it('an envelope that is not a public-key credential is a 400, before any challenge is spent', async () => {
    const personId = await hire(f.database.db, { company: 'nw', at: T0 });
    const { authenticator } = await api.enrol(personId);
    const { body: start } = await api.authenticationOptions(personId);
    const response = authenticator.assert(start.options as { challenge: string });
    for (const bad of [{ ...response, type: 'password' }, { ...response, extra: 1 }, { ...response, response: { ...response.response, signature: 'not base64url!' } }]) {
      const res = await api.post('/v1/webauthn/authentication/verify', { challengeId: start.challengeId, response: bad });
      expect(res.status).toBe(400);
    }
    expect((await api.post('/v1/webauthn/authentication/verify', { challengeId: start.challengeId, response })).status).toBe(200);
  });

  it('the purge job removes expired challenges only, and running it twice is harmless', async () => {
    const personId = await hire(f.database.db, { company: 'nw', at: T0 });
    const { body: start } = await api.registrationOptions(personId);
    const { db } = f.database;
    const live = () => db.select({ id: webauthnChallenges.id }).from(webauthnChallenges).where(eq(webauthnChallenges.id, start.challengeId));
    await purgeExpiredChallenges({ db, now: plusMs(NOW, 5 * MINUTE - 1) });
    expect(await live()).toHaveLength(1);
    const first = await purgeExpiredChallenges({ db, now: plusMs(NOW, 5 * MINUTE) });
    expect(first.purged).toBeGreaterThanOrEqual(1);
    expect(await live()).toHaveLength(0);
    expect(await purgeExpiredChallenges({ db, now: plusMs(NOW, 5 * MINUTE) })).toEqual({ purged: 0 });
  });
});

describe("a passkey issued under the wheeling company, its holder moving to retail", () => {
  let f: Fixture;
  let api: PasskeyClient;
  const T = at('2026-07-01T00:00:00+09:00');

  beforeAll(async () => {
    f = await startFixture();
    api = client(f);
  });
  afterAll(async () => {
    await f.server.close();
    await f.database.close();
  });

  it('signs in until the transfer takes effect and fails from that instant, with the HR job not run', async () => {
    const { db } = f.database;
    const personId = await hire(db, { company: 'nw', at: T0 });
    const { authenticator, credential } = await api.enrol(personId);
    expect(credential.company).toBe('nw');
    // Recorded in advance; nothing applies the move to the credentials before T.
    await transfer(db, { personId, company: 'ep', at: T, now: NOW });

    f.server.setNow(plusMs(T, -1));
    expect((await api.signIn(authenticator, { personId })).body).toEqual({ personId, company: 'nw' });
    expect((await api.signIn(authenticator, { personId, terminalId: 'T-NW-01' })).status).toBe(200);

    f.server.setNow(T);
    const moved = await api.signIn(authenticator, { personId });
    expectInvalidCredentials(moved);
    expect((await auditOf(f, moved.challengeId)).map((r) => [r.action, r.data.reason, r.data.credentialCompany])).toEqual([
      ['authn.failed', 'holder-not-affiliated-with-issuing-company', 'nw'],
    ]);
    // The refusal did not wait for revocation: the credential is still unrevoked in the table.
    expect((await passkeyRow(f, credential.id)).revokedAt).toBeNull();
  });
});

// PGlite is a single connection that runs one statement at a time, so it cannot show a race:
// only PostgreSQL runs the twenty verifications truly side by side.
describe.skipIf(!onPostgres)('twenty concurrent verifications of one assertion (PostgreSQL)', () => {
  let f: Fixture;
  let api: PasskeyClient;

  beforeAll(async () => {
    f = await startFixture(25);
    api = client(f);
  });
  afterAll(async () => {
    await f.server.close();
    await f.database.close();
  });

  it('exactly one is accepted and nineteen are refused, the challenge consumed once', async () => {
    const personId = await hire(f.database.db, { company: 'nw', at: T0 });
    const { authenticator, credential } = await api.enrol(personId);
    const { body: start } = await api.authenticationOptions(personId);
    const response = authenticator.assert(start.options as { challenge: string });

    const results = await Promise.all(
      Array.from({ length: 20 }, () => api.post('/v1/webauthn/authentication/verify', { challengeId: start.challengeId, response })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, ...Array(19).fill(401)]);
    const audit = await auditOf(f, start.challengeId);
    expect(audit.filter((r) => r.action === 'authn.succeeded')).toHaveLength(1);
    expect(audit.filter((r) => r.action === 'authn.failed').map((r) => r.data.reason)).toEqual(Array(19).fill('challenge-unknown-or-used'));
    expect((await passkeyRow(f, credential.id)).signCount).toBe(1);
  });
});
