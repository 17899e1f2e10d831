/**
 * Mover benchmark (npm run bench:mover): an April-1 reorganisation moving a whole workforce
 * from the wheeling company to retail at one instant T. Loopback only, bounded in count and time.
 *
 * Needs a PostgreSQL server: DATABASE_URL (default postgres://root@127.0.0.1:5432/test) names
 * one whose user may create databases. The bench creates a scratch database
 * sekisho_bench_<random> there, migrates it, and drops it at the end.
 *
 * Setup: N people in the wheeling company, each with four real credentials (a password on a
 * connected system, a badge, a personal API token, a passkey), five grants (two of them for
 * wheeling-only entitlements) and knowledge of one team shared secret (teams of ten). The
 * credentials are inserted set-based but verify for real: one password hashed once with the
 * production scrypt and reused, tokens hashed with the production hash, passkeys with a
 * software authenticator's public key each. Then every person's transfer to retail effective
 * T is recorded ahead as a real HR event (receiveHrEvent → scheduled), and a local webhook
 * subscriber (a node:http server answering 204 in this process) is registered over the API.
 *
 * Measured, against the real service on a loopback port with a clock the bench moves:
 *   oldCredentialsValidAfterInstant — of a random sample of people, how many of their four old
 *       credentials (password, badge and token via POST /v1/authn/…, passkey via the WebAuthn
 *       ceremony) still authenticate at T+1 ms, before any job has run. Must be 0. The same
 *       sample is checked to authenticate fully at T−1 s first, so 0 is not a broken setup.
 *   revocationsWrittenSeconds — hr.apply-due-events run with now = T until every transfer is
 *       applied: all revocations, grant removals, secret flags and outbox rows written.
 *   eventsDeliveredSeconds — from then until the subscriber has every outbox event, running
 *       outbox.deliver repeatedly (as the scheduler would, one worker).
 *   authnPerSec, authnP99Ms — POST /v1/authn/password for people not yet moved (at T−1 s),
 *       bounded concurrency. Bounded by scrypt (N=2^15, ~100 ms of CPU per check), by design.
 *
 * Prints exactly one JSON line on stdout; progress goes to stderr.
 *
 * Knobs (environment): BENCH_MOVER_PEOPLE (10000), BENCH_MOVER_SAMPLE (200),
 * BENCH_MOVER_AUTHN_REQUESTS (600), BENCH_MOVER_AUTHN_CONCURRENCY (16),
 * BENCH_TIME_LIMIT_SECONDS (600).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeAttestationObject, parseAuthenticatorData } from '@simplewebauthn/server/helpers';
import { sql } from 'drizzle-orm';
import { putEntitlement, putSystem } from '../../src/access/catalog.js';
import { putCompany } from '../../src/affiliation/companies.js';
import { loadConfig } from '../../src/config.js';
import { createApiToken, hashToken, newTokenValue } from '../../src/credentials/api-tokens.js';
import { Keyring } from '../../src/credentials/encryption.js';
import { relyingParty } from '../../src/credentials/passkeys.js';
import { hashPassword } from '../../src/credentials/passwords.js';
import { createSharedSecret } from '../../src/credentials/shared-secrets.js';
import { queryRows, type Db } from '../../src/db/client.js';
import { receiveHrEvent } from '../../src/hr/intake.js';
import { applyDueEvents } from '../../src/hr/jobs.js';
import { deliverDue } from '../../src/outbox/deliver.js';
import { SoftAuthenticator } from '../../test/support/soft-authenticator.js';
import { intEnv, logger, percentile, pool, round2, seconds, startBenchServer, withScratchDatabase } from './support.js';

const PEOPLE = intEnv('BENCH_MOVER_PEOPLE', 10_000);
const SAMPLE = Math.min(PEOPLE, intEnv('BENCH_MOVER_SAMPLE', 200));
const AUTHN_REQUESTS = intEnv('BENCH_MOVER_AUTHN_REQUESTS', 600);
const AUTHN_CONCURRENCY = intEnv('BENCH_MOVER_AUTHN_CONCURRENCY', 16);
const TIME_LIMIT_SECONDS = intEnv('BENCH_TIME_LIMIT_SECONDS', 600);
const TEAM_SIZE = 10;
const SETUP_CONCURRENCY = 8;
const POOL_SIZE = 12;
const CHUNK = 2000;

const log = logger('mover');

const HIRED_AT = new Date('2020-04-01T00:00:00+09:00');
const ENTITLEMENTS = [
  { code: 'takuso-operator', allowedCompanyKinds: ['wheeling'] as const },
  { code: 'network-maps', allowedCompanyKinds: ['wheeling'] as const },
  { code: 'mail', allowedCompanyKinds: ['wheeling', 'retail'] as const },
  { code: 'timesheet', allowedCompanyKinds: ['wheeling', 'retail'] as const },
  { code: 'switching-support', allowedCompanyKinds: ['wheeling', 'retail'] as const },
];
const WHEELING_ONLY = ENTITLEMENTS.filter((e) => e.allowedCompanyKinds.length === 1).length;

const personId = (i: number) => `M${String(i + 1).padStart(6, '0')}`;
/** Each person signs in from their own machine: the throttle counts per source, as it should. */
const clientIp = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** Deterministic sampling (mulberry32), so two runs sample the same people. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const count = async (db: Db, query: ReturnType<typeof sql>): Promise<number> => Number((await queryRows<{ n: number }>(db, query))[0]!.n);

interface Workforce {
  password: string;
  tokens: string[];
  authenticators: SoftAuthenticator[];
  secrets: number;
}

/** N people with four live credentials, five grants and a team secret each (see the header). */
async function setUpWorkforce(db: Db, setupNow: Date, keyring: Keyring): Promise<Workforce> {
  const actor = 'bench';
  const at = setupNow.toISOString();
  await putCompany({ db, now: setupNow, actor, code: 'nw', name: 'Bench Network Co.', kind: 'wheeling' });
  await putCompany({ db, now: setupNow, actor, code: 'ep', name: 'Bench Retail Co.', kind: 'retail' });
  await putSystem({ db, now: setupNow, actor, code: 'takuso', name: '託送システム', ownerCompany: 'nw', fields: { supplyPoint: 'network.public', holderName: 'customer.retailer-only' } });
  for (const e of ENTITLEMENTS) await putEntitlement({ db, now: setupNow, actor, code: e.code, system: 'takuso', name: e.code, allowedCompanyKinds: [...e.allowedCompanyKinds] });

  let t = performance.now();
  await db.execute(sql`
    insert into persons (id, name, created_at, updated_at)
    select 'M' || lpad(g::text, 6, '0'), 'Bench Mover ' || g, ${at}::timestamptz, ${at}::timestamptz from generate_series(1, ${PEOPLE}::int) g`);
  await db.execute(sql`
    insert into affiliations (person_id, company_code, org_unit, valid_from, recorded_at)
    select 'M' || lpad(g::text, 6, '0'), 'nw', 'bench', ${HIRED_AT.toISOString()}::timestamptz, ${at}::timestamptz from generate_series(1, ${PEOPLE}::int) g`);
  await db.execute(sql`
    insert into grants (person_id, entitlement_code, valid_from, reason, granted_by, created_at)
    select p.id, e.code, ${HIRED_AT.toISOString()}::timestamptz, 'bench', ${actor}, ${at}::timestamptz
    from persons p cross join entitlements e where p.id like 'M%'`);
  log(`inserted ${PEOPLE} persons, affiliations and ${PEOPLE * ENTITLEMENTS.length} grants (set-based) in ${seconds(performance.now() - t)}s`);

  // One password, hashed once with the production scrypt: every login verifies for real.
  t = performance.now();
  const password = randomBytes(18).toString('base64url');
  const passwordHash = await hashPassword(password);
  await db.execute(sql`
    insert into credentials (person_id, type, company_code, created_at, created_by, system, login_id, secret_hash)
    select p.id, 'password', 'nw', ${at}::timestamptz, ${actor}, 'takuso', p.id, ${passwordHash} from persons p where p.id like 'M%'`);
  await db.execute(sql`
    insert into credentials (person_id, type, company_code, created_at, created_by, badge_id)
    select p.id, 'badge', 'nw', ${at}::timestamptz, ${actor}, 'BADGE-' || p.id from persons p where p.id like 'M%'`);

  // Personal tokens and passkeys, each person's own, generated here and inserted in chunks.
  const rp = benchRelyingParty();
  const tokens: string[] = [];
  const authenticators: SoftAuthenticator[] = [];
  for (let start = 0; start < PEOPLE; start += CHUNK) {
    const rows = [];
    for (let i = start; i < Math.min(PEOPLE, start + CHUNK); i++) {
      const token = newTokenValue();
      const authenticator = new SoftAuthenticator({ origin: rp.origin, id: rp.id });
      tokens.push(token);
      authenticators.push(authenticator);
      rows.push({ person_id: personId(i), token_hash: hashToken(token), webauthn_id: authenticator.id, public_key: publicKeyOf(authenticator).toString('base64') });
    }
    const json = JSON.stringify(rows);
    await db.execute(sql`
      insert into credentials (person_id, type, company_code, created_at, created_by, secret_hash)
      select r.person_id, 'api_token', 'nw', ${at}::timestamptz, ${actor}, r.token_hash
      from jsonb_to_recordset(${json}::jsonb) as r(person_id text, token_hash text)`);
    await db.execute(sql`
      insert into credentials (person_id, type, company_code, created_at, created_by, webauthn_id, public_key, sign_count)
      select r.person_id, 'passkey', 'nw', ${at}::timestamptz, ${actor}, r.webauthn_id, decode(r.public_key, 'base64'), 0
      from jsonb_to_recordset(${json}::jsonb) as r(person_id text, webauthn_id text, public_key text)`);
  }
  log(`inserted ${PEOPLE * 4} credentials (password, badge, API token, passkey each) in ${seconds(performance.now() - t)}s`);

  // Team secrets through the real function (sealed with the keyring, holders recorded).
  t = performance.now();
  const teams = Math.ceil(PEOPLE / TEAM_SIZE);
  await pool(teams, SETUP_CONCURRENCY, async (team) => {
    const knownBy = Array.from({ length: Math.min(TEAM_SIZE, PEOPLE - team * TEAM_SIZE) }, (_, k) => personId(team * TEAM_SIZE + k));
    await createSharedSecret({ db, now: setupNow, actor, keyring, system: 'takuso', name: `team-${team + 1}-admin`, knownBy });
  });
  log(`created ${teams} team shared secrets (${TEAM_SIZE} holders each) in ${seconds(performance.now() - t)}s`);
  return { password, tokens, authenticators, secrets: teams };
}

/** The relying party the bench server's configuration names (its default public URL). */
const benchRelyingParty = () => relyingParty(loadConfig({ SEKISHO_SCHEDULER: 'off' }).publicUrl);

/** The COSE public key the authenticator would register, read from its own attestation. */
function publicKeyOf(authenticator: SoftAuthenticator): Buffer {
  const attestation = authenticator.register({ challenge: 'YmVuY2g' });
  const authData = decodeAttestationObject(Buffer.from(attestation.response.attestationObject, 'base64url')).get('authData');
  return Buffer.from(parseAuthenticatorData(authData).credentialPublicKey!);
}

/** Every transfer recorded ahead through HR intake: status scheduled, nothing applied. */
async function scheduleTransfers(db: Db, runId: string, T: Date): Promise<void> {
  const t = performance.now();
  await pool(PEOPLE, SETUP_CONCURRENCY, async (i) => {
    const receipt = await receiveHrEvent({
      db,
      now: new Date(),
      webhookId: `bench-${runId}-move-${i}`,
      event: { type: 'person.transferred', personId: personId(i), company: 'ep', orgUnit: 'retail-sales', effectiveAt: T },
    });
    if (receipt.status !== 'scheduled') throw new Error(`transfer of ${personId(i)} was ${receipt.status}, expected scheduled`);
  });
  const ms = performance.now() - t;
  log(`recorded ${PEOPLE} transfers effective ${T.toISOString()} via receiveHrEvent in ${seconds(ms)}s (${round2(PEOPLE / (ms / 1000))}/s)`);
}

/** A connected system in this process: answers 204 to everything, counts what it got. */
async function startSubscriber(): Promise<{ url: string; requests: () => number; ids: Set<string>; close(): Promise<void> }> {
  let requests = 0;
  const ids = new Set<string>();
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests += 1;
      ids.add(String(req.headers['webhook-id']));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    requests: () => requests,
    ids,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function main(): Promise<void> {
  const runId = randomBytes(4).toString('hex');
  const keyring = new Keyring([{ id: 'bench', key: randomBytes(32) }]);
  const result = await withScratchDatabase('mover', { poolSize: POOL_SIZE, timeLimitSeconds: TIME_LIMIT_SECONDS }, async (database) => {
    const { db } = database;
    const setupNow = new Date();
    // T: the next whole hour at least a day ahead, so every transfer is recorded as scheduled.
    const T = new Date(Math.ceil((setupNow.getTime() + 24 * 3600_000) / 3600_000) * 3600_000);
    let now = setupNow;
    const server = await startBenchServer(database, { clock: () => now, keyring });
    const subscriber = await startSubscriber();
    try {
      const workforce = await setUpWorkforce(db, setupNow, keyring);

      const admin = (await createApiToken({ db, now: setupNow, actor: 'bench', name: 'bench-admin', scopes: ['admin'] })).value;
      const authn = (await createApiToken({ db, now: setupNow, actor: 'bench', name: 'bench-authn', scopes: ['authn'] })).value;
      const registered = await fetch(`${server.url}/v1/subscribers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'bench-hooks', url: subscriber.url }),
      });
      if (registered.status !== 201) throw new Error(`registering the subscriber: ${registered.status} ${await registered.text()}`);
      // What the setup itself announced (secret creation, …) goes out before the clock starts.
      await drain(db, setupNow, keyring, server.url);
      const preexisting = subscriber.requests();

      await scheduleTransfers(db, runId, T);

      const post = async (path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
        const res = await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${authn}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(60_000),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      /** Person i's four old credentials, as connected systems would present them: how many authenticate. */
      const validCredentials = async (i: number): Promise<number> => {
        const ip = clientIp(i);
        const attempts = [
          post('/v1/authn/password', { system: 'takuso', loginId: personId(i), password: workforce.password, clientIp: ip }),
          post('/v1/authn/badge', { badgeId: `BADGE-${personId(i)}`, clientIp: ip }),
          post('/v1/authn/token', { token: workforce.tokens[i], clientIp: ip }),
          (async () => {
            const start = await post('/v1/webauthn/authentication/options', { personId: personId(i) });
            const options = start.body.options as { challenge: string };
            return post('/v1/webauthn/authentication/verify', { challengeId: start.body.challengeId, response: workforce.authenticators[i]!.assert(options) });
          })(),
        ];
        const results = await Promise.all(attempts);
        for (const r of results) if (r.status !== 200 && r.status !== 401) throw new Error(`unexpected ${r.status}: ${JSON.stringify(r.body)}`);
        return results.filter((r) => r.status === 200).length;
      };
      const rand = random(0x5e4b15);
      const sample = new Set<number>();
      while (sample.size < SAMPLE) sample.add(Math.floor(rand() * PEOPLE));
      const sampled = [...sample];
      const checkSample = async (): Promise<number> => {
        let valid = 0;
        await pool(sampled.length, Math.max(1, Math.floor(AUTHN_CONCURRENCY / 4)), async (k) => {
          const n = await validCredentials(sampled[k]!);
          valid += n;
        });
        return valid;
      };

      // T − 1 s: the sample authenticates with all four (else a 0 later would prove nothing).
      now = new Date(T.getTime() - 1000);
      let t = performance.now();
      const validBefore = await checkSample();
      log(`T-1s: ${validBefore} of ${sampled.length * 4} sampled old credentials authenticate (${seconds(performance.now() - t)}s)`);
      if (validBefore !== sampled.length * 4) throw new Error(`setup broken: only ${validBefore} of ${sampled.length * 4} sampled credentials authenticate before T`);

      // Authn throughput for people still in place, over HTTP with bounded concurrency.
      const latencies = new Float64Array(AUTHN_REQUESTS);
      t = performance.now();
      await pool(AUTHN_REQUESTS, AUTHN_CONCURRENCY, async (k) => {
        const i = Math.floor(rand() * PEOPLE);
        const t0 = performance.now();
        const r = await post('/v1/authn/password', { system: 'takuso', loginId: personId(i), password: workforce.password, clientIp: clientIp(i) });
        latencies[k] = performance.now() - t0;
        if (r.status !== 200) throw new Error(`authn of ${personId(i)} before T: ${r.status} ${JSON.stringify(r.body)}`);
      });
      const authnMs = performance.now() - t;
      const sorted = [...latencies].sort((a, b) => a - b);
      const authnPerSec = round2(AUTHN_REQUESTS / (authnMs / 1000));
      const authnP99Ms = round2(percentile(sorted, 99));
      log(`authn: ${AUTHN_REQUESTS} passwords over HTTP (${AUTHN_CONCURRENCY} in flight) in ${seconds(authnMs)}s: ${authnPerSec}/s, p50 ${round2(percentile(sorted, 50))} ms, p99 ${authnP99Ms} ms`);

      // T + 1 ms, no job run: nothing the sample held may authenticate.
      now = new Date(T.getTime() + 1);
      const dueBefore = await count(db, sql`select count(*)::int as n from hr_events where applied_at is null`);
      if (dueBefore !== PEOPLE) throw new Error(`expected ${PEOPLE} unapplied transfers before the job, found ${dueBefore}`);
      const [mark] = await queryRows<{ seq: number }>(db, sql`select coalesce(max(seq), 0) as seq from audit_records`);
      t = performance.now();
      const oldCredentialsValidAfterInstant = await checkSample();
      const refusedForTransfer = await count(
        db,
        sql`select count(*)::int as n from audit_records where seq > ${mark!.seq} and action = 'authn.failed' and data->>'reason' = 'holder-not-affiliated-with-issuing-company'`,
      );
      log(`T+1ms, job not run: ${oldCredentialsValidAfterInstant} of ${sampled.length * 4} sampled old credentials authenticate; ` +
        `${refusedForTransfer} refusals audited as holder-not-affiliated-with-issuing-company (${seconds(performance.now() - t)}s)`);

      // The job at T: every revocation written.
      t = performance.now();
      let applied = 0;
      let runs = 0;
      while (applied < PEOPLE) {
        const r = await applyDueEvents({ db, now: T });
        runs += 1;
        if (r.applied === 0) throw new Error(`applyDueEvents stopped after ${applied} of ${PEOPLE}`);
        applied += r.applied;
      }
      const applyMs = performance.now() - t;
      log(`applyDueEvents(now = T) applied ${applied} transfers in ${seconds(applyMs)}s (${runs} call${runs === 1 ? '' : 's'})`);
      const revoked = await count(db, sql`select count(*)::int as n from credentials where revoked_reason = 'transfer'`);
      const grantsRevoked = await count(db, sql`select count(*)::int as n from grants where revoked_reason = 'transfer'`);
      const flagged = await count(db, sql`select count(*)::int as n from shared_secrets where status = 'rotation_required'`);
      if (revoked !== PEOPLE * 4 || grantsRevoked !== PEOPLE * WHEELING_ONLY || flagged !== workforce.secrets) {
        throw new Error(`after the job: ${revoked} credentials, ${grantsRevoked} grants revoked, ${flagged} secrets flagged`);
      }
      const expected = await count(db, sql`select count(*)::int as n from deliveries where status = 'pending'`);
      log(`written: ${revoked} credentials and ${grantsRevoked} grants revoked, ${flagged} secrets rotation_required, ${expected} deliveries pending`);

      // Delivery until the subscriber has every event; the simulated clock follows real time.
      t = performance.now();
      const deliveredAt = () => new Date(T.getTime() + Math.round(performance.now() - t));
      const delivery = await drain(db, deliveredAt, keyring, server.url);
      const deliverMs = performance.now() - t;
      const received = subscriber.requests() - preexisting;
      log(`delivered ${delivery.delivered} events in ${seconds(deliverMs)}s (${delivery.runs} deliverDue runs, ${round2(delivery.delivered / (deliverMs / 1000))}/s); ` +
        `subscriber got ${received} requests`);
      if (delivery.delivered !== expected || received !== expected || subscriber.ids.size !== preexisting + expected) {
        throw new Error(`expected ${expected} deliveries: delivered ${delivery.delivered}, received ${received}, distinct ids ${subscriber.ids.size - preexisting}`);
      }

      return {
        bench: 'mover',
        people: PEOPLE,
        oldCredentialsValidAfterInstant,
        revocationsWrittenSeconds: round2(applyMs / 1000),
        eventsDeliveredSeconds: round2(deliverMs / 1000),
        authnPerSec,
        authnP99Ms,
      };
    } finally {
      await subscriber.close();
      await server.close();
    }
  });
  console.log(JSON.stringify(result));
}

/** Runs outbox.deliver until nothing is pending; any failure is a bench failure. */
async function drain(db: Db, now: Date | (() => Date), keyring: Keyring, publicUrl: string): Promise<{ delivered: number; runs: number }> {
  let delivered = 0;
  let runs = 0;
  for (;;) {
    const r = await deliverDue({ db, now: typeof now === 'function' ? now() : now, keyring, publicUrl});
    runs += 1;
    if (r.failed > 0 || r.dead > 0) throw new Error(`delivery failed: ${JSON.stringify(r)}`);
    delivered += r.delivered;
    if (r.claimed === 0 && (await count(db, sql`select count(*)::int as n from deliveries where status = 'pending'`)) === 0) return { delivered, runs };
  }
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
