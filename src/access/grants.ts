import { asc, eq, sql } from 'drizzle-orm';
import { findEffectiveCompanyAt } from '../affiliation/persons.js';
import { peopleAt } from '../affiliation/sql.js';
import { persons } from '../affiliation/schema.js';
import { appendAudit } from '../audit/chain.js';
import { queryRows, type Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { enqueueEvents } from '../outbox/enqueue.js';
import { findEntitlement } from './catalog.js';
import { accessProblems } from './errors.js';
import { entitlements, grants } from './schema.js';

export type Grant = typeof grants.$inferSelect;

export interface GrantView {
  id: string;
  personId: string;
  entitlement: string;
  system: string;
  validFrom: Date;
  validTo: Date | null;
  reason: string;
  grantedBy: string;
  status: 'active' | 'revoked' | 'expired';
  revokedAt: Date | null;
  revokedReason: string | null;
}

export function grantStatus(g: Pick<Grant, 'revokedAt' | 'validTo'>, now: Date): GrantView['status'] {
  if (g.revokedAt && g.revokedAt.getTime() <= now.getTime()) return 'revoked';
  if (g.validTo && g.validTo.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

/**
 * Grants an entitlement from now on. The person's row is locked (shared) so a transfer
 * cannot commit between the firewall check and the insert; the check uses the company whose
 * rules apply (a contractor is judged as the company it acts for).
 */
export async function createGrant(input: {
  db: Db;
  now: Date;
  actor: string;
  personId: string;
  entitlement: string;
  validTo?: Date;
  reason: string;
}): Promise<GrantView> {
  const { db, now, actor, personId, reason } = input;
  if (input.validTo && input.validTo.getTime() <= now.getTime()) throw accessProblems.invalidValidity('validTo must be in the future');
  return withTx(db, async (tx) => {
    const [person] = await tx.select({ id: persons.id }).from(persons).where(eq(persons.id, personId)).for('share');
    if (!person) throw accessProblems.unknownPerson(`person '${personId}' does not exist`, [{ path: '/personId', message: 'unknown person' }]);
    const entitlement = await findEntitlement(tx, input.entitlement);
    if (!entitlement) throw accessProblems.unknownEntitlement(`entitlement '${input.entitlement}' does not exist`, [{ path: '/entitlement', message: 'unknown entitlement' }]);
    const company = await findEffectiveCompanyAt(tx, personId, now);
    if (!company) throw accessProblems.notAffiliated(`person '${personId}' has no affiliation now`);
    if (!entitlement.allowedCompanyKinds.includes(company.rulesKind)) {
      throw accessProblems.firewall(
        `'${entitlement.code}' is for ${entitlement.allowedCompanyKinds.join(', ') || 'nobody'}; ${personId} works for ${company.companyCode} (judged as ${company.rulesKind})`,
      );
    }
    const [grant] = await tx
      .insert(grants)
      .values({ personId, entitlementCode: entitlement.code, validFrom: now, validTo: input.validTo ?? null, reason, grantedBy: actor, createdAt: now })
      .returning();
    await appendAudit(tx, now, {
      actor,
      action: 'grant.created',
      subjectType: 'person',
      subjectId: personId,
      data: { grantId: grant!.id, entitlement: entitlement.code, system: entitlement.systemCode, validTo: input.validTo?.toISOString() ?? null, reason, company: company.companyCode },
    });
    return toView(grant!, entitlement.systemCode, now);
  });
}

export async function revokeGrant(input: { db: Db; now: Date; actor: string; grantId: string; reason: string }): Promise<GrantView> {
  const { db, now, actor, grantId, reason } = input;
  return withTx(db, async (tx) => {
    const [existing] = await tx.select().from(grants).where(eq(grants.id, grantId)).for('update');
    if (!existing) throw accessProblems.grantNotFound(`grant '${grantId}' does not exist`);
    const entitlement = (await findEntitlement(tx, existing.entitlementCode))!;
    if (existing.revokedAt) return toView(existing, entitlement.systemCode, now);
    const [grant] = await tx
      .update(grants)
      .set({ revokedAt: now, revokedBy: actor, revokedReason: reason })
      .where(eq(grants.id, grantId))
      .returning();
    await enqueueEvents(tx, now, [
      { type: 'grant.revoked', subjectType: 'person', subjectId: existing.personId, occurredAt: now, payload: { grantId, entitlement: entitlement.code, system: entitlement.systemCode, reason } },
    ]);
    await appendAudit(tx, now, { actor, action: 'grant.revoked', subjectType: 'person', subjectId: existing.personId, data: { grantId, entitlement: entitlement.code, reason } });
    return toView(grant!, entitlement.systemCode, now);
  });
}

export async function listPersonGrants(db: Db, personId: string, now: Date): Promise<GrantView[]> {
  const rows = await db
    .select({ grant: grants, system: entitlements.systemCode })
    .from(grants)
    .innerJoin(entitlements, eq(entitlements.code, grants.entitlementCode))
    .where(eq(grants.personId, personId))
    .orderBy(asc(grants.createdAt));
  return rows.map((r) => toView(r.grant, r.system, now));
}

export interface RevokedGrant {
  id: string;
  personId: string;
  entitlement: string;
}

/**
 * Set-based: revokes the active grants of these people that their company at `now` may not
 * hold (after a transfer), or all of them (after leaving). One statement for any number of people.
 */
export async function revokeGrantsNotAllowed(tx: Db, args: { personIds: string[]; now: Date; reason: string; actor: string }): Promise<RevokedGrant[]> {
  if (args.personIds.length === 0) return [];
  const now = args.now.toISOString();
  return queryRows<RevokedGrant>(
    tx,
    sql`
    with current as (${peopleAt(args.personIds, args.now)})
    update grants g set revoked_at = ${now}::timestamptz, revoked_by = ${args.actor}, revoked_reason = ${args.reason}
    from current r, entitlements e
    where g.person_id = r.person_id and e.code = g.entitlement_code and g.revoked_at is null
      and (r.rules_kind is null or not (r.rules_kind = any(e.allowed_company_kinds)))
    returning g.id, g.person_id as "personId", g.entitlement_code as entitlement`,
  );
}

function toView(g: Grant, system: string, now: Date): GrantView {
  return {
    id: g.id,
    personId: g.personId,
    entitlement: g.entitlementCode,
    system,
    validFrom: g.validFrom,
    validTo: g.validTo,
    reason: g.reason,
    grantedBy: g.grantedBy,
    status: grantStatus(g, now),
    revokedAt: g.revokedAt,
    revokedReason: g.revokedReason,
  };
}
