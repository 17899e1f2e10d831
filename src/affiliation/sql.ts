import { and, gt, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import { affiliations } from './schema.js';

/** Drizzle condition: the current-knowledge affiliation row in force at instant `at`. */
export function affiliationInForceAt(at: Date): SQL {
  return and(isNull(affiliations.supersededAt), lte(affiliations.validFrom, at), or(isNull(affiliations.validTo), gt(affiliations.validTo, at)))!;
}

/**
 * Each company with the company and kind whose firewall rules apply to its people: a
 * contractor is judged as the company it acts for. Columns: code, kind, rules_company,
 * rules_kind. The one place this rule is written in SQL.
 */
export function companyRules(): SQL {
  return sql`
    select c.code, c.kind, coalesce(c.acts_for, c.code) as rules_company, coalesce(target.kind, c.kind) as rules_kind
    from companies c
    left join companies target on target.code = c.acts_for`;
}

/**
 * A query for set-based work over many people at once: each person with the company they are
 * affiliated with at `at` (null when none), its kind, and the company and kind whose firewall
 * rules apply (a contractor's actsFor). Columns: person_id, company_code, org_unit, kind,
 * rules_company, rules_kind. Use it as a CTE: sql`with current as (${peopleAt(ids, now)}) …`.
 */
export function peopleAt(personIds: string[], at: Date): SQL {
  return peopleOfQueryAt(sql`select distinct jsonb_array_elements_text(${JSON.stringify(personIds)}::jsonb) as person_id`, at);
}

/**
 * peopleAt for the people a query selects (a column person_id, each person once), for scans
 * that pick their people in SQL, e.g. everyone holding an active grant.
 */
export function peopleOfQueryAt(people: SQL, at: Date): SQL {
  const t = at.toISOString();
  return sql`
    select p.person_id, a.company_code, a.org_unit, cr.kind, cr.rules_company, cr.rules_kind
    from (${people}) p
    left join affiliations a on a.person_id = p.person_id and a.superseded_at is null
      and a.valid_from <= ${t}::timestamptz and (a.valid_to is null or a.valid_to > ${t}::timestamptz)
    left join (${companyRules()}) cr on cr.code = a.company_code`;
}
