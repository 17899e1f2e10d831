import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRecords } from '../../src/audit/schema.js';
import { loadConfig } from '../../src/config.js';
import { cookieNames } from '../../src/console/cookies.js';
import { consoleSessions } from '../../src/console/schema.js';
import { queryRows } from '../../src/db/client.js';
import { applyDueEvents } from '../../src/hr/jobs.js';
import { at, leave, plusMs, transfer } from '../support/factories.js';
import type { TestDatabase } from '../support/db.js';
import type { TestServer } from '../support/http.js';
import { registerPasskey, sessionFor, signInThroughDevIdp, startConsoleServer, stepUp } from './support.js';

const NOW = at('2026-06-01T09:00:00+09:00');
const TRANSFER_AT = at('2026-07-01T00:00:00+09:00');

describe('console sessions: CSRF, cookies and revocation', () => {
  let database: TestDatabase;
  let server: TestServer;
  beforeAll(async () => ({ database, server } = await startConsoleServer(NOW)));
  afterAll(async () => {
    await server?.close();
    await database?.close();
  });

  const emergencies = async () => (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from emergencies`))[0]!.n;

  it('the session cookie is HttpOnly, SameSite=Lax, for the whole site, with an expiry; the table keeps only its hash', async () => {
    const b = await signInThroughDevIdp(server, 'E1002');
    const line = b.setCookieLines.find((l) => l.startsWith('sekisho_session='))!;
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; SameSite=Lax/);
    expect(line).toMatch(/; Path=\//);
    expect(line).toMatch(/; Max-Age=28800/);
    expect(line).not.toMatch(/Secure/); // http://localhost: a Secure cookie would never come back
    const id = b.cookies.get('sekisho_session')!;
    const rows = await database.db.select().from(consoleSessions).where(eq(consoleSessions.personId, 'E1002'));
    expect(rows.some((r) => r.idHash === id)).toBe(false);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.idHash))).toBe(true);
    // On https the cookies are Secure and __Host- prefixed.
    expect(cookieNames(true).session).toBe('__Host-sekisho_session');
  });

  it('a form post without the CSRF token, with another session’s token, or from another origin is refused and changes nothing', async () => {
    const officer = await sessionFor(server, database.db, 'E1002', NOW);
    const key = await registerPasskey(officer);
    await stepUp(officer, key);
    const other = await sessionFor(server, database.db, 'E1003', NOW);
    const foreignToken = await other.csrf();
    const form = { areas: 'aomori', durationMinutes: '60', reason: 'storm' };

    const missing = await officer.postForm('/console/emergencies', form);
    expect(missing.status).toBe(403);
    expect(missing.text).toContain('console.csrf-rejected');
    expect((await officer.postForm('/console/emergencies', { ...form, _csrf: foreignToken })).status).toBe(403);
    const own = await officer.csrf();
    expect((await officer.postForm('/console/emergencies', { ...form, _csrf: own }, { origin: 'https://evil.example' })).status).toBe(403);
    expect(await emergencies()).toBe(0);

    // Through the API: the session cookie without x-csrf-token is refused too.
    const api = await officer.request('/v1/emergencies', {
      method: 'POST',
      body: JSON.stringify({ areas: ['aomori'], reason: 'storm', durationMinutes: 60 }),
      headers: { 'content-type': 'application/json' },
      follow: false,
    });
    expect(api.status).toBe(403);
    expect(JSON.parse(api.text)).toMatchObject({ code: 'console.csrf-rejected' });
    expect(await emergencies()).toBe(0);
    // Reads need no token.
    expect((await officer.get('/v1/emergencies?status=active')).status).toBe(200);
    // With the token it goes through.
    expect((await officer.postForm('/console/emergencies', { ...form, _csrf: own })).status).toBe(303);
    expect(await emergencies()).toBe(1);
  });

  it('a transfer ends the person’s sessions at its effective instant, and the HR job revokes the rest', async () => {
    await transfer(database.db, { personId: 'E1005', company: 'ep', at: TRANSFER_AT, now: NOW });
    // Signed in half an hour before it takes effect.
    const before = plusMs(TRANSFER_AT, -30 * 60_000);
    server.setNow(before);
    const seen = await sessionFor(server, database.db, 'E1005', before);
    const idle = await sessionFor(server, database.db, 'E1005', before);
    expect((await seen.get('/console/account')).status).toBe(200);

    server.setNow(plusMs(TRANSFER_AT, 1000));
    // No job has run: the session is refused all the same, and revoked.
    const after = await seen.request('/console/account', { follow: false });
    expect(after.status).toBe(303);
    expect(after.location).toMatch(/^\/console\/login/);

    await applyDueEvents({ db: database.db, now: plusMs(TRANSFER_AT, 1000) });
    const rows = await database.db.select().from(consoleSessions).where(eq(consoleSessions.personId, 'E1005'));
    expect(rows.map((r) => r.revokedReason).sort()).toEqual(['affiliation-changed', 'transfer']);
    expect((await idle.request('/console/account', { follow: false })).status).toBe(303);
    const audit = await database.db
      .select()
      .from(auditRecords)
      .where(and(eq(auditRecords.action, 'console-session.revoked'), eq(auditRecords.subjectId, 'E1005')));
    expect(audit.map((a) => a.data.reason)).toEqual(['transfer']);
    server.setNow(NOW);
  });

  it('a leave revokes the leaver’s sessions when the HR job applies it', async () => {
    server.setNow(NOW);
    await sessionFor(server, database.db, 'E1011', NOW);
    await leave(database.db, { personId: 'E1011', at: plusMs(NOW, 60_000), now: NOW });
    await applyDueEvents({ db: database.db, now: plusMs(NOW, 60_000) });
    const rows = await database.db.select().from(consoleSessions).where(eq(consoleSessions.personId, 'E1011'));
    expect(rows.map((r) => r.revokedReason)).toEqual(['leave']);
  });

  it('the end of an emergency ends the console sessions of the roster members for its areas, and only theirs', async () => {
    const member = await sessionFor(server, database.db, 'R2002', NOW);
    const bystander = await sessionFor(server, database.db, 'R2004', NOW);
    expect((await member.get('/console/account')).status).toBe(200);
    const token = await server.token('emergency');
    const post = (path: string, body?: unknown) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const declared = (await (await post('/v1/emergencies', { areas: ['aomori'], reason: 'flood', durationMinutes: 60 })).json()) as { id: string };
    expect((await post(`/v1/emergencies/${declared.id}/end`)).status).toBe(200);

    expect((await member.request('/console/account', { follow: false })).status).toBe(303);
    expect((await bystander.get('/console/account')).status).toBe(200);
    const [row] = await database.db.select().from(consoleSessions).where(eq(consoleSessions.personId, 'R2002'));
    expect(row!.revokedReason).toBe('emergency-ended');
  });

  it('signing out ends the session for good', async () => {
    const b = await sessionFor(server, database.db, 'E1003', NOW);
    const csrf = await b.csrf();
    const out = await b.postForm('/console/logout', { _csrf: csrf });
    expect(out.status).toBe(303);
    expect(b.cookies.has('sekisho_session')).toBe(false);
  });

  it('the development provider is on by itself only in demo mode, and with DATABASE_URL only on explicit opt-in', () => {
    expect(loadConfig({}).console.devIdp).toBe(true);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/sekisho' }).console.devIdp).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/sekisho', SEKISHO_SEED: 'demo' }).console.devIdp).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/sekisho', SEKISHO_DEV_IDP: 'on' }).console.devIdp).toBe(true);
    expect(loadConfig({ OIDC_ISSUER: 'https://login.example.jp', OIDC_CLIENT_ID: 'sekisho' }).console.devIdp).toBe(false);
    expect(loadConfig({ SEKISHO_SEED: 'none' }).console.devIdp).toBe(false);
    expect(() => loadConfig({ SEKISHO_DEV_IDP: 'on', OIDC_ISSUER: 'https://login.example.jp', OIDC_CLIENT_ID: 'x' })).toThrow(/exclusive/);
    expect(() => loadConfig({ SEKISHO_CONSOLE_ROLES: 'E1001=superuser' })).toThrow(/SEKISHO_CONSOLE_ROLES/);
    expect(loadConfig({ SEKISHO_CONSOLE_ROLES: 'E1001=admin, compliance; E1002=emergency-officer' }).console.roles).toEqual({
      E1001: ['admin', 'compliance'],
      E1002: ['emergency-officer'],
    });
  });
});
