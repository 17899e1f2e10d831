/**
 * HR intake benchmark (npm run bench:hr). Loopback only, bounded in count and time.
 *
 * Needs a PostgreSQL server: DATABASE_URL (default postgres://root@127.0.0.1:5432/test) names
 * one whose user may create databases. The bench creates a scratch database
 * sekisho_bench_<random> there, migrates it, and drops it at the end.
 *
 *   Part A — signed transfer events over HTTP to the real app, bounded concurrency, each
 *            effective now: events/s, p50 and p99 latency.
 *   Part B — "April 1 reorganisation": 10,000 transfers recorded ahead of time for the same
 *            instant T (status scheduled), then hr.apply-due-events run with now = T.
 *
 * Prints exactly one JSON line on stdout; progress goes to stderr.
 *
 * Knobs (environment): BENCH_HR_EVENTS (5000), BENCH_HR_CONCURRENCY (32),
 * BENCH_APRIL1_TRANSFERS (10000), BENCH_TIME_LIMIT_SECONDS (900).
 */
import { randomBytes } from 'node:crypto';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { sql } from 'drizzle-orm';
import { putCompany } from '../../src/affiliation/companies.js';
import { queryRows, type Database, type Db } from '../../src/db/client.js';
import { receiveHrEvent } from '../../src/hr/intake.js';
import { applyDueEvents } from '../../src/hr/jobs.js';
import { secretKey, signWebhook } from '../../src/hr/signature.js';
import { intEnv, logger, percentile, pool, round2, seconds, startBenchServer, withScratchDatabase } from './support.js';

const HTTP_EVENTS = intEnv('BENCH_HR_EVENTS', 5000);
const CONCURRENCY = intEnv('BENCH_HR_CONCURRENCY', 32);
const APRIL1_TRANSFERS = intEnv('BENCH_APRIL1_TRANSFERS', 10_000);
const TIME_LIMIT_SECONDS = intEnv('BENCH_TIME_LIMIT_SECONDS', 900);
/** Concurrency of the direct receiveHrEvent calls used for setup (stays under the pool size). */
const SETUP_CONCURRENCY = 8;
const POOL_SIZE = 10;

const log = logger('hr');

/** The next April 1, 00:00 JST, at least a day ahead: the reorganisation instant. */
function nextApril1(now: Date): Date {
  let year = now.getUTCFullYear();
  for (;;) {
    const t = new Date(`${year}-04-01T00:00:00+09:00`);
    if (t.getTime() > now.getTime() + 24 * 3600_000) return t;
    year += 1;
  }
}

const HIRED_AT = new Date('2020-04-01T00:00:00+09:00');

async function setUpCompanies(db: Db): Promise<void> {
  const now = new Date();
  const actor = 'bench';
  await putCompany({ db, now, actor, code: 'nw', name: 'Bench Network Co.', kind: 'wheeling' });
  await putCompany({ db, now, actor, code: 'ep', name: 'Bench Retail Co.', kind: 'retail' });
  await putCompany({ db, now, actor, code: 'nw-systems', name: 'Bench Systems Co.', kind: 'contractor', actsFor: 'nw' });
  await putCompany({ db, now, actor, code: 'shinden-a', name: 'Bench New Entrant Co.', kind: 'retail' });
}

interface ClientJob {
  url: string;
  secret: string;
  runId: string;
  count: number;
  concurrency: number;
}
interface ClientResult {
  latencies: Float64Array;
  elapsedMs: number;
  failures: string[];
}

const partAPersonId = (i: number) => `A${String(i + 1).padStart(6, '0')}`;

/** The HTTP load generator (worker thread): person i is transferred nw -> ep, effective now. */
async function clientLoop(job: ClientJob): Promise<ClientResult> {
  const key = secretKey(job.secret);
  const latencies = new Float64Array(job.count);
  const failures: string[] = [];
  const start = performance.now();
  await pool(job.count, job.concurrency, async (i) => {
    const id = `msg_bench_${job.runId}_transfer_${i}`;
    const body = JSON.stringify({ type: 'person.transferred', personId: partAPersonId(i), company: 'ep', orgUnit: 'bench-retail', effectiveAt: new Date().toISOString() });
    const ts = Math.floor(Date.now() / 1000);
    const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(key, id, ts, body) };
    const t0 = performance.now();
    const res = await fetch(job.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    latencies[i] = performance.now() - t0;
    let status: unknown;
    try {
      status = (JSON.parse(text) as { status?: unknown }).status;
    } catch {
      status = undefined;
    }
    if (res.status !== 202 || status !== 'applied') failures.push(`${partAPersonId(i)}: ${res.status} ${text.slice(0, 200)}`);
  });
  return { latencies, elapsedMs: performance.now() - start, failures };
}

function runClientThread(job: ClientJob): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    // A worker does not inherit tsx's loader: register it there, then load this same file.
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const worker = new Worker(boot, { eval: true, workerData: job });
    worker.once('message', (m: ClientResult | { error: string }) => ('error' in m ? reject(new Error(m.error)) : resolve(m)));
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`client thread exited with ${code}`)));
  });
}

/** Part A: signed transfers over HTTP against the real app; per-request latency. */
async function partA(database: Database, runId: string): Promise<{ eventsPerSec: number; p50Ms: number; p99Ms: number }> {
  const { db } = database;
  const personId = partAPersonId;

  let t = performance.now();
  await pool(HTTP_EVENTS, SETUP_CONCURRENCY, async (i) => {
    await receiveHrEvent({
      db,
      now: new Date(),
      webhookId: `bench-${runId}-hire-${i}`,
      event: { type: 'person.hired', personId: personId(i), name: `Bench A ${i + 1}`, company: 'nw', orgUnit: 'bench', effectiveAt: HIRED_AT },
    });
  });
  log(`part A: hired ${HTTP_EVENTS} persons via receiveHrEvent in ${seconds(performance.now() - t)}s`);

  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const key = secretKey(secret);
  // The real service without the scheduler (part B runs the due-events job itself).
  const server = await startBenchServer(database, { hrWebhookKey: key });
  const url = `${server.url}/v1/hr/events`;

  try {
    // The load generator runs on its own thread, so it does not compete with the app for the
    // event loop; latency is measured there, from just before the request to the full response.
    const client = await runClientThread({ url, secret, runId, count: HTTP_EVENTS, concurrency: CONCURRENCY });
    if (client.failures.length > 0) throw new Error(`${client.failures.length} transfers were not applied, first: ${client.failures[0]}`);
    const latencies = [...client.latencies].sort((a, b) => a - b);
    const result = {
      eventsPerSec: round2(HTTP_EVENTS / (client.elapsedMs / 1000)),
      p50Ms: round2(percentile(latencies, 50)),
      p99Ms: round2(percentile(latencies, 99)),
    };
    log(`part A: ${HTTP_EVENTS} signed transfers over HTTP (${CONCURRENCY} in flight) in ${seconds(client.elapsedMs)}s: ` +
      `${result.eventsPerSec}/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${round2(latencies.at(-1)!)} ms`);
    return result;
  } finally {
    await server.close();
  }
}

/** Part B: 10,000 transfers scheduled for the same instant, then the due-events job at that instant. */
async function partB(db: Db, runId: string): Promise<{ april1Transfers: number; april1ApplySeconds: number }> {
  const n = APRIL1_TRANSFERS;
  const personId = (i: number) => `B${String(i + 1).padStart(6, '0')}`;
  const setupNow = new Date();

  // The workforce, set-based (setup only; the transfers below are real HR events).
  let t = performance.now();
  await db.execute(sql`
    insert into persons (id, name, created_at, updated_at)
    select 'B' || lpad(g::text, 6, '0'), 'Bench B ' || g, ${setupNow.toISOString()}::timestamptz, ${setupNow.toISOString()}::timestamptz from generate_series(1, ${n}::int) g`);
  await db.execute(sql`
    insert into affiliations (person_id, company_code, org_unit, valid_from, recorded_at)
    select 'B' || lpad(g::text, 6, '0'), 'nw', 'bench', ${HIRED_AT.toISOString()}::timestamptz, ${setupNow.toISOString()}::timestamptz from generate_series(1, ${n}::int) g`);
  log(`part B: inserted ${n} persons and affiliations (set-based) in ${seconds(performance.now() - t)}s`);

  const T = nextApril1(setupNow);
  t = performance.now();
  let scheduled = 0;
  await pool(n, SETUP_CONCURRENCY, async (i) => {
    const receipt = await receiveHrEvent({
      db,
      now: new Date(),
      webhookId: `bench-${runId}-april1-${i}`,
      event: { type: 'person.transferred', personId: personId(i), company: i % 10 === 0 ? 'nw-systems' : 'ep', orgUnit: 'reorganised', effectiveAt: T },
    });
    if (receipt.status !== 'scheduled') throw new Error(`transfer of ${personId(i)} was ${receipt.status}, expected scheduled`);
    scheduled += 1;
  });
  const recordMs = performance.now() - t;
  log(`part B: recorded ${scheduled} transfers effective ${T.toISOString()} via receiveHrEvent in ${seconds(recordMs)}s (${round2(n / (recordMs / 1000))}/s)`);

  const [pendingBefore] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from hr_events where applied_at is null and effective_at <= ${T.toISOString()}::timestamptz`);
  if (pendingBefore?.n !== n) throw new Error(`expected ${n} due events at T, found ${pendingBefore?.n}`);

  t = performance.now();
  let applied = 0;
  let runs = 0;
  while (applied < n) {
    const r = await applyDueEvents({ db, now: T });
    runs += 1;
    if (r.applied === 0) throw new Error(`applyDueEvents stopped after ${applied} of ${n}`);
    applied += r.applied;
  }
  const applyMs = performance.now() - t;
  const [pendingAfter] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from hr_events where applied_at is null`);
  if (applied !== n || pendingAfter?.n !== 0) throw new Error(`applied ${applied} of ${n}; ${pendingAfter?.n} still pending`);
  log(`part B: applyDueEvents(now = T) applied ${applied} in ${seconds(applyMs)}s (${runs} call${runs === 1 ? '' : 's'})`);
  return { april1Transfers: applied, april1ApplySeconds: round2(applyMs / 1000) };
}

async function main(): Promise<void> {
  const runId = randomBytes(4).toString('hex');
  const result = await withScratchDatabase('hr', { poolSize: POOL_SIZE, timeLimitSeconds: TIME_LIMIT_SECONDS }, async (database) => {
    await setUpCompanies(database.db);
    const a = await partA(database, runId);
    const b = await partB(database.db, runId);
    return { bench: 'hr', ...a, ...b };
  });
  console.log(JSON.stringify(result));
}

if (isMainThread) {
  main().catch((err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
} else {
  clientLoop(workerData as ClientJob).then(
    (result) => parentPort!.postMessage(result),
    (err: unknown) => parentPort!.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
}
