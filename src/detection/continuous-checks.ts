import { sql, type SQL } from 'drizzle-orm';
import { companyRules, peopleOfQueryAt } from '../affiliation/sql.js';
import { appendAudit } from '../audit/chain.js';
import { queryRows, type Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { raiseFindings, type Occurrence } from './findings.js';

/**
 * Continuous checks: scans of the standing state (not of the access log) for conditions that
 * should not exist, whatever the write path guarantees — a grant that raced a transfer, a
 * grant inserted by a migration or by hand, a terminal moved into a retail office.
 *
 * Rule codes (beyond the fixed list in API.md):
 *   grant-crosses-firewall   a person holds an active grant of an entitlement that their company
 *                            kind at `now` may not hold (a contractor judged as the company it acts
 *                            for) — the state POST /v1/grants refuses with 409 …/firewall.
 *                            One finding per grant.
 *   grant-held-after-leaving an active grant of a person with no affiliation at `now`. One per grant.
 *   terminal-company-mismatch (the fixed code, subject `site:<terminal>`) a terminal of the
 *                            wheeling company (or of a contractor acting for it) at a site where a
 *                            retail company's terminals are registered: a network terminal in a
 *                            retail office (NW設定端末, Tohoku 2023). Decisions raise the same code
 *                            per person and terminal when someone actually used such a terminal.
 *
 * Sites are free text on terminals: a site is a retail site when an active terminal of a retail
 * company (or of a contractor acting for one) is registered under the same name (compared
 * trimmed and case-insensitively). A site table with an owning company would make this exact.
 *
 * Each rule is one set-based statement. A condition that persists is observed again on every
 * run: its open finding counts the runs that saw it and moves last_seen; once resolved, the next
 * run that still sees it opens a new finding. Runs are safe on several replicas: a transaction
 * advisory lock lets one replica at a time check, and a subject already observed less than
 * OBSERVATION_WINDOW_MS before `now` is not counted again, so the same tick run by a second
 * replica, or a rerun at the same instant, changes nothing.
 */

export const GRANT_CROSSES_FIREWALL = 'grant-crosses-firewall';
export const GRANT_HELD_AFTER_LEAVING = 'grant-held-after-leaving';
export const TERMINAL_COMPANY_MISMATCH = 'terminal-company-mismatch';

/** Observations of one subject closer together than this are one observation. */
export const OBSERVATION_WINDOW_MS = 60_000;

/** Transaction-scoped advisory lock key: one replica checks at a time. */
const CONTINUOUS_CHECKS_LOCK = 7_351_020;

/** SQL condition: grant `g` permits at instant `t` (started, not expired, not revoked by then). */
const grantInForceAt = (t: string) =>
  sql`g.valid_from <= ${t}::timestamptz and (g.valid_to is null or g.valid_to > ${t}::timestamptz)
      and (g.revoked_at is null or g.revoked_at > ${t}::timestamptz)`;

/** SQL condition: no unresolved finding of this rule and key was seen within the observation window. */
const notObservedSince = (rule: string, subjectKey: SQL, since: string) =>
  sql`not exists (select 1 from findings f where f.rule = ${rule} and f.subject_key = ${subjectKey}
      and f.status <> 'resolved' and f.last_seen > ${since}::timestamptz)`;

interface GrantRow {
  grantId: string;
  personId: string;
  entitlement: string;
  system: string;
  company: string | null;
  rulesCompany: string | null;
  rulesKind: string | null;
  allowedCompanyKinds: string[];
  leftAt: Date | string | null;
}

/** Active grants and their holders' affiliation at `now`: the shared shape of rules (a) and (c). */
function activeGrantsWithHolders(at: Date, holderCondition: SQL, rule: string, since: string): SQL {
  const now = at.toISOString();
  const activeGrants = sql`select distinct g.person_id from grants g where ${grantInForceAt(now)}`;
  return sql`
    with holders as (${peopleOfQueryAt(activeGrants, at)})
    select g.id as "grantId", g.person_id as "personId", g.entitlement_code as entitlement, e.system_code as system,
      h.company_code as company, h.rules_company as "rulesCompany", h.rules_kind as "rulesKind",
      e.allowed_company_kinds::text[] as "allowedCompanyKinds",
      (select max(a.valid_to) from affiliations a
        where a.person_id = g.person_id and a.superseded_at is null and a.valid_to <= ${now}::timestamptz) as "leftAt"
    from grants g
    join entitlements e on e.code = g.entitlement_code
    join holders h on h.person_id = g.person_id
    where ${grantInForceAt(now)} and ${holderCondition}
      and ${notObservedSince(rule, sql`'grant:' || g.id::text`, since)}
    order by g.id`;
}

/** (a) Active grants their holder's company kind at `now` may not hold. */
async function grantsCrossingFirewall(db: Db, at: Date, since: string): Promise<Occurrence[]> {
  const rows = await queryRows<GrantRow>(
    db,
    activeGrantsWithHolders(at, sql`h.rules_kind is not null and not (h.rules_kind = any(e.allowed_company_kinds))`, GRANT_CROSSES_FIREWALL, since),
  );
  return rows.map((r) => ({
    rule: GRANT_CROSSES_FIREWALL,
    severity: 'high',
    subjectKey: `grant:${r.grantId}`,
    personId: r.personId,
    at,
    details: {
      grantId: r.grantId,
      entitlement: r.entitlement,
      system: r.system,
      company: r.company,
      judgedAs: r.rulesCompany,
      judgedKind: r.rulesKind,
      allowedCompanyKinds: r.allowedCompanyKinds,
      source: 'continuous-check',
    },
  }));
}

/** (c) Active grants of people with no affiliation at `now`. */
async function grantsOfLeavers(db: Db, at: Date, since: string): Promise<Occurrence[]> {
  const rows = await queryRows<GrantRow>(db, activeGrantsWithHolders(at, sql`h.company_code is null`, GRANT_HELD_AFTER_LEAVING, since));
  return rows.map((r) => ({
    rule: GRANT_HELD_AFTER_LEAVING,
    severity: 'medium',
    subjectKey: `grant:${r.grantId}`,
    personId: r.personId,
    at,
    details: {
      grantId: r.grantId,
      entitlement: r.entitlement,
      system: r.system,
      leftAt: r.leftAt === null ? null : new Date(r.leftAt).toISOString(),
      source: 'continuous-check',
    },
  }));
}

/** (b) Active terminals of the wheeling side registered at a site where retail-side terminals are. */
async function networkTerminalsAtRetailSites(db: Db, at: Date, since: string): Promise<Occurrence[]> {
  const rows = await queryRows<{ terminalId: string; site: string; company: string; siteCompanies: string[] }>(
    db,
    sql`
    with placed as (
      select t.id, t.site, lower(btrim(t.site)) as site_key, t.company_code, cr.rules_kind
      from terminals t join (${companyRules()}) cr on cr.code = t.company_code
      where t.active
    )
    select w.id as "terminalId", w.site, w.company_code as company,
      array_agg(distinct r.company_code order by r.company_code) as "siteCompanies"
    from placed w
    join placed r on r.site_key = w.site_key and r.rules_kind = 'retail'
    where w.rules_kind = 'wheeling'
      and ${notObservedSince(TERMINAL_COMPANY_MISMATCH, sql`'site:' || w.id`, since)}
    group by w.id, w.site, w.company_code
    order by w.id`,
  );
  return rows.map((r) => ({
    rule: TERMINAL_COMPANY_MISMATCH,
    severity: 'high',
    subjectKey: `site:${r.terminalId}`,
    terminalId: r.terminalId,
    at,
    details: { site: r.site, terminalCompany: r.company, retailCompaniesAtSite: r.siteCompanies, source: 'continuous-check' },
  }));
}

export interface ContinuousCheckResult {
  /** False when another replica was running the checks at that moment (its run covers this one). */
  ran: boolean;
  /** Subjects observed by each rule in this run. */
  observed: Record<string, number>;
  /** Findings this run opened. */
  opened: string[];
}

/**
 * detection.run-continuous-checks: the three standing-state rules, one statement each, and
 * their findings, in one transaction.
 */
export async function runContinuousChecks(args: { db: Db; now: Date }): Promise<ContinuousCheckResult> {
  const { now } = args;
  const since = new Date(now.getTime() - OBSERVATION_WINDOW_MS).toISOString();
  return withTx(args.db, async (tx) => {
    const [lock] = await queryRows<{ locked: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${CONTINUOUS_CHECKS_LOCK}) as locked`);
    if (!lock?.locked) return { ran: false, observed: {}, opened: [] };
    const crossing = await grantsCrossingFirewall(tx, now, since);
    const leavers = await grantsOfLeavers(tx, now, since);
    const terminalsAtRetail = await networkTerminalsAtRetailSites(tx, now, since);
    const observed = {
      [GRANT_CROSSES_FIREWALL]: crossing.length,
      [GRANT_HELD_AFTER_LEAVING]: leavers.length,
      [TERMINAL_COMPANY_MISMATCH]: terminalsAtRetail.length,
    };
    const occurrences = [...crossing, ...leavers, ...terminalsAtRetail];
    if (occurrences.length === 0) return { ran: true, observed, opened: [] };
    const opened = await raiseFindings(tx, occurrences);
    await appendAudit(tx, now, {
      actor: 'system:scheduler',
      action: 'detection.continuous-checks',
      subjectType: 'detection',
      subjectId: 'continuous-checks',
      data: { observed, opened },
    });
    return { ran: true, observed, opened };
  });
}
