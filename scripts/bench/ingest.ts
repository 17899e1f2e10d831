/**
 * Access-log intake and the non-public access report at scale (npm run bench:ingest).
 *
 * Needs PostgreSQL: DATABASE_URL (default postgres://root@127.0.0.1:5432/test) whose user may
 * create databases; the bench works in a scratch database sekisho_bench_<random> and drops it.
 *
 * Setup (set-based, not measured): the utility group (wheeling, retail, two new entrants, a
 * contractor for each side), the customer system with the switching-support field classes,
 * BENCH_INGEST_PEOPLE people (60% wheeling, 25% retail, 5% the wheeling side's contractor,
 * 10% the retail call centre), a tenth of them transferred half-way through the period (so
 * events resolve against history), a password login each on the system, terminals per site.
 *
 * Measured:
 *   eventsPerSec  — BENCH_INGEST_EVENTS events (5,000,000) POSTed to /v1/access-logs of the real
 *                   service as NDJSON, BENCH_INGEST_EVENTS_PER_REQUEST (100,000) per request,
 *                   BENCH_INGEST_CONCURRENCY (3) requests in flight, from a worker thread that
 *                   generates the bodies; from the first request sent to the last 202. Events
 *                   are over the last 30 days, in time order across requests; half name the
 *                   person, half only their login; ~8% are non-public views by retail staff.
 *   reportSeconds — GET /v1/reports/nonpublic-access over the whole period, JSON, right after
 *                   the intake (the first run, not a warmed-up one).
 *
 * Prints one JSON line on stdout; progress on stderr. Targets: ≥ 50,000 events/s, report < 5 s.
 */
import { randomBytes } from 'node:crypto';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { sql } from 'drizzle-orm';
import { putSystem, putTerminal } from '../../src/access/catalog.js';
import { putCompany } from '../../src/affiliation/companies.js';
import { createApiToken } from '../../src/credentials/api-tokens.js';
import { queryRows, type Db } from '../../src/db/client.js';
import { scanAccessLogs } from '../../src/detection/scan.js';
import { TAKUSO_FIELDS } from '../../src/demo/seed.js';
import { intEnv, logger, pool, round2, seconds, startBenchServer, withScratchDatabase } from './support.js';

const EVENTS = intEnv('BENCH_INGEST_EVENTS', 5_000_000);
const PER_REQUEST = intEnv('BENCH_INGEST_EVENTS_PER_REQUEST', 100_000);
const CONCURRENCY = intEnv('BENCH_INGEST_CONCURRENCY', 3);
const PEOPLE = intEnv('BENCH_INGEST_PEOPLE', 5000);
const CUSTOMERS = intEnv('BENCH_INGEST_CUSTOMERS', 1_000_000);
const TIME_LIMIT_SECONDS = intEnv('BENCH_TIME_LIMIT_SECONDS', 1200);
const DAY = 86_400_000;
const PERIOD_DAYS = 30;

const log = logger('ingest');

/** Person i's company before and after the mid-period transfer (every tenth person moves nw ↔ ep). */
function companyOf(i: number): string {
  const r = i % 20;
  return r < 12 ? 'nw' : r < 17 ? 'ep' : r < 18 ? 'nw-sys' : 'ep-call';
}
const personId = (i: number) => `B${String(i).padStart(6, '0')}`;
const loginId = (i: number) => `L${String(i).padStart(6, '0')}`;
const SITES: Record<string, string[]> = {
  nw: ['T-NW-AOMORI', 'T-NW-SENDAI', 'T-NW-AKITA'],
  'nw-sys': ['T-SYS-01'],
  ep: ['T-EP-HACHINOHE', 'T-EP-MORIOKA'],
  'ep-call': ['T-CALL-01', 'T-CALL-02'],
};

async function setUp(db: Db, start: Date, end: Date): Promise<void> {
  const now = new Date(start.getTime() - 365 * DAY);
  const actor = 'bench';
  await putCompany({ db, now, actor, code: 'nw', name: 'Bench Network Co.', kind: 'wheeling' });
  await putCompany({ db, now, actor, code: 'ep', name: 'Bench Retail Co.', kind: 'retail' });
  await putCompany({ db, now, actor, code: 'shinden-a', name: 'Bench New Entrant A', kind: 'retail' });
  await putCompany({ db, now, actor, code: 'shinden-b', name: 'Bench New Entrant B', kind: 'retail' });
  await putCompany({ db, now, actor, code: 'nw-sys', name: 'Bench Systems Co.', kind: 'contractor', actsFor: 'nw' });
  await putCompany({ db, now, actor, code: 'ep-call', name: 'Bench Call Centre Co.', kind: 'contractor', actsFor: 'ep' });
  await putSystem({
    db,
    now,
    actor,
    code: 'takuso',
    name: 'Bench customer system',
    ownerCompany: 'nw',
    fields: { ...TAKUSO_FIELDS.fields, contractCurrent: 'network.public' },
    emergencyFields: TAKUSO_FIELDS.emergencyFields,
  });
  const siteOf = (t: string) => t.replace(/^T-[A-Z]+-/, '');
  for (const [company, terminals] of Object.entries(SITES)) {
    for (const id of terminals) await putTerminal({ db, now, actor, id, company, site: siteOf(id) });
  }
  const at = now.toISOString();
  const mid = new Date((start.getTime() + end.getTime()) / 2).toISOString();
  // People, affiliations (every tenth moves nw → ep or ep → nw half-way through), logins.
  const kinds = sql.raw(`(array['nw','nw','nw','nw','nw','nw','nw','nw','nw','nw','nw','nw','ep','ep','ep','ep','ep','nw-sys','ep-call','ep-call'])`);
  await db.execute(sql`
    insert into persons (id, name, created_at, updated_at)
    select 'B' || lpad(g::text, 6, '0'), 'Bench ' || g, ${at}::timestamptz, ${at}::timestamptz from generate_series(0, ${PEOPLE - 1}::int) g`);
  await db.execute(sql`
    insert into affiliations (person_id, company_code, org_unit, valid_from, valid_to, recorded_at)
    select 'B' || lpad(g::text, 6, '0'), ${kinds}[g % 20 + 1], 'bench', ${at}::timestamptz,
      case when g % 10 = 3 and ${kinds}[g % 20 + 1] in ('nw', 'ep') then ${mid}::timestamptz end, ${at}::timestamptz
    from generate_series(0, ${PEOPLE - 1}::int) g`);
  await db.execute(sql`
    insert into affiliations (person_id, company_code, org_unit, valid_from, recorded_at)
    select 'B' || lpad(g::text, 6, '0'), case when ${kinds}[g % 20 + 1] = 'nw' then 'ep' else 'nw' end, 'bench-moved', ${mid}::timestamptz, ${at}::timestamptz
    from generate_series(0, ${PEOPLE - 1}::int) g where g % 10 = 3 and ${kinds}[g % 20 + 1] in ('nw', 'ep')`);
  await db.execute(sql`
    insert into credentials (person_id, type, company_code, created_at, created_by, system, login_id, secret_hash)
    select 'B' || lpad(g::text, 6, '0'), 'password', ${kinds}[g % 20 + 1], ${at}::timestamptz, 'bench', 'takuso', 'L' || lpad(g::text, 6, '0'), 'bench-not-a-hash'
    from generate_series(0, ${PEOPLE - 1}::int) g`);
  await db.execute(sql`analyze`);
}

interface ClientJob {
  url: string;
  token: string;
  runId: string;
  events: number;
  perRequest: number;
  concurrency: number;
  start: number;
  end: number;
  people: number;
  customers: number;
}
interface ClientResult {
  elapsedMs: number;
  accepted: number;
  failures: string[];
}

const FIELD_SETS = [
  '["supplyPoint","supplyAddress"]',
  '["supplyPoint","supplyAddress","contractCurrent"]',
  '["supplyPoint","holderName","phone"]',
  '["supplyPoint","holderName","usage"]',
  '["supplyPoint","loadEquipment"]',
];
const RETAILERS = ['ep', 'ep', 'ep', 'ep', 'ep', 'ep', 'shinden-a', 'shinden-a', 'shinden-b', 'shinden-b'];

/** The NDJSON body of request r: its slice of the period, in time order. */
function body(job: ClientJob, r: number, count: number, first: number): string {
  const span = job.end - job.start;
  const lines: string[] = new Array(count);
  // xorshift32, seeded per request: reproducible, and cheap enough not to dominate the client.
  let seed = (Math.imul(r + 1, 2654435761) ^ 0x5bd1e995) >>> 0 || 1;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>>= 0);
  };
  for (let k = 0; k < count; k++) {
    const n = first + k;
    const at = new Date(job.start + Math.floor((n / job.events) * span)).toISOString();
    const p = rand() % job.people;
    const company = companyOf(p);
    const terminals = SITES[company]!;
    const terminal = terminals[rand() % terminals.length]!;
    const customer = rand() % job.customers;
    const retailer = RETAILERS[customer % RETAILERS.length]!;
    // Retail staff look mostly at the public fields; wheeling staff at everything.
    const fields = FIELD_SETS[company === 'nw' || company === 'nw-sys' ? rand() % FIELD_SETS.length : rand() % 10 < 7 ? rand() % 2 : 2 + (rand() % 2)]!;
    const who = (rand() & 1) === 0 ? `"personId":"${personId(p)}"` : `"loginId":"${loginId(p)}"`;
    lines[k] =
      `{"at":"${at}","system":"takuso",${who},"terminalId":"${terminal}","action":"view",` +
      `"customerId":"C${String(customer).padStart(8, '0')}","retailer":"${retailer}","area":"aomori","fields":${fields}}`;
  }
  return lines.join('\n') + '\n';
}

/** The load generator (worker thread): builds each body just before sending it. */
async function clientLoop(job: ClientJob): Promise<ClientResult> {
  const requests = Math.ceil(job.events / job.perRequest);
  const failures: string[] = [];
  let accepted = 0;
  const started = performance.now();
  await pool(requests, job.concurrency, async (r) => {
    const first = r * job.perRequest;
    const count = Math.min(job.perRequest, job.events - first);
    const payload = body(job, r, count, first);
    const res = await fetch(job.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${job.token}`, 'content-type': 'application/x-ndjson', 'idempotency-key': `bench:${job.runId}:${r}` },
      body: payload,
      signal: AbortSignal.timeout(300_000),
    });
    const text = await res.text();
    if (res.status !== 202) failures.push(`request ${r}: ${res.status} ${text.slice(0, 300)}`);
    else accepted += (JSON.parse(text) as { accepted: number }).accepted;
  });
  return { elapsedMs: performance.now() - started, accepted, failures };
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

async function main(): Promise<void> {
  const runId = randomBytes(4).toString('hex');
  const result = await withScratchDatabase('ingest', { poolSize: 10, timeLimitSeconds: TIME_LIMIT_SECONDS }, async (database) => {
    const { db } = database;
    const end = new Date(Date.now() - 60_000);
    const start = new Date(end.getTime() - PERIOD_DAYS * DAY);
    let t = performance.now();
    await setUp(db, start, end);
    log(`setup: ${PEOPLE} people with logins, ${CUSTOMERS} customers in ${seconds(performance.now() - t)}s`);

    const server = await startBenchServer(database);
    try {
      const token = (await createApiToken({ db, now: new Date(), actor: 'bench', name: 'bench-logs', scopes: ['logs', 'audit'] })).value;
      const client = await runClientThread({
        url: `${server.url}/v1/access-logs`,
        token,
        runId,
        events: EVENTS,
        perRequest: PER_REQUEST,
        concurrency: CONCURRENCY,
        start: start.getTime(),
        end: end.getTime(),
        people: PEOPLE,
        customers: CUSTOMERS,
      });
      if (client.failures.length > 0) throw new Error(`${client.failures.length} requests failed, first: ${client.failures[0]}`);
      const [stored] = await queryRows<{ n: number; nonpublic: number }>(db, sql`select count(*)::int as n, (count(*) filter (where nonpublic))::int as nonpublic from access_events`);
      if (client.accepted !== EVENTS || stored?.n !== EVENTS) throw new Error(`accepted ${client.accepted}, stored ${stored?.n}, expected ${EVENTS}`);
      const eventsPerSec = round2(EVENTS / (client.elapsedMs / 1000));
      log(`intake: ${EVENTS} events in ${Math.ceil(EVENTS / PER_REQUEST)} requests (${CONCURRENCY} in flight) in ${seconds(client.elapsedMs)}s: ${eventsPerSec}/s; ${stored.nonpublic} non-public views`);

      const reportUrl = `${server.url}/v1/reports/nonpublic-access?from=${encodeURIComponent(start.toISOString())}&to=${encodeURIComponent(end.toISOString())}`;
      t = performance.now();
      const res = await fetch(reportUrl, { headers: { authorization: `Bearer ${token}` } });
      const report = (await res.json()) as { totals?: { records: number; viewers: number; customers: number } };
      const reportMs = performance.now() - t;
      if (res.status !== 200 || report.totals?.records !== stored.nonpublic) throw new Error(`report: ${res.status} ${JSON.stringify(report).slice(0, 300)}`);
      log(`report: ${report.totals.records} records, ${report.totals.viewers} viewers, ${report.totals.customers} customers in ${seconds(reportMs)}s`);

      t = performance.now();
      let scanned = 0;
      for (;;) {
        const r = await scanAccessLogs({ db, now: new Date() });
        if (r.batches === 0) break;
        scanned += r.events;
      }
      log(`rules: detection.scan-access-logs over ${scanned} events in ${seconds(performance.now() - t)}s (not part of the result)`);
      return { bench: 'ingest', events: EVENTS, eventsPerSec, reportSeconds: round2(reportMs / 1000) };
    } finally {
      await server.close();
    }
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
