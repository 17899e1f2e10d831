import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRecords } from '../../src/audit/schema.js';
import { deliveries, signingKeys, subscribers } from '../../src/outbox/schema.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { plusMs, T0 } from '../support/factories.js';
import { startTestServer, testKeyring, type TestServer } from '../support/http.js';
import { commitEvents } from './support.js';

describe('registering connected systems as subscribers', () => {
  let database: TestDatabase;
  let server: TestServer;
  let webhook: { id: string; secret: string };
  let set: { id: string; secret: string; audience: string; eventTypes: string[] };

  const call = async (method: string, path: string, body?: unknown, token = server.adminToken) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };
  const json = <T>(r: { text: string }) => JSON.parse(r.text) as T;
  const counts = async () => ({ subscribers: await database.db.$count(subscribers), audit: await database.db.$count(auditRecords) });

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await startTestServer(database, { now: T0 });
    const w = await call('POST', '/v1/subscribers', { name: 'takuso', url: 'https://takuso.example/hooks', eventTypes: ['credential.revoked', 'grant.revoked'] });
    expect(w.status).toBe(201);
    webhook = json(w);
    const s = await call('POST', '/v1/subscribers', { name: 'idp', url: 'https://idp.example/ssf/push', format: 'set' });
    expect(s.status).toBe(201);
    set = json(s);
  });
  afterAll(async () => {
    await server?.close();
    await database?.close();
  });

  it('returns a Standard Webhooks secret of 32 random bytes once, on creation', () => {
    for (const secret of [webhook.secret, set.secret]) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    }
    expect(webhook.secret).not.toBe(set.secret);
  });

  it('gives a SET subscriber its URL as audience and only the events CAEP can carry', () => {
    expect(set).toMatchObject({ audience: 'https://idp.example/ssf/push', eventTypes: ['credential.revoked', 'session.revoked'] });
  });

  it('never shows a secret in the subscriber list', async () => {
    const list = await call('GET', '/v1/subscribers');
    expect(list.status).toBe(200);
    const { items } = json<{ items: Record<string, unknown>[] }>(list);
    expect(items.map((i) => i.id).sort()).toEqual([webhook.id, set.id].sort());
    expect(items.every((i) => !('secret' in i))).toBe(true);
    for (const secret of [webhook.secret, set.secret]) {
      expect(list.text).not.toContain(secret);
      expect(list.text).not.toContain(secret.slice(6));
    }
  });

  it('keeps secrets and the SET private key only sealed in the database (and out of the audit chain)', async () => {
    const rows = await database.db.select().from(subscribers);
    const keys = await database.db.select().from(signingKeys);
    const audit = await database.db.select().from(auditRecords);
    const everything = [...rows, ...keys, ...audit];
    const dump = JSON.stringify(everything);
    const binary = Buffer.concat(everything.flatMap((r) => Object.values(r).filter((v): v is Buffer => Buffer.isBuffer(v))));
    for (const secret of [webhook.secret, set.secret]) {
      expect(dump).not.toContain(secret.slice(6));
      expect(binary.includes(Buffer.from(secret.slice(6), 'base64'))).toBe(false);
      expect(binary.includes(Buffer.from(secret))).toBe(false);
    }
    // The sealed secret opens with the keyring, bound to its own row.
    const sealed = rows.find((r) => r.id === webhook.id)!;
    const box = { ciphertext: sealed.secretCiphertext, iv: sealed.secretIv, authTag: sealed.secretAuthTag, keyId: sealed.secretKeyId };
    expect(testKeyring.open(box, `subscriber:${webhook.id}`).toString()).toBe(webhook.secret);
    expect(() => testKeyring.open(box, `subscriber:${set.id}`)).toThrow();
    // One signing key; its private half (the JWK "d") is nowhere in clear.
    expect(keys).toHaveLength(1);
    const privateJwk = JSON.parse(testKeyring.open({ ciphertext: keys[0]!.privateCiphertext, iv: keys[0]!.privateIv, authTag: keys[0]!.privateAuthTag, keyId: keys[0]!.privateKeyId }, `signing-key:${keys[0]!.kid}`).toString()) as { d: string };
    expect(privateJwk.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(dump).not.toContain(privateJwk.d);
  });

  it('publishes only the public signing key at /.well-known/jwks.json, without authentication', async () => {
    const res = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(Object.keys(keys[0]!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  });

  it.each([
    ['an unknown field', { name: 'x', url: 'https://x.example', secret: 'mine' }],
    ['a non-HTTP URL', { name: 'x', url: 'ftp://x.example/hooks' }],
    ['a URL with credentials', { name: 'x', url: 'https://user:pw@x.example/hooks' }],
    ['an audience for a webhook', { name: 'x', url: 'https://x.example', audience: 'x' }],
    ['a SET subscriber for events CAEP cannot carry', { name: 'x', url: 'https://x.example', format: 'set', eventTypes: ['grant.revoked'] }],
    ['an unknown format', { name: 'x', url: 'https://x.example', format: 'xml' }],
  ])('rejects %s with a problem and changes nothing', async (_what, body) => {
    const before = await counts();
    const res = await call('POST', '/v1/subscribers', body);
    expect(res.status).toBe(400);
    expect(json<{ code: string }>(res).code).toBe('request.invalid');
    expect(await counts()).toEqual(before);
  });

  it('lets only admin tokens manage subscribers', async () => {
    const hrToken = await server.token('hr');
    const before = await database.db.$count(subscribers);
    expect((await call('POST', '/v1/subscribers', { name: 'x', url: 'https://x.example' }, hrToken)).status).toBe(403);
    expect((await call('GET', '/v1/subscribers', undefined, 'nope')).status).toBe(401);
    expect(await database.db.$count(subscribers)).toBe(before);
  });

  it('deactivates a subscriber: its pending deliveries are cancelled and later events are not fanned out to it', async () => {
    const now = plusMs(T0, 1000);
    await commitEvents(database.db, now, 2);
    const pendingFor = async (id: string) => (await database.db.select().from(deliveries).where(eq(deliveries.subscriberId, id))).map((d) => d.status);
    expect(await pendingFor(webhook.id)).toEqual(['pending', 'pending']);
    const res = await call('DELETE', `/v1/subscribers/${webhook.id}`);
    expect(res.status).toBe(200);
    expect(json<{ active: boolean }>(res).active).toBe(false);
    expect(res.text).not.toContain(webhook.secret);
    expect(await pendingFor(webhook.id)).toEqual(['cancelled', 'cancelled']);
    await commitEvents(database.db, now, 1);
    expect(await pendingFor(webhook.id)).toHaveLength(2);
    expect((await call('DELETE', `/v1/subscribers/${webhook.id}`)).status).toBe(200);
    expect(json<{ code: string }>(await call('DELETE', '/v1/subscribers/00000000-0000-4000-8000-000000000000')).code).toBe('outbox.subscriber-not-found');
    expect((await call('DELETE', '/v1/subscribers/not-a-uuid')).status).toBe(400);
  });

  it('answers 404 for the deliveries of an unknown event', async () => {
    const res = await call('GET', '/v1/outbox/events/00000000-0000-4000-8000-000000000000/deliveries');
    expect(res.status).toBe(404);
    expect(json<{ code: string }>(res).code).toBe('outbox.event-not-found');
  });
});
