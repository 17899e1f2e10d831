import { sql } from 'drizzle-orm';
import { appendAudit } from '../audit/chain.js';
import { queryRows, type Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { raiseFindings, type Occurrence } from './findings.js';
import { RULES, RULE_SEVERITY } from './rule-codes.js';

/**
 * detection.scan-access-logs: turns stored access events into findings.
 *
 * Intake already judged each event on its own (the `breaches` column); this job folds those into
 * findings per rule and subject, and evaluates the one rule that needs many events: bulk-access,
 * more distinct customers per person per day (Asia/Tokyo) than the threshold, kept
 * incrementally per person-day so a round costs what its own events cost.
 *
 * Progress is a flag per batch (`scanned_at`), not a high-water mark on ids: concurrent intakes
 * commit in any order, and a batch committed late with a low id is still picked up by the next
 * run. A batch is marked in the same transaction that raises its findings, so each event counts
 * once. One replica scans at a time (transaction advisory lock); the others' runs return at once.
 */

export interface DetectionSettings {
  /** bulk-access: more distinct customers than this per person per day raises a finding. */
  bulkAccessThreshold: number;
  /** Months of access events kept (whole monthly partitions are dropped after that). */
  retentionMonths: number;
}

export const DEFAULT_DETECTION: DetectionSettings = { bulkAccessThreshold: 200, retentionMonths: 60 };

/** bulk-access days are calendar days in this zone. */
export const BULK_ACCESS_TIME_ZONE = 'Asia/Tokyo';

const SCAN_LOCK = 7_351_040;
/** Batches per transaction (up to 1,000,000 events), and transactions per run. */
const BATCHES_PER_ROUND = 10;
const MAX_ROUNDS = 20;

export interface ScanResult {
  /** False when another replica was scanning (its run covers this one). */
  ran: boolean;
  batches: number;
  events: number;
  /** Occurrences per rule (events, or person-days for bulk-access). */
  occurrences: Record<string, number>;
  opened: string[];
}

interface BreachRow {
  rule: string;
  subjectKey: string;
  personId: string | null;
  terminalId: string | null;
  count: number;
  firstAt: Date | string;
  lastAt: Date | string;
  systems: string[];
  company: string | null;
  rulesCompany: string | null;
  terminalCompany: string | null;
  site: string | null;
  loginId: string | null;
  holder: string | null;
  issuedUnder: string | null;
  revokedAt: Date | string | null;
  secretId: string | null;
  secretName: string | null;
  customers: number;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** The events of these batches that breached a rule on their own, folded per rule and subject. */
async function breachOccurrences(tx: Db, ids: number[], lo: Date, hi: Date): Promise<Occurrence[]> {
  const rows = await queryRows<BreachRow>(
    tx,
    sql`
    with hits as (
      select b.rule, e.*,
        case b.rule
          when ${RULES.nonpublicViewed} then coalesce(e.person_id, 'login:' || e.system || '/' || e.login_id, 'unidentified:' || e.system)
          when ${RULES.terminalMismatch} then e.person_id || '|' || e.terminal_id
          when ${RULES.emergencyOutside} then e.person_id
          when ${RULES.revokedCredential} then e.credential_id::text
          when ${RULES.credentialAfterTransfer} then e.person_id || '|' || e.credential_id::text
          when ${RULES.sharedSecretExposed} then e.shared_secret_id::text
        end as subject_key
      from access_events e
      cross join lateral unnest(e.breaches) as b(rule)
      where e.batch_id = any(${`{${ids.join(',')}}`}::bigint[]) and e.breaches is not null
        and e.at >= ${lo.toISOString()}::timestamptz and e.at <= ${hi.toISOString()}::timestamptz
    )
    select h.rule, h.subject_key as "subjectKey",
      case when count(distinct h.person_id) = 1 then min(h.person_id) end as "personId",
      case when count(distinct h.terminal_id) = 1 then min(h.terminal_id) end as "terminalId",
      count(*)::int as count, min(h.at) as "firstAt", max(h.at) as "lastAt",
      array_agg(distinct h.system) as systems,
      min(h.company_code) as company, min(h.rules_company) as "rulesCompany",
      min(h.terminal_company) as "terminalCompany", min(h.site) as site, min(h.login_id) as "loginId",
      min(c.person_id) as holder, min(c.company_code) as "issuedUnder", min(c.revoked_at) as "revokedAt",
      min(h.shared_secret_id::text) as "secretId", min(s.name) as "secretName",
      count(distinct h.customer_id)::int as customers
    from hits h
    left join credentials c on c.id = h.credential_id
    left join shared_secrets s on s.id = h.shared_secret_id
    where h.subject_key is not null
    group by h.rule, h.subject_key
    order by h.rule, h.subject_key`,
  );
  return rows.map((r) => {
    const base = { source: 'access-log', systems: r.systems };
    const details: Record<string, unknown> =
      r.rule === RULES.nonpublicViewed
        ? { ...base, company: r.company, judgedAs: r.rulesCompany, loginId: r.personId ? undefined : r.loginId, customers: r.customers }
        : r.rule === RULES.terminalMismatch
          ? { ...base, company: r.company, terminalCompany: r.terminalCompany, site: r.site, registered: r.terminalCompany !== null }
          : r.rule === RULES.emergencyOutside
            ? { ...base, company: r.company }
            : r.rule === RULES.revokedCredential
              ? { ...base, loginId: r.loginId, holder: r.holder, revokedAt: iso(r.revokedAt) }
              : r.rule === RULES.credentialAfterTransfer
                ? { ...base, loginId: r.loginId, holder: r.holder, issuedUnder: r.issuedUnder, userCompany: r.company }
                : { ...base, secretId: r.secretId, name: r.secretName };
    return {
      rule: r.rule,
      severity: RULE_SEVERITY[r.rule as keyof typeof RULE_SEVERITY] ?? 'high',
      subjectKey: r.subjectKey,
      personId: r.personId,
      terminalId: r.terminalId,
      at: new Date(r.lastAt),
      firstAt: new Date(r.firstAt),
      count: r.count,
      details: JSON.parse(JSON.stringify(details)) as Record<string, unknown>,
    };
  });
}

interface BulkRow {
  personId: string;
  day: string;
  crossed: boolean;
  newEvents: number;
  newFirst: Date | string;
  newLast: Date | string;
  events: number;
  firstAt: Date | string;
  lastAt: Date | string;
}

/**
 * bulk-access, incrementally: the batches' events per person and day (Asia/Tokyo) are added to
 * access_person_days; a day whose distinct customers pass the threshold is `over` from then on,
 * its customers counted exactly in access_bulk_customers. The day that crosses opens (or adds
 * to) its finding with every event of that day scanned so far; a day already over adds the new
 * events. The cost is the new events', whatever the day held before.
 */
async function bulkAccessOccurrences(tx: Db, ids: number[], lo: Date, hi: Date, threshold: number): Promise<Occurrence[]> {
  const idArray = `{${ids.join(',')}}`;
  const rows = await queryRows<BulkRow>(
    tx,
    sql`
    with b as (
      select e.person_id, (e.at at time zone ${BULK_ACCESS_TIME_ZONE})::date as day, count(*)::int as events,
        array_agg(distinct e.customer_id) as customers, min(e.at) as first_at, max(e.at) as last_at
      from access_events e
      where e.batch_id = any(${idArray}::bigint[]) and e.at >= ${lo.toISOString()}::timestamptz and e.at <= ${hi.toISOString()}::timestamptz
        and e.person_id is not null and e.customer_id is not null
      group by 1, 2
    ),
    m as (
      select b.person_id, b.day, b.events as new_events, b.first_at as new_first, b.last_at as new_last, b.customers as new_customers,
        coalesce(d.events, 0) + b.events as events, least(d.first_at, b.first_at) as first_at, greatest(d.last_at, b.last_at) as last_at,
        coalesce(d.over, false) as was_over,
        case when coalesce(d.over, false) then '{}'::text[]
          else array(select distinct c from unnest(coalesce(d.customers, '{}') || b.customers) c) end as seen
      from b left join access_person_days d on d.person_id = b.person_id and d.day = b.day
    ),
    j as (select m.*, (m.was_over or cardinality(m.seen) > ${threshold}) as over from m),
    saved as (
      insert into access_person_days as d (person_id, day, events, customers, over, first_at, last_at)
      select j.person_id, j.day, j.events, case when j.over then '{}' else j.seen end, j.over, j.first_at, j.last_at from j
      on conflict (person_id, day) do update set events = excluded.events, customers = excluded.customers, over = excluded.over,
        first_at = excluded.first_at, last_at = excluded.last_at
    ),
    counted as (
      insert into access_bulk_customers (person_id, day, customer_id)
      select j.person_id, j.day, c from j cross join lateral unnest(case when j.was_over then j.new_customers else j.seen end) c
      where j.over
      on conflict do nothing
    )
    select j.person_id as "personId", j.day::text as day, not j.was_over as crossed, j.new_events as "newEvents",
      j.new_first as "newFirst", j.new_last as "newLast", j.events, j.first_at as "firstAt", j.last_at as "lastAt"
    from j where j.over
    order by 1, 2`,
  );
  if (rows.length === 0) return [];
  // The data-modifying CTE's rows are visible from the next statement on.
  const exact = await queryRows<{ personId: string; day: string; customers: number }>(
    tx,
    sql`select c.person_id as "personId", c.day::text as day, count(*)::int as customers
        from access_bulk_customers c
        join jsonb_to_recordset(${JSON.stringify(rows.map((r) => ({ person_id: r.personId, day: r.day })))}::jsonb) as k(person_id text, day date)
          on k.person_id = c.person_id and k.day = c.day
        group by 1, 2`,
  );
  const distinct = new Map(exact.map((r) => [`${r.personId}|${r.day}`, r.customers]));
  return rows.map((r) => ({
    rule: RULES.bulkAccess,
    severity: RULE_SEVERITY[RULES.bulkAccess],
    subjectKey: `${r.personId}|${r.day}`,
    personId: r.personId,
    // The day that crosses brings every event of the day so far; later batches their own.
    count: r.crossed ? r.events : r.newEvents,
    firstAt: new Date(r.crossed ? r.firstAt : r.newFirst),
    at: new Date(r.crossed ? r.lastAt : r.newLast),
    details: { source: 'access-log', day: r.day, timeZone: BULK_ACCESS_TIME_ZONE, distinctCustomers: distinct.get(`${r.personId}|${r.day}`) ?? 0, threshold },
    refreshDetails: true,
  }));
}

/** One round: claim up to BATCHES_PER_ROUND unscanned batches, raise their findings, mark them. */
async function scanRound(db: Db, now: Date, settings: DetectionSettings): Promise<(Omit<ScanResult, 'ran'> & { locked: boolean }) | undefined> {
  return withTx(db, async (tx) => {
    const [lock] = await queryRows<{ locked: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${SCAN_LOCK}) as locked`);
    if (!lock?.locked) return { locked: false, batches: 0, events: 0, occurrences: {}, opened: [] };
    const batches = await queryRows<{ id: number | string; accepted: number; minAt: Date | string; maxAt: Date | string }>(
      tx,
      sql`select id, accepted, min_at as "minAt", max_at as "maxAt" from access_log_batches
          where scanned_at is null order by id limit ${BATCHES_PER_ROUND} for update skip locked`,
    );
    if (batches.length === 0) return undefined;
    const ids = batches.map((b) => Number(b.id));
    const lo = new Date(Math.min(...batches.map((b) => new Date(b.minAt).getTime())));
    const hi = new Date(Math.max(...batches.map((b) => new Date(b.maxAt).getTime())));
    const occurrences = [
      ...(await breachOccurrences(tx, ids, lo, hi)),
      ...(await bulkAccessOccurrences(tx, ids, lo, hi, settings.bulkAccessThreshold)),
    ];
    await tx.execute(sql`update access_log_batches set scanned_at = ${now.toISOString()}::timestamptz where id = any(${`{${ids.join(',')}}`}::bigint[])`);
    const perRule: Record<string, number> = {};
    for (const o of occurrences) perRule[o.rule] = (perRule[o.rule] ?? 0) + (o.count ?? 1);
    const opened = await raiseFindings(tx, occurrences);
    if (occurrences.length > 0) {
      await appendAudit(tx, now, {
        actor: 'system:scheduler',
        action: 'detection.access-log-scan',
        subjectType: 'detection',
        subjectId: 'access-logs',
        data: { batches: ids, occurrences: perRule, opened },
      });
    }
    return { locked: true, batches: ids.length, events: batches.reduce((n, b) => n + b.accepted, 0), occurrences: perRule, opened };
  });
}

/** Scans every batch not scanned yet (bounded per run), one transaction per round. */
export async function scanAccessLogs(args: { db: Db; now: Date; detection?: DetectionSettings }): Promise<ScanResult> {
  const settings = args.detection ?? DEFAULT_DETECTION;
  const total: ScanResult = { ran: true, batches: 0, events: 0, occurrences: {}, opened: [] };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const r = await scanRound(args.db, args.now, settings);
    if (!r) break;
    if (!r.locked) return round === 0 ? { ...total, ran: false } : total;
    total.batches += r.batches;
    total.events += r.events;
    for (const [rule, n] of Object.entries(r.occurrences)) total.occurrences[rule] = (total.occurrences[rule] ?? 0) + n;
    total.opened.push(...r.opened);
  }
  return total;
}
