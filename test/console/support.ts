import { expect } from 'vitest';
import { seedDemo } from '../../src/demo/seed.js';
import { createConsoleSession } from '../../src/console/sessions.js';
import type { Db } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startTestServer, TEST_HR_SECRET, type TestServer } from '../support/http.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';

export const DEMO_CREDENTIALS = { adminToken: 'sks_console-test-admin-token-0000000000000', hrWebhookSecret: TEST_HR_SECRET, encryptionKeys: 'test:' + Buffer.alloc(32, 7).toString('base64') };

/** The demo organisation (people E1001…, R2001…, the roster, the customer system) behind a test server. */
export async function startConsoleServer(now: Date, env: Record<string, string> = {}): Promise<{ database: TestDatabase; server: TestServer }> {
  const database = await createTestDatabase();
  await seedDemo(database.db, now, DEMO_CREDENTIALS);
  const server = await startTestServer(database, { now, env });
  return { database, server };
}

/**
 * A browser's cookie handling, enough for these tests: cookies kept by name (host and path
 * ignored: one server), redirects followed by hand so every Set-Cookie along the way is kept.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  /** Every Set-Cookie header seen, in order. */
  readonly setCookieLines: string[] = [];
  constructor(readonly server: TestServer) {}

  private absorb(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      this.setCookieLines.push(line);
      const [pair, ...attrs] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (value === '' || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private url(path: string): string {
    // The app names itself http://localhost:port; talk to the same server on 127.0.0.1.
    return path.startsWith('http') ? path.replace(this.server.publicUrl, this.server.url) : `${this.server.url}${path}`;
  }

  async request(path: string, init: RequestInit & { follow?: boolean } = {}): Promise<{ status: number; text: string; headers: Headers; location?: string; url: string }> {
    let url = this.url(path);
    let method = init.method ?? 'GET';
    let body = init.body;
    for (let hops = 0; hops < 20; hops++) {
      const headers = new Headers(init.headers);
      if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
      const res = await fetch(url, { method, body, headers, redirect: 'manual' });
      this.absorb(res);
      const location = res.headers.get('location') ?? undefined;
      if (init.follow !== false && location && res.status >= 300 && res.status < 400) {
        url = this.url(new URL(location, this.server.publicUrl).href);
        method = 'GET';
        body = undefined;
        continue;
      }
      return { status: res.status, text: await res.text(), headers: res.headers, location, url };
    }
    throw new Error('too many redirects');
  }

  get(path: string) {
    return this.request(path);
  }

  /** A form post as a page sends it (urlencoded, Origin of the console). */
  postForm(path: string, fields: Record<string, string | string[]>, opts: { follow?: boolean; origin?: string } = {}) {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
    return this.request(path, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: opts.origin ?? this.server.publicUrl },
      follow: opts.follow ?? false,
    });
  }

  /** A script's fetch: JSON with the CSRF header. */
  async postJson(path: string, json: unknown, csrf: string | undefined) {
    const res = await this.request(path, {
      method: 'POST',
      body: JSON.stringify(json),
      headers: { 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}), origin: this.server.publicUrl },
      follow: false,
    });
    return { ...res, json: res.text ? (JSON.parse(res.text) as Record<string, any>) : {} };
  }

  /** The CSRF token a console page carries. */
  async csrf(path = '/console/account'): Promise<string> {
    const page = await this.get(path);
    const m = /<meta name="csrf-token" content="([^"]+)">/.exec(page.text);
    expect(m, `no CSRF token on ${path} (status ${page.status})`).toBeTruthy();
    return m![1]!;
  }
}

/** The whole OpenID Connect flow against the development provider, as a browser would run it. */
export async function signInThroughDevIdp(server: TestServer, personId: string): Promise<Browser> {
  const b = new Browser(server);
  const start = await b.get('/console/login/start?returnTo=/console');
  expect(start.status).toBe(200);
  const uid = /action="\/dev-idp\/interaction\/([^/"]+)\/login"/.exec(start.text)?.[1];
  expect(uid, start.text.slice(0, 500)).toBeTruthy();
  const done = await b.request(`/dev-idp/interaction/${uid}/login`, {
    method: 'POST',
    body: new URLSearchParams({ personId }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  expect(done.status, done.text.slice(0, 500)).toBe(200);
  expect([...b.cookies.keys()]).toContain('sekisho_session');
  return b;
}

/** A session opened directly (the sign-in itself is tested elsewhere). */
export async function sessionFor(server: TestServer, db: Db, personId: string, now: Date): Promise<Browser> {
  const b = new Browser(server);
  const { id } = await createConsoleSession({ db, now, personId, minutes: 480, via: 'test' });
  b.cookies.set('sekisho_session', id);
  return b;
}

/** Registers a software passkey for the signed-in person through the console, and returns it. */
export async function registerPasskey(b: Browser): Promise<SoftAuthenticator> {
  const csrf = await b.csrf();
  const authenticator = new SoftAuthenticator({ origin: b.server.publicUrl, id: 'localhost' });
  const start = await b.postJson('/console/passkeys/options', {}, csrf);
  expect(start.status).toBe(200);
  const done = await b.postJson('/console/passkeys/verify', { challengeId: start.json.challengeId, response: authenticator.register(start.json.options) }, csrf);
  expect(done.status, done.text).toBe(201);
  return authenticator;
}

/** A passkey assertion for the session's person: the session is stepped up for 5 minutes. */
export async function stepUp(b: Browser, authenticator: SoftAuthenticator): Promise<void> {
  const csrf = await b.csrf();
  const start = await b.postJson('/console/step-up/options', {}, csrf);
  expect(start.status).toBe(200);
  const done = await b.postJson('/console/step-up/verify', { challengeId: start.json.challengeId, response: authenticator.assert(start.json.options) }, csrf);
  expect(done.status, done.text).toBe(200);
}
