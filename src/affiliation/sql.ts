import { and, gt, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import { affiliations } from './schema.js';

/** Drizzle condition: the current-knowledge affiliation row in force at instant `at`. */
export function affiliationInForceAt(at: Date): SQL {
  return and(isNull(affiliations.supersededAt), lte(affiliations.validFrom, at), or(isNull(affiliations.validTo), gt(affiliations.validTo, at)))!;
}

/**
 * A query for set-based work over many people at once: each person with the company they are
 * affiliated with at `at` (null when none), its kind, and the company and kind whose firewall
 * rules apply (a contractor's actsFor). Columns: person_id, company_code, kind, rules_company,
 * rules_kind. Use it as a CTE: sql`with current as (${peopleAt(ids, now)}) …`.
 */
export function peopleAt(personIds: string[], at: Date): SQL {
  const t = at.toISOString();
  return sql`
    select p.person_id, a.company_code, c.kind, coalesce(c.acts_for, a.company_code) as rules_company, coalesce(target.kind, c.kind) as rules_kind
    from (select distinct jsonb_array_elements_text(${JSON.stringify(personIds)}::jsonb) as person_id) p
    left join affiliations a on a.person_id = p.person_id and a.superseded_at is null
      and a.valid_from <= ${t}::timestamptz and (a.valid_to is null or a.valid_to > ${t}::timestamptz)
    left join companies c on c.code = a.company_code
    left join companies target on target.code = c.acts_for`;
}
