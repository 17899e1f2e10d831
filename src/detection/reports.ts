import { sql, type SQL } from 'drizzle-orm';
import { companyRules } from '../affiliation/sql.js';
import { queryRows, type Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { toCsv } from '../http/csv.js';

/*
 * Regulator-style answers over the access events, all group-bys on columns resolved at intake
 * (the viewer's company and kind at the event's instant, the terminal's site, the non-public
 * flag), read through the partial index on non-public events and pruned to the period's months.
 */

const ts = (d: Date) => d.toISOString();
/** Reports aggregate in memory rather than spilling sorts to disk. */
const REPORT_WORK_MEM = '128MB';
const date = (v: string | Date | null) => (v === null ? null : new Date(v));

export interface NonpublicViewer {
  personId: string | null;
  loginId: string | null;
  company: string | null;
  rulesCompany: string | null;
  rulesKind: string | null;
  site: string | null;
  records: number;
  customers: number;
  retailers: (string | null)[];
  emergencyRecords: number;
  firstAccess: Date;
  lastAccess: Date;
}

export interface NonpublicAccessReport {
  from: Date;
  to: Date;
  system: string | null;
  totals: {
    viewers: number;
    companies: number;
    customers: number;
    records: number;
    retailers: number;
    emergencyRecords: number;
    firstAccess: Date | null;
    lastAccess: Date | null;
  };
  viewers: NonpublicViewer[];
  companies: { company: string | null; rulesKind: string | null; site: string | null; viewers: number; records: number; customers: number; firstAccess: Date; lastAccess: Date }[];
  retailers: { retailer: string | null; customers: number; records: number; viewers: number; firstAccess: Date; lastAccess: Date }[];
}

type Raw = Record<string, unknown>;
const withDates = <T>(rows: Raw[] | null, keys: string[]): T[] =>
  (rows ?? []).map((r) => {
    const out = { ...r };
    for (const k of keys) out[k] = date(r[k] as string | null);
    return out as T;
  });

/**
 * Who outside the wheeling company saw non-public information in [from, to): every access event
 * whose viewer was not of the wheeling company at its instant and which showed fields
 * non-public to them (another retailer's customer's retailer-only fields, network-internal
 * fields, undeclared fields). Views an active emergency covered are included and counted
 * apart (emergencyRecords): they were lawful, and still disclosures.
 *
 * records = access events; customers = distinct customer ids; retailers = the retailers the
 * customers were contracted with (null: not logged, counted as another retailer's customer).
 * One statement, so the parts agree with each other.
 */
export async function nonpublicAccessReport(args: { db: Db; from: Date; to: Date; system?: string }): Promise<NonpublicAccessReport> {
  const { db, from, to } = args;
  const bySystem = args.system ? sql`and e.system = ${args.system}` : sql``;
  // Every aggregate below is a hash aggregate over `v` (one row per viewer, customer and
  // retailer): distinct counts are taken as counts of distinct pairs, never count(distinct …),
  // which would sort the whole input once per aggregate.
  const viewerKey = sql`coalesce(v.person_id, '') || '|' || coalesce(v.login_id, '') || '|' || coalesce(v.company_code, '') || '|'
    || coalesce(v.rules_company, '') || '|' || coalesce(v.rules_kind, '') || '|' || coalesce(v.site, chr(1))`;
  const companyKey = sql`coalesce(v.company_code, '') || '|' || coalesce(v.rules_kind, '') || '|' || coalesce(v.site, chr(1))`;
  const row = await withTx(db, async (tx) => {
    await tx.execute(sql.raw(`set local work_mem = '${REPORT_WORK_MEM}'`));
    const [r] = await queryRows<{ report: Raw }>(
      tx,
      sql`
    with v0 as (
      select e.person_id, case when e.person_id is null then e.login_id end as login_id, e.company_code, e.rules_company,
        e.rules_kind::text as rules_kind, e.site, e.customer_id, e.retailer,
        count(*)::int as records, (count(*) filter (where e.emergency_id is not null))::int as emergency_records,
        min(e.at) as first_at, max(e.at) as last_at
      from access_events e
      where e.nonpublic and e.at >= ${ts(from)}::timestamptz and e.at < ${ts(to)}::timestamptz ${bySystem}
      group by 1, 2, 3, 4, 5, 6, 7, 8
    ),
    v as materialized (select v.*, ${viewerKey.getSQL()} as vk, ${companyKey.getSQL()} as ck from v0 as v),
    viewers as (
      select v.vk, min(v.person_id) as "personId", min(v.login_id) as "loginId", min(v.company_code) as company,
        min(v.rules_company) as "rulesCompany", min(v.rules_kind) as "rulesKind", min(v.site) as site,
        sum(v.records)::int as records, sum(v.emergency_records)::int as "emergencyRecords",
        min(v.first_at) as "firstAccess", max(v.last_at) as "lastAccess"
      from v group by v.vk
    ),
    viewer_customers as (select vk, count(*)::int as customers from (select distinct vk, customer_id from v) x group by vk),
    viewer_retailers as (select vk, array_agg(retailer order by retailer) as retailers from (select distinct vk, retailer from v) x group by vk),
    companies as (
      select v.ck, min(v.company_code) as company, min(v.rules_kind) as "rulesKind", min(v.site) as site, sum(v.records)::int as records,
        min(v.first_at) as "firstAccess", max(v.last_at) as "lastAccess"
      from v group by v.ck
    ),
    company_viewers as (select ck, count(*)::int as viewers from (select distinct ck, vk from v) x group by ck),
    company_customers as (select ck, count(*)::int as customers from (select distinct ck, customer_id from v) x group by ck),
    retailers as (
      select v.retailer, sum(v.records)::int as records, min(v.first_at) as "firstAccess", max(v.last_at) as "lastAccess"
      from v group by v.retailer
    ),
    retailer_customers as (select retailer, count(*)::int as customers from (select distinct retailer, customer_id from v) x group by retailer),
    retailer_viewers as (select retailer, count(*)::int as viewers from (select distinct retailer, coalesce(person_id, 'login:' || login_id) as who from v) x group by retailer)
    select jsonb_build_object(
      'totals', jsonb_build_object(
          'viewers', (select count(*) from (select distinct coalesce(person_id, 'login:' || login_id) from v) x),
          'companies', (select count(*) from (select distinct company_code from v where company_code is not null) x),
          'customers', (select count(*) from (select distinct customer_id from v where customer_id is not null) x),
          'records', (select coalesce(sum(records), 0) from v),
          'retailers', (select count(*) from (select distinct retailer from v where retailer is not null) x),
          'emergencyRecords', (select coalesce(sum(emergency_records), 0) from v),
          'firstAccess', (select min(first_at) from v), 'lastAccess', (select max(last_at) from v)),
      'viewers', (select jsonb_agg(to_jsonb(x) - 'vk' order by x.records desc, x."personId", x.site) from (
          select w.*, c.customers, r.retailers from viewers w join viewer_customers c using (vk) join viewer_retailers r using (vk)) x),
      'companies', (select jsonb_agg(to_jsonb(x) - 'ck' order by x.records desc, x.company, x.site) from (
          select c.*, v.viewers, cc.customers from companies c join company_viewers v using (ck) join company_customers cc using (ck)) x),
      'retailers', (select jsonb_agg(x order by x.records desc, x.retailer) from (
          select r.retailer, rc.customers, r.records, rv.viewers, r."firstAccess", r."lastAccess"
          from retailers r
          join retailer_customers rc on rc.retailer is not distinct from r.retailer
          join retailer_viewers rv on rv.retailer is not distinct from r.retailer) x)
    ) as report`,
    );
    return r;
  });
  const r = row!.report as {
    totals: Raw;
    viewers: Raw[] | null;
    companies: Raw[] | null;
    retailers: Raw[] | null;
  };
  const totals = r.totals;
  return {
    from,
    to,
    system: args.system ?? null,
    totals: {
      viewers: Number(totals.viewers),
      companies: Number(totals.companies),
      customers: Number(totals.customers),
      records: Number(totals.records),
      retailers: Number(totals.retailers),
      emergencyRecords: Number(totals.emergencyRecords),
      firstAccess: date(totals.firstAccess as string | null),
      lastAccess: date(totals.lastAccess as string | null),
    },
    viewers: withDates<NonpublicViewer>(r.viewers, ['firstAccess', 'lastAccess']),
    companies: withDates(r.companies, ['firstAccess', 'lastAccess']),
    retailers: withDates(r.retailers, ['firstAccess', 'lastAccess']),
  };
}

/** The report's viewers as CSV (one row per viewer, company and site), for the regulator's spreadsheet. */
export function nonpublicAccessCsv(report: NonpublicAccessReport): string {
  return toCsv(report.viewers, [
    { header: 'person_id', value: (v) => v.personId },
    { header: 'login_id', value: (v) => v.loginId },
    { header: 'company', value: (v) => v.company },
    { header: 'rules_company', value: (v) => v.rulesCompany },
    { header: 'rules_kind', value: (v) => v.rulesKind },
    { header: 'site', value: (v) => v.site },
    { header: 'records', value: (v) => v.records },
    { header: 'customers', value: (v) => v.customers },
    { header: 'retailers', value: (v) => v.retailers.map((x) => x ?? '(not logged)').join(';') },
    { header: 'emergency_records', value: (v) => v.emergencyRecords },
    { header: 'first_access', value: (v) => v.firstAccess },
    { header: 'last_access', value: (v) => v.lastAccess },
  ]);
}

export interface ExposureQuery {
  db: Db;
  from: Date;
  to: Date;
  customerId?: string;
  system?: string;
  /** The customer's retailer; by default the one most recently logged with the customer. */
  retailer?: string;
}

/**
 * Who outside the wheeling company could have seen non-public fields of a customer (or of any
 * customer of a system) in [from, to), and who actually did.
 *
 * could — from the bitemporal history (current knowledge of valid time):
 *   byGrant: a grant on the system in force during part of the period, held while the person
 *     was affiliated with a company judged as non-wheeling; `fields` are the system's fields
 *     non-public to them (retailer-only ones drop out when the customer is their company's own);
 *   byEmergency: disaster-support roster members for an area of an emergency active during the
 *     period, not of the wheeling company then, with the emergency-set fields non-public to them
 *     (the roster itself keeps no history: its current members are listed);
 *   terminalsAtRetailSites: wheeling-side terminals registered at a site where retail-side
 *     terminals are (registrations as they stand now: terminals keep no history) — anyone at
 *     the site could have used them.
 * did — access events in the period where such a viewer saw non-public fields (see the
 *   nonpublic-access report), by viewer, company, site and system.
 *
 * Without `system`, every system declaring a non-public field is considered.
 */
export async function exposureReport(q: ExposureQuery) {
  const { db, from, to } = q;
  const [f, t] = [ts(from), ts(to)];
  const systemFilter = q.system ? sql`and f.system_code = ${q.system}` : sql``;
  let retailer = q.retailer ?? null;
  if (retailer === null && q.customerId) {
    const [r] = await queryRows<{ retailer: string | null }>(
      db,
      sql`select e.retailer from access_events e where e.nonpublic and e.customer_id = ${q.customerId} and e.retailer is not null
          order by e.at desc limit 1`,
    );
    retailer = r?.retailer ?? null;
  }
  const classes = sql`
    select f.system_code,
      coalesce(array_agg(f.field order by f.field) filter (where f.class = 'network.internal'), '{}') as internal,
      coalesce(array_agg(f.field order by f.field) filter (where f.class = 'customer.retailer-only'), '{}') as retailer_only,
      coalesce(array_agg(f.field order by f.field) filter (where f.in_emergency_set and f.class = 'network.internal'), '{}') as emergency_internal,
      coalesce(array_agg(f.field order by f.field) filter (where f.in_emergency_set and f.class = 'customer.retailer-only'), '{}') as emergency_retailer_only
    from system_fields f where true ${systemFilter}
    group by f.system_code
    having count(*) filter (where f.class <> 'network.public') > 0`;
  /** Fields non-public to someone judged as company `rc`. */
  const nonpublicTo = (rc: SQL, internal: SQL, retailerOnly: SQL) =>
    sql`case when ${retailer}::text is not null and ${rc} = ${retailer}::text then ${internal} else ${internal} || ${retailerOnly} end`;

  const systems = await queryRows<{ system: string }>(db, sql`select system_code as system from (${classes}) c order by 1`);
  const byGrant = await queryRows<Raw>(
    db,
    sql`
    with fc as (${classes}), cr as (${companyRules()})
    select g.person_id as "personId", a.company_code as company, cr.rules_company as "rulesCompany", cr.rules_kind::text as "rulesKind",
      e.system_code as system, g.entitlement_code as entitlement, g.id::text as "grantId",
      ${nonpublicTo(sql`cr.rules_company`, sql`fc.internal`, sql`fc.retailer_only`)} as fields,
      greatest(g.valid_from, a.valid_from, ${f}::timestamptz) as "from",
      least(g.valid_to, g.revoked_at, a.valid_to, ${t}::timestamptz) as "to"
    from grants g
    join entitlements e on e.code = g.entitlement_code
    join fc on fc.system_code = e.system_code
    join affiliations a on a.person_id = g.person_id and a.superseded_at is null
    join cr on cr.code = a.company_code
    where cr.rules_kind <> 'wheeling'
      and greatest(g.valid_from, a.valid_from, ${f}::timestamptz) < least(g.valid_to, g.revoked_at, a.valid_to, ${t}::timestamptz)
      and cardinality(${nonpublicTo(sql`cr.rules_company`, sql`fc.internal`, sql`fc.retailer_only`)}) > 0
    order by 1, 5, 9`,
  );
  const byEmergency = await queryRows<Raw>(
    db,
    sql`
    with fc as (${classes}), cr as (${companyRules()})
    select ro.person_id as "personId", a.company_code as company, cr.rules_company as "rulesCompany", cr.rules_kind::text as "rulesKind",
      em.id::text as "emergencyId", em.areas, fc.system_code as system,
      ${nonpublicTo(sql`cr.rules_company`, sql`fc.emergency_internal`, sql`fc.emergency_retailer_only`)} as fields,
      greatest(em.started_at, a.valid_from, ${f}::timestamptz) as "from",
      least(em.ended_at, em.expires_at, a.valid_to, ${t}::timestamptz) as "to"
    from emergencies em
    join emergency_roster ro on ro.areas && em.areas
    join affiliations a on a.person_id = ro.person_id and a.superseded_at is null
    join cr on cr.code = a.company_code
    cross join fc
    where em.started_at is not null and cr.rules_kind <> 'wheeling'
      and greatest(em.started_at, a.valid_from, ${f}::timestamptz) < least(em.ended_at, em.expires_at, a.valid_to, ${t}::timestamptz)
      and cardinality(${nonpublicTo(sql`cr.rules_company`, sql`fc.emergency_internal`, sql`fc.emergency_retailer_only`)}) > 0
    order by 1, 5, 7`,
  );
  const terminals = await queryRows<Raw>(
    db,
    sql`
    with placed as (
      select t.id, t.site, lower(btrim(t.site)) as site_key, t.company_code, cr.rules_kind
      from terminals t join (${companyRules()}) cr on cr.code = t.company_code
      where t.active
    )
    select w.id as "terminalId", w.company_code as company, w.site,
      array_agg(distinct r.company_code order by r.company_code) as "retailCompaniesAtSite"
    from placed w join placed r on r.site_key = w.site_key and r.rules_kind = 'retail'
    where w.rules_kind = 'wheeling'
    group by w.id, w.company_code, w.site
    order by 1`,
  );
  const customerFilter = q.customerId ? sql`and e.customer_id = ${q.customerId}` : sql``;
  const eventSystemFilter = q.system ? sql`and e.system = ${q.system}` : sql``;
  const didSee = await queryRows<Raw>(
    db,
    sql`
    with g as (
      select e.person_id, case when e.person_id is null then e.login_id end as login_id, e.company_code, e.rules_company,
        e.rules_kind::text as rules_kind, e.site, e.system, e.customer_id, e.nonpublic_fields,
        count(*)::int as n, (count(*) filter (where e.emergency_id is not null))::int as em, min(e.at) as first_at, max(e.at) as last_at
      from access_events e
      where e.nonpublic and e.at >= ${f}::timestamptz and e.at < ${t}::timestamptz ${customerFilter} ${eventSystemFilter}
      group by 1, 2, 3, 4, 5, 6, 7, 8, 9
    )
    select g.person_id as "personId", g.login_id as "loginId", g.company_code as company, g.rules_company as "rulesCompany",
      g.rules_kind as "rulesKind", g.site, g.system, sum(g.n)::int as records, count(distinct g.customer_id)::int as customers,
      array(select distinct x from unnest(string_to_array(string_agg(array_to_string(g.nonpublic_fields, ','), ','), ',')) x order by 1) as fields,
      sum(g.em)::int as "emergencyRecords", min(g.first_at) as "firstAccess", max(g.last_at) as "lastAccess"
    from g
    group by 1, 2, 3, 4, 5, 6, 7
    order by records desc, 1, 6, 7`,
  );
  const dates = (rows: Raw[], keys: string[]) => withDates<Raw>(rows, keys);
  return {
    from,
    to,
    customerId: q.customerId ?? null,
    system: q.system ?? null,
    retailer,
    systems: systems.map((s) => s.system),
    couldHaveSeen: {
      byGrant: dates(byGrant, ['from', 'to']),
      byEmergency: dates(byEmergency, ['from', 'to']),
      terminalsAtRetailSites: terminals,
    },
    didSee: dates(didSee, ['firstAccess', 'lastAccess']),
  };
}
