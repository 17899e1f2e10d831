import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueBadge, issuePassword } from '../../src/credentials/issue.js';
import { applyDueEvents } from '../../src/hr/jobs.js';
import { deliverDue } from '../../src/outbox/deliver.js';
import { CREDENTIAL_CHANGE, SESSION_REVOKED } from '../../src/outbox/set.js';
import { makeTakuso } from '../support/access.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { at, hire, makeUtilityGroup, plusMs, T0, transfer } from '../support/factories.js';
import { startTestServer, testKeyring, type TestServer } from '../support/http.js';
import { startFakeSubscriber, verifyWebhook, type FakeSubscriber } from './support.js';

describe('a transfer from the wheeling company to retail, told to connected systems', () => {
  let database: TestDatabase;
  let server: TestServer;
  let webhookSub: FakeSubscriber;
  let setSub: FakeSubscriber;
  let webhookSecret: string;
  let personId: string;
  const T = at('2027-04-01T00:00:00+09:00');
  const after = plusMs(T, 1);

  const register = async (body: Record<string, unknown>) => {
    const res = await fetch(`${server.url}/v1/subscribers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; secret: string; audience: string | null };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    await makeUtilityGroup(db);
    await makeTakuso(db);
    server = await startTestServer(database, { now: T0 });
    webhookSub = await startFakeSubscriber();
    setSub = await startFakeSubscriber({ respond: () => 202 });
    webhookSecret = (await register({ name: 'takuso', url: webhookSub.url })).secret;
    await register({ name: 'idp', url: setSub.url, format: 'set' });

    personId = await hire(db, { company: 'nw', at: T0 });
    await issuePassword({ db, now: T0, actor: 'test', personId, system: 'takuso', loginId: `${personId}-login` });
    await issueBadge({ db, now: T0, actor: 'test', personId, badgeId: `badge-${personId}` });
    await transfer(db, { personId, company: 'ep', at: T, now: T0 });
    await applyDueEvents({ db, now: after });
    const result = await deliverDue({ db, now: after, keyring: testKeyring, publicUrl: server.url });
    expect(result).toMatchObject({ delivered: 8, failed: 0, dead: 0, skipped: 0 });
  });
  afterAll(async () => {
    await webhookSub?.close();
    await setSub?.close();
    await server?.close();
    await database?.close();
  });

  it('sends the webhook subscriber every event, each verifying with the standardwebhooks package', () => {
    const messages = webhookSub.received.map((r) => verifyWebhook(webhookSecret, r));
    expect(messages.map((m) => m.type).sort()).toEqual(['credential.revoked', 'credential.revoked', 'person.hired', 'person.transferred', 'session.revoked']);
    expect(messages.every((m) => m.data.subjectType === 'person' && m.data.subjectId === personId)).toBe(true);
    const revoked = messages.filter((m) => m.type === 'credential.revoked');
    expect(revoked.map((m) => m.data.credentialType).sort()).toEqual(['badge', 'password']);
    expect(revoked.every((m) => m.data.reason === 'transfer' && m.data.company === 'nw')).toBe(true);
    expect(messages.find((m) => m.type === 'session.revoked')!.data.reason).toBe('transfer');
    // One idempotency key per message.
    expect(new Set(webhookSub.received.map((r) => r.headers['webhook-id'])).size).toBe(5);
  });

  it('produces signatures that fail with another secret or a changed body', () => {
    const [first] = webhookSub.received;
    expect(() => verifyWebhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, first!)).toThrow();
    expect(() => verifyWebhook(webhookSecret, { ...first!, body: first!.body.replace('person', 'persom') })).toThrow();
  });

  it('sends the SET subscriber CAEP tokens that verify against the published JWKS', async () => {
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    expect(setSub.received.map((r) => r.headers['content-type'])).toEqual(Array(3).fill('application/secevent+jwt'));
    const tokens = await Promise.all(
      setSub.received.map(async (r) => {
        expect(decodeProtectedHeader(r.body)).toMatchObject({ alg: 'ES256', typ: 'secevent+jwt' });
        const { payload } = await jwtVerify(r.body, jwks, { issuer: server.url, audience: setSub.url, typ: 'secevent+jwt', currentDate: after });
        return payload as { jti: string; iat: number; sub_id: unknown; events: Record<string, Record<string, unknown>> };
      }),
    );
    expect(tokens.every((t) => JSON.stringify(t.sub_id) === JSON.stringify({ format: 'opaque', id: personId }))).toBe(true);
    expect(tokens.every((t) => t.iat === Math.floor(after.getTime() / 1000))).toBe(true);
    expect(new Set(tokens.map((t) => t.jti)).size).toBe(3);
    const events = tokens.flatMap((t) => Object.entries(t.events));
    expect(events.filter(([uri]) => uri === SESSION_REVOKED)).toHaveLength(1);
    const changes = events.filter(([uri]) => uri === CREDENTIAL_CHANGE).map(([, e]) => e);
    expect(changes.map((c) => c.credential_type).sort()).toEqual(['badge', 'password']);
    expect(changes.every((c) => c.change_type === 'revoke' && c.event_timestamp === Math.floor(after.getTime() / 1000))).toBe(true);
    expect(SESSION_REVOKED).toBe('https://schemas.openid.net/secevent/caep/event-type/session-revoked');
    expect(CREDENTIAL_CHANGE).toBe('https://schemas.openid.net/secevent/caep/event-type/credential-change');
  });

  it("shows each event's delivery as delivered to both subscribers under its idempotency keys, and sends nothing twice", async () => {
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const sessionWebhook = webhookSub.received.find((r) => verifyWebhook(webhookSecret, r).type === 'session.revoked')!;
    const sessionEventId = verifyWebhook(webhookSecret, sessionWebhook).id;
    const sets = await Promise.all(setSub.received.map((r) => jwtVerify(r.body, jwks, { currentDate: after })));
    const sessionSet = sets.find((j) => SESSION_REVOKED in (j.payload.events as object))!;

    const res = await fetch(`${server.url}/v1/outbox/events/${sessionEventId}/deliveries`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { type: string; items: { status: string; attempts: number; deliveredAt: string; nextAttemptAt: unknown; idempotencyKey: string }[] };
    expect(body.type).toBe('session.revoked');
    expect(body.items.map((i) => [i.status, i.attempts, i.deliveredAt, i.nextAttemptAt])).toEqual([
      ['delivered', 1, after.toISOString(), null],
      ['delivered', 1, after.toISOString(), null],
    ]);
    expect(body.items.map((i) => i.idempotencyKey).sort()).toEqual([sessionWebhook.headers['webhook-id'], sessionSet.payload.jti].sort());

    const again = await deliverDue({ db: database.db, now: plusMs(after, 3_600_000), keyring: testKeyring, publicUrl: server.url });
    expect(again.claimed).toBe(0);
    expect(webhookSub.received).toHaveLength(5);
    expect(setSub.received).toHaveLength(3);
  });
});
