import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { and, asc, eq, sql } from 'drizzle-orm';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auditRecords } from '../../src/audit/schema.js';
import { createApiToken } from '../../src/credentials/api-tokens.js';
import { Keyring } from '../../src/credentials/encryption.js';
import { sharedSecretHolders, sharedSecrets } from '../../src/credentials/schema.js';
import {
  createSharedSecret,
  flagOverdueSecrets,
  getSharedSecret,
  rotateSharedSecret,
  sharedSecretAad,
} from '../../src/credentials/shared-secrets.js';
import { mountSharedSecretRoutes } from '../../src/credentials/shared-secret-routes.js';
import { queryRows, type Db } from '../../src/db/client.js';
import { applyDueEvents } from '../../src/hr/jobs.js';
import type { AppDeps } from '../../src/http/deps.js';
import { problemHandler } from '../../src/http/problem.js';
import { RouteTable } from '../../src/http/route.js';
import { createLogger } from '../../src/logger.js';
import { outboxEvents } from '../../src/outbox/schema.js';
import { makeTakuso } from '../support/access.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../support/db.js';
import { at, hire, leave, makeUtilityGroup, plusMs, T0, transfer, uniqueId } from '../support/factories.js';
import { startTestServer, testKeyring, type TestServer } from '../support/http.js';

const DAY = 24 * 60 * 60 * 1000;
const keyA = Buffer.alloc(32, 1);
const keyB = Buffer.alloc(32, 2);

/** Every table a shared-secret request can write to: counts and a content digest. */
const WRITTEN = ['shared_secrets', 'shared_secret_holders', 'audit_records', 'outbox_events'] as const;
async function tables(db: Db): Promise<Record<string, { rows: number; digest: string }>> {
  const out: Record<string, { rows: number; digest: string }> = {};
  for (const table of WRITTEN) {
    const [row] = await queryRows<{ rows: number; digest: string }>(
      db,
      sql`select count(*)::int as rows, coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as digest from ${sql.identifier(table)} t`,
    );
    out[table] = { rows: Number(row!.rows), digest: row!.digest };
  }
  return out;
}

const holdersOf = (db: Db, secretId: string) =>
  db
    .select({ personId: sharedSecretHolders.personId, version: sharedSecretHolders.version, company: sharedSecretHolders.companyCode, exposedAt: sharedSecretHolders.exposedAt, exposedTo: sharedSecretHolders.exposedToCompany })
    .from(sharedSecretHolders)
    .where(eq(sharedSecretHolders.secretId, secretId))
    .orderBy(asc(sharedSecretHolders.version), asc(sharedSecretHolders.personId));

const rowOf = async (db: Db, id: string) => (await db.select().from(sharedSecrets).where(eq(sharedSecrets.id, id)))[0]!;

/** Everything Sekisho wrote about a secret where someone other than an administrator's one-time answer could read it. */
async function everythingWrittenAbout(db: Db, secretId: string): Promise<string> {
  const audit = await db.select().from(auditRecords).where(eq(auditRecords.subjectId, secretId));
  const events = await db.select().from(outboxEvents).where(eq(outboxEvents.subjectId, secretId));
  return JSON.stringify({ audit, events });
}

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ poolSize: 12 });
  await makeUtilityGroup(database.db);
  await makeTakuso(database.db);
});
afterAll(() => database.close());

describe('shared secrets at rest', () => {
  it('stores ciphertext that is not the plaintext and opens only with the key id it was sealed under', async () => {
    const { db } = database;
    const holder = await hire(db, { company: 'nw', at: T0 });
    const value = 'takuso-admin-P@ssw0rd-2026';
    const oldRing = new Keyring([{ id: 'k1', key: keyA }]);
    const { id, secret } = await createSharedSecret({ db, now: T0, actor: 'test', keyring: oldRing, system: 'takuso', name: uniqueId('admin'), knownBy: [holder], value });
    expect(secret).toBeUndefined(); // the caller's own value is never echoed

    const row = await rowOf(db, id);
    expect(row.keyId).toBe('k1');
    expect(row.ciphertext.includes(Buffer.from(value))).toBe(false);
    expect(row.ciphertext.toString('utf8')).not.toBe(value);
    expect(oldRing.open(row, sharedSecretAad(id, 1)).toString()).toBe(value);
    // Same key id, different key: the tag does not verify.
    expect(() => new Keyring([{ id: 'k1', key: keyB }]).open(row, sharedSecretAad(id, 1))).toThrow();
    // A keyring without k1 cannot open it at all.
    expect(() => new Keyring([{ id: 'k2', key: keyB }]).open(row, sharedSecretAad(id, 1))).toThrow(/k1/);
    // Keys rotated by prepending a new one: old data still opens.
    const rotatedRing = new Keyring([{ id: 'k2', key: keyB }, { id: 'k1', key: keyA }]);
    expect(rotatedRing.open(row, sharedSecretAad(id, 1)).toString()).toBe(value);
    // Bound to its row and version: the same blob read as another row or version does not open.
    expect(() => oldRing.open(row, sharedSecretAad(randomUUID(), 1))).toThrow();
    expect(() => oldRing.open(row, sharedSecretAad(id, 2))).toThrow();

    // The next version is sealed under the new current key.
    const rotated = await rotateSharedSecret({ db, now: plusMs(T0, DAY), actor: 'test', keyring: rotatedRing, id });
    const after = await rowOf(db, id);
    expect(after.keyId).toBe('k2');
    expect(rotatedRing.open(after, sharedSecretAad(id, 2)).toString()).toBe(rotated.secret);
    expect(() => oldRing.open(after, sharedSecretAad(id, 2))).toThrow();
    expect(await everythingWrittenAbout(db, id)).not.toContain(value);
    expect(await everythingWrittenAbout(db, id)).not.toContain(rotated.secret);
  });
});

describe('a wheeling employee who knows the system’s shared password is transferred to retail', () => {
  const T = at('2027-04-01T00:00:00+09:00');
  const after = plusMs(T, 1);
  const value = 'shared-takuso-root-password';
  let moverId: string;
  let colleagueId: string;
  let secretId: string;
  let newSecret: string;

  beforeAll(async () => {
    const { db } = database;
    moverId = await hire(db, { company: 'nw', at: T0 });
    colleagueId = await hire(db, { company: 'nw', at: T0 });
    secretId = (await createSharedSecret({ db, now: T0, actor: 'test', keyring: testKeyring, system: 'takuso', name: uniqueId('root'), knownBy: [moverId, colleagueId], value })).id;
    await transfer(db, { personId: moverId, company: 'ep', at: T, now: T0 });
  });

  it('is fine one second before the transfer takes effect', async () => {
    expect(await getSharedSecret({ db: database.db, now: plusMs(T, -1000), id: secretId })).toMatchObject({ status: 'ok', exposedTo: [] });
  });

  it('shows the mover as exposed from the effective instant, before the HR job has run', async () => {
    const view = await getSharedSecret({ db: database.db, now: after, id: secretId });
    expect(view).toMatchObject({ status: 'rotation_required', exposedTo: [{ personId: moverId, company: 'ep' }] });
    expect((await rowOf(database.db, secretId)).status).toBe('ok'); // nothing stored yet: the view follows the timeline
  });

  it('is rotation_required with the exposure recorded once the job has run, and the colleague who stayed is not listed', async () => {
    const { db } = database;
    await applyDueEvents({ db, now: after });
    const row = await rowOf(db, secretId);
    expect(row).toMatchObject({ status: 'rotation_required', rotationReason: 'holder-transferred', rotationRequiredAt: after });
    const view = await getSharedSecret({ db, now: after, id: secretId });
    expect(view.status).toBe('rotation_required');
    expect(view.exposedTo).toEqual([{ personId: moverId, company: 'ep' }]);
    expect(await holdersOf(db, secretId)).toEqual(
      [
        { personId: moverId, version: 1, company: 'nw', exposedAt: after, exposedTo: 'ep' },
        { personId: colleagueId, version: 1, company: 'nw', exposedAt: null, exposedTo: null },
      ].sort((a, b) => a.personId.localeCompare(b.personId)),
    );
    const events = await db.select().from(outboxEvents).where(and(eq(outboxEvents.subjectId, secretId), eq(outboxEvents.type, 'shared-secret.rotation-required')));
    expect(events.map((e) => e.payload)).toEqual([
      { secretId, system: 'takuso', name: row.name, version: 1, reason: 'holder-transferred', exposedTo: [{ personId: moverId, company: 'ep' }] },
    ]);
    const audit = await db.select().from(auditRecords).where(and(eq(auditRecords.subjectId, secretId), eq(auditRecords.action, 'shared-secret.rotation-required')));
    expect(audit).toHaveLength(1);
    expect(audit[0]!.data).toMatchObject({ reason: 'holder-transferred', exposed: [{ personId: moverId, learnedUnder: 'nw', company: 'ep' }] });
    expect(await everythingWrittenAbout(db, secretId)).not.toContain(value);
  });

  it('is rotated to a new secret at version 2 shown once, exposure cleared, the old holders’ history kept and the colleague carried over', async () => {
    const { db } = database;
    const now = plusMs(T, 60 * 60 * 1000);
    const rotated = await rotateSharedSecret({ db, now, actor: 'test', keyring: testKeyring, id: secretId });
    newSecret = rotated.secret;
    expect(rotated).toMatchObject({ id: secretId, status: 'ok', version: 2 });
    expect(newSecret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(newSecret).not.toBe(value);
    expect(await getSharedSecret({ db, now, id: secretId })).toMatchObject({ status: 'ok', exposedTo: [] });
    expect(await rowOf(db, secretId)).toMatchObject({ status: 'ok', version: 2, rotatedAt: now, rotationRequiredAt: null, rotationReason: null });
    const holders = await holdersOf(db, secretId);
    expect(holders.filter((h) => h.version === 1)).toHaveLength(2);
    expect(holders.find((h) => h.version === 1 && h.personId === moverId)).toMatchObject({ exposedAt: after, exposedTo: 'ep' });
    expect(holders.filter((h) => h.version === 2)).toEqual([{ personId: colleagueId, version: 2, company: 'nw', exposedAt: null, exposedTo: null }]);
    expect(testKeyring.open(await rowOf(db, secretId), sharedSecretAad(secretId, 2)).toString()).toBe(newSecret);
    expect(await everythingWrittenAbout(db, secretId)).not.toContain(newSecret);
  });

  it('lists a new holder told the secret in their new company only once they move again', async () => {
    const { db } = database;
    const now = plusMs(T, 2 * 60 * 60 * 1000);
    const rotated = await rotateSharedSecret({ db, now, actor: 'test', keyring: testKeyring, id: secretId, knownBy: [moverId, colleagueId] });
    expect(rotated.version).toBe(3);
    expect((await holdersOf(db, secretId)).filter((h) => h.version === 3).map((h) => [h.personId, h.company])).toEqual(
      [[moverId, 'ep'], [colleagueId, 'nw']].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );
    expect(await getSharedSecret({ db, now, id: secretId })).toMatchObject({ status: 'ok', exposedTo: [] });
    const back = plusMs(T, 30 * DAY);
    await transfer(db, { personId: moverId, company: 'nw', at: back, now });
    await applyDueEvents({ db, now: plusMs(back, 1) });
    expect(await getSharedSecret({ db, now: plusMs(back, 1), id: secretId })).toMatchObject({ status: 'rotation_required', exposedTo: [{ personId: moverId, company: 'nw' }] });
  });
});

describe('a leaver who knew a shared secret', () => {
  it('flags the secret for rotation, listed with no company', async () => {
    const { db } = database;
    const leaverId = await hire(db, { company: 'nw', at: T0 });
    const stayerId = await hire(db, { company: 'nw', at: T0 });
    const { id } = await createSharedSecret({ db, now: T0, actor: 'test', keyring: testKeyring, system: 'takuso', name: uniqueId('batch'), knownBy: [leaverId, stayerId] });
    const L = at('2027-06-30T00:00:00+09:00');
    await leave(db, { personId: leaverId, at: L, now: T0 });
    await applyDueEvents({ db, now: plusMs(L, 1) });
    expect(await rowOf(db, id)).toMatchObject({ status: 'rotation_required', rotationReason: 'holder-left' });
    expect(await getSharedSecret({ db, now: plusMs(L, 1), id })).toMatchObject({ status: 'rotation_required', exposedTo: [{ personId: leaverId, company: null }] });
    const [holder] = (await holdersOf(db, id)).filter((h) => h.personId === leaverId);
    expect(holder).toMatchObject({ exposedAt: plusMs(L, 1), exposedTo: null });
  });
});

describe('the maximum-age job', () => {
  it('flags an overdue secret once and leaves a fresh one alone, safe to run twice', async () => {
    const { db } = database;
    const holder = await hire(db, { company: 'nw', at: T0 });
    const created = plusMs(T0, 400 * DAY);
    const overdue = await createSharedSecret({ db, now: created, actor: 'test', keyring: testKeyring, system: 'takuso', name: uniqueId('old'), knownBy: [holder], maxAgeDays: 90 });
    const fresh = await createSharedSecret({ db, now: plusMs(created, 80 * DAY), actor: 'test', keyring: testKeyring, system: 'takuso', name: uniqueId('fresh'), knownBy: [holder], maxAgeDays: 90 });
    const noLimit = await createSharedSecret({ db, now: created, actor: 'test', keyring: testKeyring, system: 'takuso', name: uniqueId('nolimit'), knownBy: [holder] });

    // Exactly 90 days old is not yet overdue.
    expect((await flagOverdueSecrets({ db, now: plusMs(created, 90 * DAY) })).flagged).not.toContain(overdue.id);
    const now = plusMs(created, 91 * DAY);
    expect((await flagOverdueSecrets({ db, now })).flagged).toEqual([overdue.id]);
    expect((await flagOverdueSecrets({ db, now: plusMs(now, 1000) })).flagged).toEqual([]);

    expect(await rowOf(db, overdue.id)).toMatchObject({ status: 'rotation_required', rotationReason: 'max-age', rotationRequiredAt: now });
    expect((await rowOf(db, fresh.id)).status).toBe('ok');
    expect((await rowOf(db, noLimit.id)).status).toBe('ok');
    const audit = await db.select().from(auditRecords).where(and(eq(auditRecords.subjectId, overdue.id), eq(auditRecords.action, 'shared-secret.rotation-required')));
    expect(audit.map((a) => a.data)).toEqual([expect.objectContaining({ reason: 'max-age', exposed: [] })]);
    const events = await db.select().from(outboxEvents).where(and(eq(outboxEvents.subjectId, overdue.id), eq(outboxEvents.type, 'shared-secret.rotation-required')));
    expect(events).toHaveLength(1);

    // A rotation restarts the clock.
    await rotateSharedSecret({ db, now: plusMs(now, DAY), actor: 'test', keyring: testKeyring, id: overdue.id });
    expect((await flagOverdueSecrets({ db, now: plusMs(now, 2 * DAY) })).flagged).toEqual([]);
  });
});

describe('the shared-secrets API', () => {
  let server: TestServer;
  let holder: string;
  let before: Awaited<ReturnType<typeof tables>>;

  beforeAll(async () => {
    holder = await hire(database.db, { company: 'nw', at: T0 });
    server = await startTestServer(database, { now: plusMs(T0, DAY) });
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    before = await tables(database.db);
  });

  const call = (method: string, path: string, opts: { token?: string; body?: unknown } = {}) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${opts.token ?? server.adminToken}`,
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    });

  it('registers a secret, shows it without the value, and rotates it to a new value shown once', async () => {
    const created = await call('POST', '/v1/shared-secrets', { body: { system: 'takuso', name: uniqueId('api'), knownBy: [holder] } });
    expect(created.status).toBe(201);
    const { id, status, secret } = (await created.json()) as { id: string; status: string; secret: string };
    expect(status).toBe('ok');
    expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);

    const got = await call('GET', `/v1/shared-secrets/${id}`);
    expect(got.status).toBe(200);
    const text = await got.text();
    expect(JSON.parse(text)).toEqual({ id, system: 'takuso', name: expect.any(String), status: 'ok', exposedTo: [] });
    expect(text).not.toContain(secret);

    const rotated = await call('POST', `/v1/shared-secrets/${id}/rotate`);
    expect(rotated.status).toBe(200);
    const body = (await rotated.json()) as { secret: string };
    expect(body).toEqual({ id, status: 'ok', version: 2, secret: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) });
    expect(body.secret).not.toBe(secret);

    const again = await (await call('GET', `/v1/shared-secrets/${id}`)).text();
    expect(again).not.toContain(secret);
    expect(again).not.toContain(body.secret);
    expect(await everythingWrittenAbout(database.db, id)).not.toContain(body.secret);
  });

  it('keeps a value the team already uses, never echoing it, and takes the new holders of a rotation from an optional body', async () => {
    const value = 'the-password-on-the-sticky-note';
    const created = await call('POST', '/v1/shared-secrets', { body: { system: 'takuso', name: uniqueId('kept'), knownBy: [holder], value, maxAgeDays: 30 } });
    expect(created.status).toBe(201);
    const text = await created.text();
    expect(text).not.toContain(value);
    const { id } = JSON.parse(text) as { id: string };
    expect(await rowOf(database.db, id)).toMatchObject({ maxAgeDays: 30, version: 1 });
    const rotated = await call('POST', `/v1/shared-secrets/${id}/rotate`, { body: { knownBy: [] } });
    expect(rotated.status).toBe(200);
    expect((await holdersOf(database.db, id)).filter((h) => h.version === 2)).toEqual([]);
  });

  it('refuses a token without the admin scope with 403 on every endpoint and writes nothing', async () => {
    const hrToken = await server.token('hr');
    before = await tables(database.db);
    const id = randomUUID();
    for (const [method, path, body] of [
      ['POST', '/v1/shared-secrets', { system: 'takuso', name: 'x', knownBy: [] }],
      ['GET', `/v1/shared-secrets/${id}`, undefined],
      ['POST', `/v1/shared-secrets/${id}/rotate`, undefined],
    ] as const) {
      const res = await call(method, path, { token: hrToken, body });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('auth.forbidden');
    }
    expect(await tables(database.db)).toEqual(before);
  });

  it('answers 422 for an unknown system or person and writes nothing', async () => {
    const unknownSystem = await call('POST', '/v1/shared-secrets', { body: { system: 'no-such-system', name: uniqueId('x'), knownBy: [holder] } });
    expect(unknownSystem.status).toBe(422);
    expect(await unknownSystem.json()).toMatchObject({ code: 'credentials.unknown-system', errors: [{ path: '/system' }] });
    const unknownPerson = await call('POST', '/v1/shared-secrets', { body: { system: 'takuso', name: uniqueId('x'), knownBy: [holder, 'E-nobody'] } });
    expect(unknownPerson.status).toBe(422);
    expect(await unknownPerson.json()).toMatchObject({ code: 'credentials.shared-secret-unknown-person', errors: [{ path: '/knownBy/1' }] });
    expect(await tables(database.db)).toEqual(before);
  });

  it('answers 422 for an unknown new holder on rotation and leaves the secret as it was', async () => {
    const { id } = await createSharedSecret({ db: database.db, now: T0, actor: 'test', keyring: testKeyring, system: 'takuso', name: uniqueId('rot'), knownBy: [holder] });
    before = await tables(database.db);
    const res = await call('POST', `/v1/shared-secrets/${id}/rotate`, { body: { knownBy: ['E-nobody'] } });
    expect(res.status).toBe(422);
    expect(await tables(database.db)).toEqual(before);
  });

  it('answers 400 for unknown fields and 409 for a name already used in the system, writing nothing', async () => {
    const name = uniqueId('dup');
    expect((await call('POST', '/v1/shared-secrets', { body: { system: 'takuso', name, knownBy: [holder] } })).status).toBe(201);
    before = await tables(database.db);
    const extra = await call('POST', '/v1/shared-secrets', { body: { system: 'takuso', name: uniqueId('x'), knownBy: [], secret: 'sneaky' } });
    expect(extra.status).toBe(400);
    const dup = await call('POST', '/v1/shared-secrets', { body: { system: 'takuso', name, knownBy: [holder] } });
    expect(dup.status).toBe(409);
    expect(((await dup.json()) as { code: string }).code).toBe('credentials.shared-secret-name-taken');
    const { id } = await createSharedSecret({ db: database.db, now: T0, actor: 'test', keyring: testKeyring, system: 'takuso', name: uniqueId('r'), knownBy: [] });
    before = await tables(database.db);
    expect((await call('POST', `/v1/shared-secrets/${id}/rotate`, { body: { knownBy: [], bogus: 1 } })).status).toBe(400);
    expect(await tables(database.db)).toEqual(before);
  });

  it('answers 404 for an unknown id on read and rotate', async () => {
    const id = randomUUID();
    for (const [method, path] of [['GET', `/v1/shared-secrets/${id}`], ['POST', `/v1/shared-secrets/${id}/rotate`]] as const) {
      const res = await call(method, path);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe('credentials.shared-secret-not-found');
    }
    expect(await tables(database.db)).toEqual(before);
  });

  it('answers 503 when no encryption keys are configured, storing nothing', async () => {
    const token = (await createApiToken({ db: database.db, now: T0, actor: 'test', name: 'no-keys', scopes: ['admin'] })).value;
    const { id } = await createSharedSecret({ db: database.db, now: T0, actor: 'test', keyring: testKeyring, system: 'takuso', name: uniqueId('nk'), knownBy: [] });
    // Only these routes, on the deps they read: the app's full dependency list is not this test's business.
    const deps = { db: database.db, clock: () => T0, keyring: undefined, logger: createLogger('silent') } satisfies Partial<AppDeps>;
    const app = express();
    const router = express.Router();
    mountSharedSecretRoutes(router, new RouteTable(), deps as unknown as AppDeps);
    app.use(router);
    app.use(problemHandler(deps.logger));
    const bare: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      before = await tables(database.db);
      const url = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const create = await fetch(`${url}/v1/shared-secrets`, { method: 'POST', headers, body: JSON.stringify({ system: 'takuso', name: uniqueId('x'), knownBy: [] }) });
      expect(create.status).toBe(503);
      expect(((await create.json()) as { code: string }).code).toBe('credentials.encryption-not-configured');
      expect((await fetch(`${url}/v1/shared-secrets/${id}/rotate`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status).toBe(503);
      expect(await tables(database.db)).toEqual(before);
    } finally {
      bare.closeAllConnections();
      await new Promise((resolve) => bare.close(resolve));
    }
  });
});

// PGlite is a single connection: transactions run one after another, so concurrent rotations
// cannot interleave there and the row lock is not exercised. Real PostgreSQL only.
describe.skipIf(!onPostgres)('concurrent rotations of one shared secret', () => {
  it('give every rotation its own version: 10 at once end at version 11 with versions 2…11 each used once', async () => {
    const { db } = database;
    const holder = await hire(db, { company: 'nw', at: T0 });
    const { id } = await createSharedSecret({ db, now: T0, actor: 'test', keyring: testKeyring, system: 'takuso', name: uniqueId('race'), knownBy: [holder] });
    const now = plusMs(T0, DAY);
    const results = await Promise.all(Array.from({ length: 10 }, () => rotateSharedSecret({ db, now, actor: 'test', keyring: testKeyring, id })));
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(new Set(results.map((r) => r.secret)).size).toBe(10);
    const row = await rowOf(db, id);
    expect(row.version).toBe(1 + 10);
    // The stored value is the last rotation's, sealed for version 11.
    const last = results.find((r) => r.version === 11)!;
    expect(testKeyring.open(row, sharedSecretAad(id, 11)).toString()).toBe(last.secret);
    // The carried-over holder appears once per version.
    expect((await holdersOf(db, id)).map((h) => h.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});
