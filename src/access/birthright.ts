import { asc, eq, sql } from 'drizzle-orm';
import { peopleAt } from '../affiliation/sql.js';
import { appendAudit, type AuditEntry } from '../audit/chain.js';
import { queryRows, type Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import type { OutboundEvent } from '../outbox/enqueue.js';
import { findEntitlement } from './catalog.js';
import { accessProblems } from './errors.js';
import { birthrightRules } from './schema.js';

export type BirthrightRule = {
  code: string;
  company: string;
  orgUnit: string | null;
  entitlement: string;
};

const toRule = (r: typeof birthrightRules.$inferSelect): BirthrightRule => ({
  code: r.code,
  company: r.companyCode,
  orgUnit: r.orgUnit,
  entitlement: r.entitlementCode,
});

/**
 * Creates or replaces a rule. A rule the firewall would refuse for everyone it covers is
 * refused itself (409 …/firewall): the company's kind (a contractor's: the kind of the company
 * it acts for) must be one the entitlement allows.
 */
export async function putBirthrightRule(input: {
  db: Db;
  now: Date;
  actor: string;
  code: string;
  company: string;
  orgUnit?: string | null;
  entitlement: string;
}): Promise<{ rule: BirthrightRule; created: boolean }> {
  const { db, now, actor, code, company } = input;
  const orgUnit = input.orgUnit ?? null;
  return withTx(db, async (tx) => {
    const [target] = await queryRows<{ rulesKind: string }>(
      tx,
      sql`select coalesce(t.kind, c.kind) as "rulesKind" from companies c left join companies t on t.code = c.acts_for where c.code = ${company}`,
    );
    if (!target) throw accessProblems.unknownCompany(`company '${company}' does not exist`, [{ path: '/company', message: 'unknown company' }]);
    const entitlement = await findEntitlement(tx, input.entitlement);
    if (!entitlement) throw accessProblems.unknownEntitlement(`entitlement '${input.entitlement}' does not exist`, [{ path: '/entitlement', message: 'unknown entitlement' }]);
    if (!(entitlement.allowedCompanyKinds as string[]).includes(target.rulesKind)) {
      throw accessProblems.firewall(
        `'${entitlement.code}' is for ${entitlement.allowedCompanyKinds.join(', ') || 'nobody'}; ${company} is judged as ${target.rulesKind}`,
      );
    }
    const [existing] = await tx.select().from(birthrightRules).where(eq(birthrightRules.code, code)).for('update');
    const values = { companyCode: company, orgUnit, entitlementCode: entitlement.code, updatedAt: now };
    const [row] = existing
      ? await tx.update(birthrightRules).set(values).where(eq(birthrightRules.code, code)).returning()
      : await tx.insert(birthrightRules).values({ code, ...values, createdAt: now }).returning();
    await appendAudit(tx, now, {
      actor,
      action: existing ? 'birthright.updated' : 'birthright.created',
      subjectType: 'birthright-rule',
      subjectId: code,
      data: { company, orgUnit, entitlement: entitlement.code, ...(existing ? { previous: toRule(existing) } : {}) },
    });
    return { rule: toRule(row!), created: !existing };
  });
}

/** Removes a rule; what it provisioned stays granted (revoking is a review's or a move's job). */
export async function deleteBirthrightRule(input: { db: Db; now: Date; actor: string; code: string }): Promise<void> {
  const { db, now, actor, code } = input;
  await withTx(db, async (tx) => {
    const [removed] = await tx.delete(birthrightRules).where(eq(birthrightRules.code, code)).returning();
    if (!removed) throw accessProblems.birthrightNotFound(`birthright rule '${code}' does not exist`);
    await appendAudit(tx, now, { actor, action: 'birthright.deleted', subjectType: 'birthright-rule', subjectId: code, data: toRule(removed) });
  });
}

export async function listBirthrightRules(db: Db): Promise<BirthrightRule[]> {
  return (await db.select().from(birthrightRules).orderBy(asc(birthrightRules.code))).map(toRule);
}

interface Provisioned {
  id: string;
  personId: string;
  entitlement: string;
  system: string;
  rule: string;
}

/**
 * Set-based, inside the transaction that applies hires and transfers: grants each person what
 * the rules of their company (and org unit) at `now` give, unless they already hold it, and
 * only what their company kind may hold — the firewall check is in the statement itself.
 */
export async function provisionBirthright(
  tx: Db,
  args: { personIds: string[]; now: Date; actor: string },
): Promise<{ outbound: OutboundEvent[]; audit: AuditEntry[] }> {
  if (args.personIds.length === 0) return { outbound: [], audit: [] };
  const now = args.now.toISOString();
  const rows = await queryRows<Provisioned>(
    tx,
    sql`
    with current as (${peopleAt(args.personIds, args.now)}),
    due as (
      select distinct on (r.person_id, e.code) r.person_id, e.code as entitlement, e.system_code as system, b.code as rule
      from current r
      join birthright_rules b on b.company_code = r.company_code and (b.org_unit is null or b.org_unit = r.org_unit)
      join entitlements e on e.code = b.entitlement_code
      where r.rules_kind = any(e.allowed_company_kinds)
        and not exists (
          select 1 from grants g where g.person_id = r.person_id and g.entitlement_code = e.code and g.revoked_at is null
            and g.valid_from <= ${now}::timestamptz and (g.valid_to is null or g.valid_to > ${now}::timestamptz))
      order by r.person_id, e.code, b.code
    )
    insert into grants (person_id, entitlement_code, valid_from, reason, granted_by, created_at)
    select person_id, entitlement, ${now}::timestamptz, 'birthright:' || rule, ${args.actor}, ${now}::timestamptz from due
    returning id, person_id as "personId", entitlement_code as entitlement,
      (select system from due d where d.person_id = grants.person_id and d.entitlement = grants.entitlement_code) as system,
      substr(reason, length('birthright:') + 1) as rule`,
  );
  return {
    outbound: rows.map((g) => ({
      type: 'grant.created',
      subjectType: 'person',
      subjectId: g.personId,
      occurredAt: args.now,
      payload: { grantId: g.id, entitlement: g.entitlement, system: g.system, reason: 'birthright' },
    })),
    audit: rows.map((g) => ({
      actor: args.actor,
      action: 'grant.created',
      subjectType: 'person',
      subjectId: g.personId,
      data: { grantId: g.id, entitlement: g.entitlement, system: g.system, reason: `birthright:${g.rule}` },
    })),
  };
}
