/**
 * Emergency switch-over benchmark (npm run bench:emergency). Loopback only, bounded in count and time.
 *
 * Needs a PostgreSQL server: DATABASE_URL (default postgres://root@127.0.0.1:5432/test) names
 * one whose user may create databases. The bench creates a scratch database
 * sekisho_bench_<random> there, migrates it, and drops it at the end.
 *
 * Setup: a utility group (wheeling, retail, a new entrant, contractors), the wheeling company's
 * customer system with classified fields and an emergency field set, terminals registered to
 * the retail side, and BENCH_EMERGENCY_ROSTER disaster-support roster members — retail staff and
 * a retail contractor's staff, affiliated now, with no grant at all: only a declared emergency
 * lets them see anything.
 *
 * Two OS processes on the one database:
 *   process 1 — this one: the real service on a loopback port; declares and ends emergencies
 *               through POST /v1/emergencies and POST /v1/emergencies/{id}/end.
 *   process 2 — test/support/decision-server.ts (the real service, real clock), answering
 *               POST /v1/decisions.
 *
 * Each cycle (BENCH_EMERGENCY_CYCLES): declare for one area; from the declaration's response
 * (committed) poll process 2 — one request in flight, no pause, roster members of that area in
 * turn — until it permits: declareToPermitMs. Then end it; from the end's response poll until
 * it denies: endToDenyMs. Medians and maxima over the cycles; the target is < 1 s each.
 * For scale, also: decisionRoundTripMs (median of decisions in mid-emergency, the floor of both
 * figures, since every decision syncs policy and is durably logged before it answers) and how
 * long the desk waited for the declare and end calls (the end revokes roster members' sessions).
 *
 * Prints exactly one JSON line on stdout; progress goes to stderr.
 *
 * Knobs (environment): BENCH_EMERGENCY_ROSTER (5000), BENCH_EMERGENCY_CYCLES (5),
 * BENCH_TIME_LIMIT_SECONDS (180).
 */
import { sql } from 'drizzle-orm';
import { putSystem, putTerminal } from '../../src/access/catalog.js';
import { putCompany } from '../../src/affiliation/companies.js';
import { appendAudit, type AuditEntry } from '../../src/audit/chain.js';
import { createApiToken } from '../../src/credentials/api-tokens.js';
import { queryRows, type Db } from '../../src/db/client.js';
import { withTx } from '../../src/db/tx.js';
import { spawnDecisionProcess, type DecisionProcess } from '../../test/support/decision-process.js';
import { intEnv, logger, percentile, round2, seconds, startBenchServer, withScratchDatabase } from './support.js';

const ROSTER = intEnv('BENCH_EMERGENCY_ROSTER', 5000);
const CYCLES = intEnv('BENCH_EMERGENCY_CYCLES', 5);
const TIME_LIMIT_SECONDS = intEnv('BENCH_TIME_LIMIT_SECONDS', 180);
const POOL_SIZE = 10;
/** Target for each switch-over; a switch not seen within GIVE_UP_MS fails the bench. */
const TARGET_MS = 1000;
const GIVE_UP_MS = 15_000;


const log = logger('emergency');

const HIRED_AT = new Date('2020-04-01T00:00:00+09:00');
const AREAS = ['aomori', 'iwate', 'akita', 'miyagi', 'yamagata', 'fukushima', 'niigata'] as const;
const FIELDS = {
  supplyPoint: 'network.public',
  supplyAddress: 'network.public',
  contractCurrent: 'network.public',
  supplyVoltage: 'network.public',
  holderName: 'customer.retailer-only',
  phone: 'customer.retailer-only',
  serviceMenu: 'customer.retailer-only',
  usage: 'customer.retailer-only',
  retailerName: 'network.internal',
  loadEquipment: 'network.internal',
  applicationHistory: 'network.internal',
} as const;
/** The published disaster-support set. */
const EMERGENCY_FIELDS = ['supplyPoint', 'holderName', 'supplyAddress', 'phone', 'supplyVoltage'];

/** Roster member i: every fifth works for the retail company's contractor, the rest for retail. */
const memberId = (i: number) => `R${String(i + 1).padStart(6, '0')}`;
const memberCompany = (i: number) => (i % 5 === 4 ? 'ep-staff' : 'ep');
/** Each member supports two neighbouring areas. */
const memberAreas = (i: number) => [AREAS[i % AREAS.length]!, AREAS[(i + 1) % AREAS.length]!];
const terminalFor = (company: string, area: string) => `T-${company.toUpperCase()}-${area.toUpperCase()}`;

async function setUp(db: Db): Promise<{ emergencyToken: string; decideToken: string }> {
  const now = new Date();
  const actor = 'bench';
  await putCompany({ db, now, actor, code: 'nw', name: 'Bench Network Co.', kind: 'wheeling' });
  await putCompany({ db, now, actor, code: 'ep', name: 'Bench Retail Co.', kind: 'retail' });
  await putCompany({ db, now, actor, code: 'shinden-a', name: 'Bench New Entrant Co.', kind: 'retail' });
  await putCompany({ db, now, actor, code: 'nw-systems', name: 'Bench Systems Co.', kind: 'contractor', actsFor: 'nw' });
  await putCompany({ db, now, actor, code: 'ep-staff', name: 'Bench Retail Staffing Co.', kind: 'contractor', actsFor: 'ep' });
  await putSystem({ db, now, actor, code: 'takuso', name: '託送システム', ownerCompany: 'nw', fields: { ...FIELDS }, emergencyFields: EMERGENCY_FIELDS });
  for (const area of AREAS) {
    for (const company of ['nw', 'ep', 'ep-staff']) {
      await putTerminal({ db, now, actor, id: terminalFor(company, area), company, site: `${area} ${company}` });
    }
  }

  // The roster, set-based (setup only): persons affiliated since HIRED_AT, roster rows, and the
  // roster additions in the audit chain, all in one transaction.
  const t = performance.now();
  const ids = Array.from({ length: ROSTER }, (_, i) => memberId(i));
  const at = now.toISOString();
  // Member i = g - 1: the same id, company and areas as memberId, memberCompany and memberAreas.
  const id = sql.raw(`'R' || lpad(g::text, 6, '0')`);
  const areaList = `{${AREAS.join(',')}}`;
  await withTx(db, async (tx) => {
    await tx.execute(sql`
      insert into persons (id, name, created_at, updated_at)
      select ${id}, 'Bench roster ' || ${id}, ${at}::timestamptz, ${at}::timestamptz from generate_series(1, ${ROSTER}::int) g`);
    await tx.execute(sql`
      insert into affiliations (person_id, company_code, org_unit, valid_from, recorded_at)
      select ${id}, case when (g - 1) % 5 = 4 then 'ep-staff' else 'ep' end, 'disaster-support', ${HIRED_AT.toISOString()}::timestamptz, ${at}::timestamptz
      from generate_series(1, ${ROSTER}::int) g`);
    await tx.execute(sql`
      insert into emergency_roster (person_id, areas, trained_at, contract_ref, created_at, updated_at)
      select ${id}, array[a[(g - 1) % ${AREAS.length}::int + 1], a[g % ${AREAS.length}::int + 1]], ${HIRED_AT.toISOString()}::timestamptz, 'DS-BENCH', ${at}::timestamptz, ${at}::timestamptz
      from generate_series(1, ${ROSTER}::int) g, (select ${areaList}::text[] as a) areas`);
    const entries: AuditEntry[] = ids.map((id, i) => ({
      actor,
      action: 'emergency-roster.added',
      subjectType: 'roster',
      subjectId: id,
      data: { areas: memberAreas(i), trainedAt: HIRED_AT.toISOString(), contractRef: 'DS-BENCH' },
    }));
    await appendAudit(tx, now, entries);
  });
  // The rows say what the poller assumes about each member.
  const rows = await queryRows<{ person_id: string; areas: string[]; company_code: string }>(
    db,
    sql`select r.person_id, r.areas, a.company_code from emergency_roster r join affiliations a using (person_id) order by r.person_id`,
  );
  const mismatch = ids.findIndex((pid, i) => rows[i]?.person_id !== pid || rows[i]?.company_code !== memberCompany(i) || rows[i]?.areas.join() !== memberAreas(i).join());
  if (rows.length !== ROSTER || mismatch >= 0) throw new Error(`roster setup does not match: ${rows.length} rows, first mismatch at ${mismatch}: ${JSON.stringify(rows[mismatch])}`);
  log(`setup: ${ROSTER} roster members (persons, affiliations, roster, audit) in ${seconds(performance.now() - t)}s`);

  const emergencyToken = (await createApiToken({ db, now, actor, name: 'bench-emergency-desk', scopes: ['emergency'] })).value;
  const decideToken = (await createApiToken({ db, now, actor, name: 'bench-decider', scopes: ['decide'] })).value;
  return { emergencyToken, decideToken };
}

interface DecisionOut {
  decision: 'permit' | 'deny';
  fields: Record<string, 'allow' | 'mask'>;
  reasons: string[];
}

async function post<T>(url: string, token: string, body: unknown, expected: number): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status !== expected) throw new Error(`POST ${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const result = await withScratchDatabase('emergency', { poolSize: POOL_SIZE, timeLimitSeconds: TIME_LIMIT_SECONDS }, async (database, url) => {
    const { emergencyToken, decideToken } = await setUp(database.db);
    const one = await startBenchServer(database);
    let two: DecisionProcess | undefined;
    try {
      let t = performance.now();
      two = await spawnDecisionProcess(url, { readyWithinMs: 60_000 });
      log(`process 2 (pid ${two.pid}) ready at ${two.url} in ${seconds(performance.now() - t)}s; process 1 (pid ${process.pid}) at ${one.url}`);

      const decisionsUrl = `${two.url}/v1/decisions`;
      let asked = 0;
      /** One decision on process 2 for the next roster member covering `area`, on a terminal of their company there. */
      const decideFor = (area: string): Promise<DecisionOut> => {
        const k = AREAS.indexOf(area as (typeof AREAS)[number]);
        // Members covering area k are those with i % 7 === k or i % 7 === k - 1; walk through them.
        const n = asked++;
        const offset = n % 2 === 0 ? k : (k - 1 + AREAS.length) % AREAS.length;
        let i = offset + AREAS.length * (Math.floor(n / 2) % Math.floor(ROSTER / AREAS.length));
        if (i >= ROSTER) i = offset;
        const personId = memberId(i);
        return post<DecisionOut>(decisionsUrl, decideToken, {
          personId,
          terminalId: terminalFor(memberCompany(i), area),
          system: 'takuso',
          record: { customerId: `C-${area}-${n}`, retailer: 'shinden-a', area },
          fields: Object.keys(FIELDS),
        }, 200);
      };
      /** Polls process 2, one request in flight, until `want`; returns ms since `start` and the polls made. */
      const pollUntil = async (area: string, want: DecisionOut['decision'], start: number): Promise<{ ms: number; polls: number; last: DecisionOut }> => {
        for (let polls = 1; ; polls++) {
          const d = await decideFor(area);
          const ms = performance.now() - start;
          if (d.decision === want) return { ms, polls, last: d };
          if (ms > GIVE_UP_MS) throw new Error(`process 2 still answered ${d.decision} (${d.reasons.join(', ')}) ${Math.round(ms)} ms after the change, ${polls} polls`);
        }
      };
      const expectEmergencySet = (d: DecisionOut) => {
        const allowed = Object.entries(d.fields).filter(([, v]) => v === 'allow').map(([f]) => f).sort();
        if (d.reasons.join() !== 'emergency' || allowed.join() !== [...EMERGENCY_FIELDS].sort().join()) {
          throw new Error(`permit under the emergency was not exactly the emergency field set: ${JSON.stringify(d)}`);
        }
      };

      // Warm both processes up (JIT, connections) and check the starting state: no emergency, so deny.
      for (let i = 0; i < 50; i++) {
        const d = await decideFor(AREAS[i % AREAS.length]!);
        if (d.decision !== 'deny' || d.reasons.join() !== 'emergency-not-active') throw new Error(`before any emergency a roster member got ${JSON.stringify(d)}`);
      }

      const toPermit: number[] = [];
      const toDeny: number[] = [];
      const polls = { permit: [] as number[], deny: [] as number[] };
      /** How long the desk waited for POST /v1/emergencies and …/end themselves. */
      const calls = { declare: [] as number[], end: [] as number[] };
      /** Round trips of decisions in the middle of an emergency, for comparison: the floor of both figures. */
      const steady: number[] = [];
      for (let c = 0; c < CYCLES; c++) {
        const area = AREAS[c % AREAS.length]!;
        // Start at a random phase relative to the caches' poll timers.
        await sleep(100 + Math.random() * 250);
        let sent = performance.now();
        const declared = await post<{ id: string; status: string }>(`${one.url}/v1/emergencies`, emergencyToken, { areas: [area], reason: `bench cycle ${c + 1}: 豪雨災害`, durationMinutes: 60 }, 201);
        const declaredAt = performance.now();
        calls.declare.push(declaredAt - sent);
        if (declared.status !== 'active') throw new Error(`declared emergency is ${declared.status}, expected active (is SEKISHO_EMERGENCY_APPROVAL dual?)`);
        const permit = await pollUntil(area, 'permit', declaredAt);
        expectEmergencySet(permit.last);
        toPermit.push(permit.ms);
        polls.permit.push(permit.polls);

        // Some decisions under the emergency, as the field staff would make.
        for (let i = 0; i < 20; i++) {
          const t0 = performance.now();
          const d = await decideFor(area);
          steady.push(performance.now() - t0);
          if (d.decision !== 'permit') throw new Error(`denied during the emergency: ${JSON.stringify(d)}`);
          expectEmergencySet(d);
        }
        await sleep(100 + Math.random() * 250);

        sent = performance.now();
        await post(`${one.url}/v1/emergencies/${declared.id}/end`, emergencyToken, undefined, 200);
        const endedAt = performance.now();
        calls.end.push(endedAt - sent);
        const deny = await pollUntil(area, 'deny', endedAt);
        if (deny.last.reasons.join() !== 'emergency-not-active' || Object.values(deny.last.fields).some((v) => v !== 'mask')) {
          throw new Error(`after the end a roster member got ${JSON.stringify(deny.last)}`);
        }
        toDeny.push(deny.ms);
        polls.deny.push(deny.polls);
        log(`cycle ${c + 1}/${CYCLES} (${area}): declare → permit ${round2(permit.ms)} ms (${permit.polls} polls), end → deny ${round2(deny.ms)} ms (${deny.polls} polls)`);
      }

      const [logged] = await queryRows<{ n: number; permits: number }>(
        database.db,
        sql`select count(*)::int as n, count(*) filter (where decision = 'permit')::int as permits from decision_log`,
      );
      const median = (xs: number[]) => round2(percentile([...xs].sort((a, b) => a - b), 50));
      const max = (xs: number[]) => round2(Math.max(...xs));
      const out = {
        bench: 'emergency',
        roster: ROSTER,
        cycles: CYCLES,
        declareToPermitMs: median(toPermit),
        endToDenyMs: median(toDeny),
        declareToPermitMaxMs: max(toPermit),
        endToDenyMaxMs: max(toDeny),
        pollsToPermitMax: Math.max(...polls.permit),
        pollsToDenyMax: Math.max(...polls.deny),
        decisionRoundTripMs: median(steady),
        declareRequestMs: median(calls.declare),
        endRequestMs: median(calls.end),
        decisionsLogged: logged?.n ?? 0,
        withinTarget: Math.max(...toPermit, ...toDeny) < TARGET_MS,
      };
      log(`decision log holds ${out.decisionsLogged} decisions (${logged?.permits ?? 0} permits)`);
      if (!out.withinTarget) log(`over the ${TARGET_MS} ms target`);
      return out;
    } finally {
      if (two) await two.stop();
      await one.close();
    }
  });
  console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
