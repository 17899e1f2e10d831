import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { asc, sql } from 'drizzle-orm';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRecords } from '../../src/audit/schema.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { at, hire, makeUtilityGroup, plusMs, T0, transfer } from '../support/factories.js';
import { startTestServer, type TestServer } from '../support/http.js';

const BUNDLE = fileURLToPath(new URL('../../node_modules/@simplewebauthn/browser/dist/bundle/index.umd.min.js', import.meta.url));
const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-results/', import.meta.url));

const NOW = at('2026-06-01T09:00:00+09:00');
const TRANSFER_AT = at('2026-07-01T00:00:00+09:00');

/**
 * A real passkey, end to end: headless Chromium with a CDP virtual authenticator (a platform
 * authenticator with resident keys and user verification) creates and uses the credential
 * through @simplewebauthn/browser, on a page served by the app itself at its configured public
 * URL (http://localhost:port, a secure context and a valid RP ID). The test plays the connected
 * system's back end: it fetches options and posts the browser's answers with an `authn` token.
 */
describe('a passkey in a real browser', () => {
  let database: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let authn: string;
  let personId: string;

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${authn}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  // The page's global, from the UMD bundle; the test's tsconfig has no DOM types.
  const startRegistration = (optionsJSON: unknown) =>
    page.evaluate((o) => (globalThis as any).SimpleWebAuthnBrowser.startRegistration({ optionsJSON: o }), optionsJSON);
  const startAuthentication = (optionsJSON: unknown) =>
    page.evaluate((o) => (globalThis as any).SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: o }), optionsJSON);

  /** One sign-in ceremony driven through the browser. */
  const signIn = async () => {
    const options = await post('/v1/webauthn/authentication/options', { personId });
    expect(options.status).toBe(200);
    const response = await startAuthentication(options.body.options);
    const verify = await post('/v1/webauthn/authentication/verify', { challengeId: options.body.challengeId, response });
    return { ...verify, challengeId: options.body.challengeId as string, response };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    await makeUtilityGroup(database.db);
    personId = await hire(database.db, { company: 'nw', at: T0 });
    server = await startTestServer(database, { now: NOW });
    authn = await server.token('authn');
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    await page.goto(`${server.publicUrl}/healthz`);
    await page.addScriptTag({ path: BUNDLE });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await database?.close();
  });

  it('registers under the wheeling company, signs in, refuses a replay, and refuses the holder once moved to retail', async () => {
    // Registration.
    const regOptions = await post('/v1/webauthn/registration/options', { personId });
    expect(regOptions.status).toBe(200);
    expect(regOptions.body.options.rp).toEqual({ name: 'Sekisho', id: 'localhost' });
    const attestation = await startRegistration(regOptions.body.options);
    const registered = await post('/v1/webauthn/registration/verify', { challengeId: regOptions.body.challengeId, response: attestation });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ type: 'passkey', company: 'nw', status: 'active' });

    // Authentication.
    const first = await signIn();
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ personId, company: 'nw' });

    // The same assertion again: its challenge is spent.
    const replay = await post('/v1/webauthn/authentication/verify', { challengeId: first.challengeId, response: first.response });
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ code: 'authn.invalid-credentials', detail: 'invalid credentials' });

    // The transfer to retail takes effect; the server's clock is past it, and no job has run.
    await transfer(database.db, { personId, company: 'ep', at: TRANSFER_AT, now: NOW });
    server.setNow(plusMs(TRANSFER_AT, 60_000));
    const moved = await signIn();
    expect(moved.status).toBe(401);
    expect(moved.body).toMatchObject({ code: 'authn.invalid-credentials', detail: 'invalid credentials' });
    const audit = await database.db
      .select()
      .from(auditRecords)
      .where(sql`${auditRecords.data}->>'challengeId' = ${moved.challengeId}`)
      .orderBy(asc(auditRecords.seq));
    expect(audit.map((r) => [r.action, r.data.reason, r.data.credentialCompany])).toEqual([
      ['authn.failed', 'holder-not-affiliated-with-issuing-company', 'nw'],
    ]);

    // A record of the run, on the app's own origin.
    await page.evaluate((lines) => {
      const doc = (globalThis as any).document;
      doc.body.innerHTML = `<h1>Sekisho passkey round trip</h1><ul>${lines.map((l: string) => `<li>${l}</li>`).join('')}</ul>`;
    }, [
      `origin ${server.publicUrl}`,
      `registered: ${registered.body.type} under ${registered.body.company}`,
      `sign-in: ${first.status} ${JSON.stringify(first.body)}`,
      `replayed assertion: ${replay.status}`,
      `after transfer to ep: ${moved.status} (${String(audit[0]?.data.reason)})`,
    ]);
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOT_DIR}passkey.png` });
  });
});
