/**
 * Decision benchmark (npm run bench:decide): the same firewall policy and the same requests
 * through Sekisho's engine (decide), @cedar-policy/cedar-wasm (stateful API, policies parsed
 * once) and casbin (enforceSync), in one process; then /v1/decisions:batch over HTTP.
 *
 * Needs a PostgreSQL server: DATABASE_URL (default postgres://root@127.0.0.1:5432/test) names
 * one whose user may create databases. The bench creates a scratch database
 * sekisho_bench_<random> there, fills it with a seeded random organisation (wheeling, retail and
 * contractor companies, people with affiliation histories and leavers, terminals, three systems
 * with fields of every class, grants current/expired/revoked/future, a disaster roster, an
 * active and an ended emergency), loads the policy snapshot the service would hold, and drops
 * the database at the end.
 *
 *   In-process — every request is evaluated by each engine on all its fields and timed one by
 *   one (performance.now around the call; the peers' time includes resolving the facts at `now`
 *   that they cannot express, see decide-peers.ts). Answers must be identical field by field,
 *   else the first disagreement goes to stderr and the bench exits 1.
 *   HTTP — the same requests in /v1/decisions:batch calls to the real service (policy cache,
 *   decision log with group commit and audit), clock pinned to the same instant; every answer
 *   is checked against the in-process one.
 *
 * Prints exactly one JSON line on stdout; progress goes to stderr.
 *
 * Knobs (environment): BENCH_DECIDE_REQUESTS (100000), BENCH_DECIDE_PERSONS (20000),
 * BENCH_DECIDE_SEED (1), BENCH_DECIDE_WARMUP (5000), BENCH_DECIDE_HTTP_BATCH (1000),
 * BENCH_DECIDE_HTTP_CONCURRENCY (4), BENCH_TIME_LIMIT_SECONDS (600).
 */
import { putCompany } from '../../src/affiliation/companies.js';
import { affiliations, persons, type CompanyKind } from '../../src/affiliation/schema.js';
import { putEntitlement, putSystem } from '../../src/access/catalog.js';
import { decide, type Decision, type DecisionRequest, type FieldVerdict, type PolicySnapshot } from '../../src/access/decide.js';
import { grants, terminals, type FieldClass } from '../../src/access/schema.js';
import { loadSnapshot } from '../../src/access/snapshot.js';
import { createApiToken } from '../../src/credentials/api-tokens.js';
import type { Db } from '../../src/db/client.js';
import { emergencies, emergencyRoster } from '../../src/emergency/schema.js';
import { CasbinPeer, CedarPeer, resolveFacts } from './decide-peers.js';
import { TAKUSO_FIELDS } from '../../src/demo/seed.js';
import { intEnv, logger, percentile, pool, round2, seconds, startBenchServer, withScratchDatabase } from './support.js';

const REQUESTS = intEnv('BENCH_DECIDE_REQUESTS', 100_000);
const PERSONS = intEnv('BENCH_DECIDE_PERSONS', 20_000);
const SEED = intEnv('BENCH_DECIDE_SEED', 1);
const WARMUP = intEnv('BENCH_DECIDE_WARMUP', 5000);
const HTTP_BATCH = intEnv('BENCH_DECIDE_HTTP_BATCH', 1000);
const HTTP_CONCURRENCY = intEnv('BENCH_DECIDE_HTTP_CONCURRENCY', 4);
const TIME_LIMIT_SECONDS = intEnv('BENCH_TIME_LIMIT_SECONDS', 600);
const POOL_SIZE = 10;

const log = logger('decide');
const DAY = 24 * 3600_000;

/** mulberry32: a small seeded generator, so a run can be repeated exactly. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  };
}
type Rng = ReturnType<typeof rng>;

// ---------------------------------------------------------------------------------------------
// The organisation

const COMPANIES: { code: string; kind: CompanyKind; actsFor?: string; weight: number }[] = [
  { code: 'nw', kind: 'wheeling', weight: 40 },
  { code: 'ep', kind: 'retail', weight: 25 },
  { code: 'shinden-a', kind: 'retail', weight: 5 },
  { code: 'shinden-b', kind: 'retail', weight: 0 },
  { code: 'nw-sys', kind: 'contractor', actsFor: 'nw', weight: 12 },
  { code: 'ep-call', kind: 'contractor', actsFor: 'ep', weight: 12 },
  { code: 'kouji', kind: 'other', weight: 6 },
];
const RETAILERS = ['ep', 'shinden-a', 'shinden-b', 'kita-denki'];
const AREAS = ['aomori', 'iwate', 'akita', 'miyagi', 'yamagata'];

const SYSTEMS: { code: string; fields: Record<string, FieldClass>; emergencyFields: string[] }[] = [
  {
    code: 'takuso',
    fields: { ...TAKUSO_FIELDS.fields, contractCurrent: 'network.public' },
    emergencyFields: TAKUSO_FIELDS.emergencyFields,
  },
  {
    code: 'ryokin',
    fields: {
      supplyPoint: 'network.public',
      meterNo: 'network.public',
      readingDay: 'network.public',
      holderName: 'customer.retailer-only',
      menu: 'customer.retailer-only',
      usage: 'customer.retailer-only',
      generator: 'network.internal',
      applicationHistory: 'network.internal',
      customerRequests: 'network.internal',
    },
    emergencyFields: ['supplyPoint', 'holderName'],
  },
  {
    code: 'setsubi',
    fields: { supplyPoint: 'network.public', supplyVoltage: 'network.public', mapRef: 'network.internal', loadEquipment: 'network.internal', fitContract: 'network.internal' },
    emergencyFields: ['supplyPoint', 'supplyVoltage'],
  },
];

interface Org {
  personIds: string[];
  /** Company whose terminals each person normally uses (their company at NOW, if any). */
  companyAtNow: Map<string, string>;
  terminalsByCompany: Map<string, string[]>;
  allTerminals: string[];
  inactiveTerminals: string[];
}

function pickWeighted(r: Rng): string {
  const total = COMPANIES.reduce((n, c) => n + c.weight, 0);
  let x = r.next() * total;
  for (const c of COMPANIES) if ((x -= c.weight) < 0) return c.code;
  return COMPANIES[0]!.code;
}

async function insertChunked<T>(rows: T[], size: number, insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += size) await insert(rows.slice(i, i + size));
}

async function buildOrganisation(db: Db, now: Date, r: Rng): Promise<Org> {
  const setupNow = new Date(now.getTime() - 400 * DAY);
  const actor = 'bench';
  for (const c of COMPANIES) await putCompany({ db, now: setupNow, actor, code: c.code, name: `Bench ${c.code}`, kind: c.kind, actsFor: c.actsFor });
  await putCompany({ db, now: setupNow, actor, code: 'kita-denki', name: 'Bench kita-denki', kind: 'retail' });
  for (const s of SYSTEMS) {
    await putSystem({ db, now: setupNow, actor, code: s.code, name: s.code, ownerCompany: 'nw', fields: s.fields, emergencyFields: s.emergencyFields });
    await putEntitlement({ db, now: setupNow, actor, code: `${s.code}-operator`, system: s.code, name: 'Operator', allowedCompanyKinds: ['wheeling'] });
    await putEntitlement({ db, now: setupNow, actor, code: `${s.code}-switching`, system: s.code, name: 'Switching support', allowedCompanyKinds: ['wheeling', 'retail'] });
  }

  const t = (days: number) => new Date(now.getTime() + days * DAY);
  const personRows: (typeof persons.$inferInsert)[] = [];
  const affiliationRows: (typeof affiliations.$inferInsert)[] = [];
  const grantRows: (typeof grants.$inferInsert)[] = [];
  const rosterRows: (typeof emergencyRoster.$inferInsert)[] = [];
  const org: Org = { personIds: [], companyAtNow: new Map(), terminalsByCompany: new Map(), allTerminals: [], inactiveTerminals: [] };

  for (let i = 0; i < PERSONS; i++) {
    const id = `E${String(i + 1).padStart(6, '0')}`;
    org.personIds.push(id);
    personRows.push({ id, name: `Bench ${id}`, createdAt: setupNow, updatedAt: setupNow });
    // A timeline: hired in the past; some transferred since, some transfer or leave later,
    // some have left, a few join only in the future.
    const first = pickWeighted(r);
    const kind = r.next();
    const hiredAt = kind < 0.02 ? t(10 + r.int(30)) : t(-(30 + r.int(3000)));
    const segments: { company: string; from: Date; to: Date | null }[] = [];
    if (kind < 0.2 && kind >= 0.02) {
      const movedAt = t(-(1 + r.int(25)));
      segments.push({ company: first, from: hiredAt, to: movedAt }, { company: pickWeighted(r), from: movedAt, to: null });
    } else if (kind < 0.25) {
      const movesAt = t(1 + r.int(60));
      segments.push({ company: first, from: hiredAt, to: movesAt }, { company: pickWeighted(r), from: movesAt, to: null });
    } else if (kind < 0.33) {
      segments.push({ company: first, from: hiredAt, to: t(-(1 + r.int(20))) });
    } else {
      segments.push({ company: first, from: hiredAt, to: null });
    }
    for (const s of segments) {
      if (s.to && s.to.getTime() <= s.from.getTime()) continue;
      affiliationRows.push({ personId: id, companyCode: s.company, validFrom: s.from, validTo: s.to, recordedAt: setupNow });
      if (s.from.getTime() <= now.getTime() && (s.to === null || s.to.getTime() > now.getTime())) org.companyAtNow.set(id, s.company);
    }
    // Grants: most people hold one or two, in every state.
    const systemsHeld = r.chance(0.85) ? (r.chance(0.4) ? 2 : 1) : 0;
    for (let g = 0; g < systemsHeld; g++) {
      const system = r.pick(SYSTEMS).code;
      // 5% start later, 5% expired, 5% end later, 6% revoked, the rest open-ended.
      const state = r.next();
      const from = state < 0.05 ? t(1 + r.int(10)) : t(-(1 + r.int(300)));
      const between = () => new Date(from.getTime() + 1000 + r.next() * (now.getTime() - from.getTime() - 2000));
      const row: typeof grants.$inferInsert = {
        personId: id,
        entitlementCode: `${system}-${r.chance(0.5) ? 'operator' : 'switching'}`,
        validFrom: from,
        validTo: state < 0.05 ? null : state < 0.1 ? between() : state < 0.15 ? t(1 + r.int(30)) : null,
        reason: 'bench',
        grantedBy: actor,
        createdAt: setupNow,
      };
      if (state >= 0.15 && state < 0.21) Object.assign(row, { revokedAt: between(), revokedBy: actor, revokedReason: 'bench' });
      grantRows.push(row);
    }
    if (r.chance(0.08)) {
      const areas = AREAS.filter(() => r.chance(0.4));
      rosterRows.push({ personId: id, areas: areas.length ? areas : [r.pick(AREAS)], createdAt: setupNow, updatedAt: setupNow });
    }
  }

  const terminalRows: (typeof terminals.$inferInsert)[] = [];
  for (const c of [...COMPANIES.map((c) => c.code), 'kita-denki']) {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const id = `T-${c}-${String(i + 1).padStart(3, '0')}`;
      const active = !r.chance(0.06);
      terminalRows.push({ id, companyCode: c, site: `${c}-site-${i % 5}`, active, createdAt: setupNow, updatedAt: setupNow });
      (active ? ids : org.inactiveTerminals).push(id);
      org.allTerminals.push(id);
    }
    org.terminalsByCompany.set(c, ids);
  }

  await insertChunked(personRows, 5000, (chunk) => db.insert(persons).values(chunk));
  await insertChunked(affiliationRows, 4000, (chunk) => db.insert(affiliations).values(chunk));
  await insertChunked(grantRows, 3000, (chunk) => db.insert(grants).values(chunk));
  await insertChunked(rosterRows, 5000, (chunk) => db.insert(emergencyRoster).values(chunk));
  await db.insert(terminals).values(terminalRows);
  await db.insert(emergencies).values([
    // Active now over two areas.
    { areas: ['aomori', 'iwate'], reason: 'bench: typhoon', status: 'active', declaredBy: actor, declaredAt: t(-0.1), approvedBy: 'bench-2', startedAt: t(-0.1), expiresAt: t(0.2), latestExpiry: t(1) },
    // Ended before now.
    { areas: ['miyagi', 'akita'], reason: 'bench: snow', status: 'ended', declaredBy: actor, declaredAt: t(-9), approvedBy: 'bench-2', startedAt: t(-9), expiresAt: t(-8), latestExpiry: t(-8), endedAt: t(-8.5), endedBy: actor, endReason: 'over' },
  ]);
  log(`organisation: ${PERSONS} persons, ${affiliationRows.length} affiliations, ${grantRows.length} grants, ${terminalRows.length} terminals, ${rosterRows.length} on the roster`);
  return org;
}

// ---------------------------------------------------------------------------------------------
// The requests

function makeRequests(org: Org, r: Rng): DecisionRequest[] {
  const requests: DecisionRequest[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const personId = r.chance(0.02) ? `X${i}` : r.pick(org.personIds);
    const company = org.companyAtNow.get(personId);
    const own = company ? org.terminalsByCompany.get(company)! : [];
    const actsFor = COMPANIES.find((c) => c.code === company)?.actsFor;
    const t = r.next();
    let terminalId: string | undefined;
    if (t < 0.6 && own.length) terminalId = r.pick(own);
    else if (t < 0.68 && actsFor) terminalId = r.pick(org.terminalsByCompany.get(actsFor)!);
    else if (t < 0.85) terminalId = r.pick(org.allTerminals);
    else if (t < 0.9) terminalId = r.pick(org.inactiveTerminals);
    else if (t < 0.95) terminalId = `T-UNKNOWN-${i % 7}`;
    // else: no terminal at all
    const system = r.chance(0.02) ? 'unknown-system' : r.pick(SYSTEMS).code;
    const declared = Object.keys(SYSTEMS.find((s) => s.code === system)?.fields ?? SYSTEMS[0]!.fields);
    const fields = declared.filter(() => r.chance(0.55));
    if (fields.length === 0) fields.push(r.pick(declared));
    if (r.chance(0.03)) fields.push('myNumber');
    const rulesCompany = actsFor ?? company;
    const x = r.next();
    const retailer = x < 0.12 ? null : x < 0.2 ? undefined : x < 0.45 && rulesCompany ? rulesCompany : r.pick(RETAILERS);
    const area = r.chance(0.1) ? null : r.pick(AREAS);
    const record: DecisionRequest['record'] = { customerId: `C${r.int(1_000_000)}`, area };
    if (retailer !== undefined) record.retailer = retailer;
    requests.push({ personId, ...(terminalId ? { terminalId } : {}), system, record, fields });
  }
  return requests;
}

// ---------------------------------------------------------------------------------------------
// Timing

type Answer = Record<string, FieldVerdict>;

interface EngineResult {
  answers: Answer[];
  perSec: number;
  p50Us: number;
  p99Us: number;
}

function runEngine(name: string, requests: DecisionRequest[], evaluate: (req: DecisionRequest) => Answer): EngineResult {
  for (let i = 0; i < Math.min(WARMUP, requests.length); i++) evaluate(requests[i]!);
  const latencies = new Float64Array(requests.length);
  const answers: Answer[] = new Array(requests.length);
  const start = performance.now();
  for (let i = 0; i < requests.length; i++) {
    const t0 = performance.now();
    answers[i] = evaluate(requests[i]!);
    latencies[i] = performance.now() - t0;
  }
  const elapsedMs = performance.now() - start;
  latencies.sort();
  const result = {
    answers,
    perSec: Math.round(requests.length / (elapsedMs / 1000)),
    p50Us: round2(percentile(latencies, 50) * 1000),
    p99Us: round2(percentile(latencies, 99) * 1000),
  };
  log(`${name}: ${requests.length} requests in ${seconds(elapsedMs)}s: ${result.perSec}/s, p50 ${result.p50Us} µs, p99 ${result.p99Us} µs, max ${round2(latencies.at(-1)! * 1000)} µs`);
  return result;
}

/** Both answers give every requested field the same verdict (a missing verdict never agrees). */
const sameAnswer = (req: DecisionRequest, a: Answer, b: Answer) => req.fields.every((f) => a[f] !== undefined && a[f] === b[f]);

function firstDisagreement(
  snapshot: PolicySnapshot,
  now: number,
  requests: DecisionRequest[],
  engines: Record<string, Answer[]>,
): string | undefined {
  const [reference, ...others] = Object.entries(engines);
  for (let i = 0; i < requests.length; i++) {
    const req = requests[i]!;
    for (const [name, answers] of others) {
      if (!sameAnswer(req, reference![1][i]!, answers[i]!)) {
        const facts = resolveFacts(snapshot, req, now);
        return JSON.stringify({
          request: i,
          body: req,
          decision: decide(snapshot, req, now),
          facts: { ...facts, fields: Object.fromEntries(facts.fields) },
          answers: Object.fromEntries(Object.entries(engines).map(([n, a]) => [n, a[i]])),
          disagrees: `${reference![0]} vs ${name}`,
        });
      }
    }
  }
  return undefined;
}

function describeMix(decisions: Decision[]): string {
  const reasons = new Map<string, number>();
  let allowed = 0;
  let fields = 0;
  for (const d of decisions) {
    for (const reason of d.reasons) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    for (const v of Object.values(d.fields)) {
      fields += 1;
      if (v === 'allow') allowed += 1;
    }
  }
  const top = [...reasons].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`);
  return `${fields} fields, ${allowed} allowed; reasons: ${top.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------
// HTTP

async function httpBatches(
  url: string,
  token: string,
  requests: DecisionRequest[],
  expected: Answer[],
): Promise<{ perSec: number; elapsedMs: number }> {
  const bodies: string[] = [];
  for (let i = 0; i < requests.length; i += HTTP_BATCH) bodies.push(JSON.stringify({ items: requests.slice(i, i + HTTP_BATCH) }));
  const texts: string[] = new Array(bodies.length);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const start = performance.now();
  await pool(bodies.length, HTTP_CONCURRENCY, async (b) => {
    const res = await fetch(`${url}/v1/decisions:batch`, { method: 'POST', headers, body: bodies[b], signal: AbortSignal.timeout(120_000) });
    texts[b] = await res.text();
    if (res.status !== 200) throw new Error(`batch ${b}: ${res.status} ${texts[b]!.slice(0, 300)}`);
  });
  const elapsedMs = performance.now() - start;
  // Checked after the clock stops: every HTTP answer is the in-process answer.
  for (let b = 0; b < texts.length; b++) {
    const items = (JSON.parse(texts[b]!) as { items: { fields: Answer }[] }).items;
    for (let j = 0; j < items.length; j++) {
      const i = b * HTTP_BATCH + j;
      if (!sameAnswer(requests[i]!, items[j]!.fields, expected[i]!)) {
        throw new Error(`HTTP answer ${i} differs: ${JSON.stringify({ body: requests[i], http: items[j], inProcess: expected[i] })}`);
      }
    }
    if (items.length !== Math.min(HTTP_BATCH, requests.length - b * HTTP_BATCH)) throw new Error(`batch ${b}: ${items.length} items returned`);
  }
  return { perSec: Math.round(requests.length / (elapsedMs / 1000)), elapsedMs };
}

async function main(): Promise<void> {
  const result = await withScratchDatabase('decide', { poolSize: POOL_SIZE, timeLimitSeconds: TIME_LIMIT_SECONDS }, async (database) => {
    const { db } = database;
    // The instant every engine decides at (and the HTTP service's pinned clock).
    const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
    const r = rng(SEED);
    let t = performance.now();
    const org = await buildOrganisation(db, NOW, r);
    const requests = makeRequests(org, r);
    const snapshot = await loadSnapshot(db);
    log(`setup in ${seconds(performance.now() - t)}s; ${REQUESTS} requests, ${requests.reduce((n, q) => n + q.fields.length, 0)} fields, decided at ${NOW.toISOString()}`);

    const now = NOW.getTime();
    const cedar = CedarPeer.create();
    const casbin = await CasbinPeer.create();
    const decisions: Decision[] = new Array(requests.length);
    let k = 0;
    const sekisho = runEngine('sekisho', requests, (req) => {
      const d = decide(snapshot, req, now);
      decisions[k++ % requests.length] = d;
      return d.fields;
    });
    log(`mix: ${describeMix(decisions)}`);
    const cedarResult = runEngine('cedar', requests, (req) => cedar.decide(snapshot, req, now));
    const casbinResult = runEngine('casbin', requests, (req) => casbin.decide(snapshot, req, now));

    const disagreement = firstDisagreement(snapshot, now, requests, { sekisho: sekisho.answers, cedar: cedarResult.answers, casbin: casbinResult.answers });
    if (disagreement) {
      console.error(`[bench:decide] engines disagree; first disagreement:\n${disagreement}`);
      console.log(JSON.stringify({ bench: 'decide', requests: REQUESTS, agree: false }));
      process.exitCode = 1;
      return undefined;
    }
    log(`all three engines agree on every field of ${REQUESTS} requests; sekisho is ${round2(sekisho.perSec / cedarResult.perSec)}× cedar, ${round2(sekisho.perSec / casbinResult.perSec)}× casbin`);

    t = performance.now();
    const token = (await createApiToken({ db, now: NOW, actor: 'bench', name: 'bench-decide', scopes: ['decide'] })).value;
    const server = await startBenchServer(database, { clock: () => NOW });
    log(`service started in ${seconds(performance.now() - t)}s`);
    let http: Awaited<ReturnType<typeof httpBatches>>;
    try {
      http = await httpBatches(server.url, token, requests, sekisho.answers);
    } finally {
      await server.close();
    }
    log(`http: ${REQUESTS} decisions in ${Math.ceil(REQUESTS / HTTP_BATCH)} batches of ${HTTP_BATCH} (${HTTP_CONCURRENCY} in flight) in ${seconds(http.elapsedMs)}s: ${http.perSec}/s, every answer as in process`);

    const engine = (e: EngineResult) => ({ perSec: e.perSec, p50Us: e.p50Us, p99Us: e.p99Us });
    return { bench: 'decide', requests: REQUESTS, agree: true, sekisho: engine(sekisho), cedar: engine(cedarResult), casbin: engine(casbinResult), httpBatchPerSec: http.perSec };
  });
  if (result) console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
