import { eq, sql, type SQL } from 'drizzle-orm';
import { holdsGrant } from '../access/decide.js';
import type { PolicyCache } from '../access/policy-cache.js';
import { appendAudit } from '../audit/chain.js';
import { queryRows, type Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { toCsv } from '../http/csv.js';
import { enqueueSelected } from '../outbox/enqueue.js';
import { reviewProblems } from './errors.js';
import { OUTCOME_SQL, revokedItems } from './outcome.js';
import { reviewCampaigns, reviewItems, type ScheduledCampaign } from './schema.js';

export type Campaign = typeof reviewCampaigns.$inferSelect;
/** An item as read: with its outcome once the campaign has closed, and whether a revocation was verified. */
export type ReviewItem = typeof reviewItems.$inferSelect & { outcome: 'kept' | 'revoked' | null; verified: boolean | null };

export interface CampaignSpec {
  name: string;
  scope: ScheduledCampaign['scope'];
  reviewerId?: string;
  dueAt: Date;
  onNoResponse: 'revoke' | 'keep';
}

/** How long without a decision or a sign-in on the system before a grant is recommended for revocation. */
export const UNUSED_DAYS = 90;

/**
 * Opens a campaign: one item per grant in scope that is active at `now`, taken in one
 * set-based statement. Each item carries its reviewer — the named one, else the holder's
 * manager, else the system's owner person, never the holder — and recommendations:
 *
 * - `holder-left`: no affiliation now;
 * - `holder-changed-company`: the company now differs from the one at the grant's start;
 * - `crosses-firewall`: the company kind (a contractor's: the kind it acts for) may not hold it;
 * - `unused-90-days`: no decision for the holder on the system, and no sign-in with a password
 *   account on it, within 90 days.
 *
 * With `occurrenceKey` (scheduled campaigns) a second replica creating the same occurrence
 * waits on the unique key and creates nothing: the result is then null.
 */
export async function createCampaign(input: {
  db: Db;
  now: Date;
  actor: string;
  spec: CampaignSpec;
  occurrenceKey?: string;
}): Promise<Campaign | null> {
  const { db, now, actor, spec } = input;
  if (spec.dueAt.getTime() <= now.getTime()) throw reviewProblems.invalidDue('dueAt must be in the future');
  return withTx(db, async (tx) => {
    await checkScope(tx, spec);
    const [campaign] = await tx
      .insert(reviewCampaigns)
      .values({
        name: spec.name,
        scopeSystem: spec.scope.system ?? null,
        scopeEntitlement: spec.scope.entitlement ?? null,
        scopeCompanyKind: spec.scope.companyKind ?? null,
        reviewerId: spec.reviewerId ?? null,
        dueAt: spec.dueAt,
        onNoResponse: spec.onNoResponse,
        status: 'open',
        itemCount: 0,
        createdAt: now,
        createdBy: actor,
        occurrenceKey: input.occurrenceKey ?? null,
      })
      .onConflictDoNothing({ target: reviewCampaigns.occurrenceKey })
      .returning();
    if (!campaign) return null;
    const t = now.toISOString();
    const [{ n } = { n: 0 }] = await queryRows<{ n: number }>(
      tx,
      sql`
      with in_scope as (
        select g.id, g.person_id, g.entitlement_code, g.valid_from, e.system_code, e.allowed_company_kinds
        from grants g join entitlements e on e.code = g.entitlement_code
        where g.revoked_at is null and g.valid_from <= ${t}::timestamptz and (g.valid_to is null or g.valid_to > ${t}::timestamptz)
          and (${spec.scope.system ?? null}::text is null or e.system_code = ${spec.scope.system ?? null})
          and (${spec.scope.entitlement ?? null}::text is null or e.code = ${spec.scope.entitlement ?? null})
      ),
      now_aff as (
        select a.person_id, a.company_code, a.manager_id, c.kind, coalesce(target.kind, c.kind) as rules_kind
        from affiliations a join companies c on c.code = a.company_code left join companies target on target.code = c.acts_for
        where a.superseded_at is null and a.valid_from <= ${t}::timestamptz and (a.valid_to is null or a.valid_to > ${t}::timestamptz)
      ),
      inserted as (
        insert into review_items (campaign_id, grant_id, person_id, entitlement_code, system_code, reviewer_id, company_at_grant, company_at_start, recommendations)
        select ${campaign.id}::uuid, g.id, g.person_id, g.entitlement_code, g.system_code,
          coalesce(nullif(${spec.reviewerId ?? null}::text, g.person_id), nullif(na.manager_id, g.person_id), nullif(s.owner_person_id, g.person_id)),
          at_grant.company_code, na.company_code,
          array_remove(array[
            case when na.company_code is null then 'holder-left' end,
            case when na.company_code is not null and at_grant.company_code is distinct from na.company_code then 'holder-changed-company' end,
            case when na.rules_kind is not null and not (na.rules_kind = any(g.allowed_company_kinds)) then 'crosses-firewall' end,
            case when not exists (
                select 1 from decision_log d where d.person_id = g.person_id and d.system = g.system_code
                  and d.at > ${t}::timestamptz - make_interval(days => ${UNUSED_DAYS}) and d.at <= ${t}::timestamptz)
              and not exists (
                select 1 from credentials c where c.person_id = g.person_id and c.system = g.system_code
                  and c.last_used_at > ${t}::timestamptz - make_interval(days => ${UNUSED_DAYS}))
              then 'unused-90-days' end
          ], null)
        from in_scope g
        join systems s on s.code = g.system_code
        left join now_aff na on na.person_id = g.person_id
        left join lateral (
          select a.company_code from affiliations a
          where a.person_id = g.person_id and a.superseded_at is null and a.valid_from <= g.valid_from and (a.valid_to is null or a.valid_to > g.valid_from)
        ) at_grant on true
        where ${spec.scope.companyKind ?? null}::text is null or na.kind::text = ${spec.scope.companyKind ?? null}
        returning 1
      )
      select count(*)::int as n from inserted`,
    );
    const [opened] = await tx.update(reviewCampaigns).set({ itemCount: n }).where(eq(reviewCampaigns.id, campaign.id)).returning();
    await appendAudit(tx, now, {
      actor,
      action: 'review.opened',
      subjectType: 'review-campaign',
      subjectId: campaign.id,
      data: { name: spec.name, scope: spec.scope, reviewerId: spec.reviewerId ?? null, dueAt: spec.dueAt.toISOString(), onNoResponse: spec.onNoResponse, itemCount: n, occurrenceKey: input.occurrenceKey ?? null },
    });
    return opened!;
  });
}

async function checkScope(tx: Db, spec: CampaignSpec): Promise<void> {
  const checks: [string | undefined, string, SQLCheck][] = [
    [spec.scope.system, '/scope/system', (code) => sql`select 1 from systems where code = ${code}`],
    [spec.scope.entitlement, '/scope/entitlement', (code) => sql`select 1 from entitlements where code = ${code}`],
    [spec.reviewerId, '/reviewerId', (id) => sql`select 1 from persons where id = ${id}`],
  ];
  for (const [value, path, query] of checks) {
    if (value !== undefined && (await queryRows(tx, query(value))).length === 0) {
      throw reviewProblems.unknownReference(`'${value}' does not exist`, [{ path, message: 'unknown' }]);
    }
  }
}
type SQLCheck = (value: string) => ReturnType<typeof sql>;

export async function getCampaign(db: Db, id: string): Promise<Campaign> {
  const [campaign] = await db.select().from(reviewCampaigns).where(eq(reviewCampaigns.id, id));
  if (!campaign) throw reviewProblems.campaignNotFound(`review campaign '${id}' does not exist`);
  return campaign;
}

/** A page of a campaign's items in a stable order. */
export async function listItems(db: Db, campaignId: string, opts: { after?: string; limit: number }): Promise<ReviewItem[]> {
  const campaign = await getCampaign(db, campaignId);
  return readItems(db, campaign, sql`and i.id > ${opts.after ?? '00000000-0000-0000-0000-000000000000'}::uuid order by i.id limit ${opts.limit}`);
}

async function readItems(db: Db, campaign: Campaign, rest: SQL): Promise<ReviewItem[]> {
  const rows = await queryRows<Omit<ReviewItem, 'verified'>>(
    db,
    sql`select i.id, i.campaign_id as "campaignId", i.grant_id as "grantId", i.person_id as "personId", i.entitlement_code as "entitlementCode",
          i.system_code as "systemCode", i.reviewer_id as "reviewerId", i.company_at_grant as "companyAtGrant", i.company_at_start as "companyAtStart",
          i.recommendations, i.decision, i.decided_by as "decidedBy", i.decided_at as "decidedAt", i.comment,
          case when c.status = 'closed' then ${OUTCOME_SQL} end as outcome
        from review_items i join review_campaigns c on c.id = i.campaign_id
        where i.campaign_id = ${campaign.id}::uuid ${rest}`,
  );
  const notVerified = new Set((campaign.closeReport as CloseReport | null)?.notVerified ?? []);
  return rows.map((r) => ({ ...r, decidedAt: r.decidedAt && new Date(r.decidedAt), verified: r.outcome === 'revoked' ? !notVerified.has(r.id) : null }));
}

/** A reviewer's decision; may be changed until the campaign closes. */
export async function decideItem(input: {
  db: Db;
  now: Date;
  actor: string;
  itemId: string;
  decision: 'certify' | 'revoke';
  comment?: string;
}): Promise<ReviewItem> {
  const { db, now, actor, itemId, decision } = input;
  return withTx(db, async (tx) => {
    const [item] = await tx.select().from(reviewItems).where(eq(reviewItems.id, itemId)).for('update');
    if (!item) throw reviewProblems.itemNotFound(`review item '${itemId}' does not exist`);
    const [campaign] = await tx.select({ status: reviewCampaigns.status }).from(reviewCampaigns).where(eq(reviewCampaigns.id, item.campaignId)).for('share');
    if (campaign!.status !== 'open') throw reviewProblems.campaignClosed('the campaign is closed; its decisions are final');
    const [updated] = await tx
      .update(reviewItems)
      .set({ decision, decidedBy: actor, decidedAt: now, comment: input.comment ?? null })
      .where(eq(reviewItems.id, itemId))
      .returning();
    await appendAudit(tx, now, {
      actor,
      action: 'review.decided',
      subjectType: 'review-item',
      subjectId: itemId,
      data: { campaignId: item.campaignId, grantId: item.grantId, personId: item.personId, decision, comment: input.comment ?? null, previous: item.decision },
    });
    return { ...updated!, outcome: null, verified: null };
  });
}

export interface CloseReport {
  items: number;
  certified: number;
  revoked: number;
  revokedByNoResponse: number;
  keptByNoResponse: number;
  /** Grants already gone by other means (a transfer, an API call) before the close. */
  alreadyRevoked: number;
  credentialsRevoked: number;
  events: number;
  /** Revoked items confirmed to no longer permit through the decision engine. */
  verified: number;
  notVerified: string[];
}

const REVIEW_ACTOR = 'system:reviews';

/**
 * Closes a campaign in one transaction: every item gets its outcome (the reviewer's decision,
 * else `onNoResponse`); revoked grants are revoked, password accounts on a system the holder no
 * longer holds any grant on are revoked with them, and connected systems are told — all
 * set-based, through one audit record whose digest covers the revoked grant ids. After commit
 * the decision engine's own snapshot is synced and every revoked item is checked to no longer
 * permit (unless another grant still covers the system); the report says so.
 */
export async function closeCampaign(input: { db: Db; now: Date; actor: string; campaignId: string; policy: PolicyCache }): Promise<Campaign> {
  const { db, now, actor, campaignId } = input;
  const t = now.toISOString();
  const report = await withTx(db, async (tx) => {
    const [campaign] = await tx.select().from(reviewCampaigns).where(eq(reviewCampaigns.id, campaignId)).for('update');
    if (!campaign) throw reviewProblems.campaignNotFound(`review campaign '${campaignId}' does not exist`);
    if (campaign.status !== 'open') throw reviewProblems.campaignClosed('the campaign is already closed');

    const [outcomes] = await queryRows<{ certified: number; revoked: number; revokedByNoResponse: number; keptByNoResponse: number }>(
      tx,
      sql`
      select count(*) filter (where outcome = 'kept' and decision is not null)::int as certified,
             count(*) filter (where outcome = 'revoked')::int as revoked,
             count(*) filter (where outcome = 'revoked' and decision is null)::int as "revokedByNoResponse",
             count(*) filter (where outcome = 'kept' and decision is null)::int as "keptByNoResponse"
      from (select i.decision, ${OUTCOME_SQL} as outcome from review_items i join review_campaigns c on c.id = i.campaign_id
            where i.campaign_id = ${campaignId}::uuid) o`,
    );

    const reason = `review:${campaignId}`;
    const grantEvents = await enqueueSelected(
      tx,
      now,
      sql`revoked as (
        update grants g set revoked_at = ${t}::timestamptz, revoked_by = ${actor}, revoked_reason = ${reason}
        from (select i.grant_id, i.system_code from ${revokedItems(sql`${campaignId}::uuid`)}) r
        where g.id = r.grant_id and g.revoked_at is null
        returning g.id, g.person_id, g.entitlement_code, r.system_code)`,
      sql`select 'grant.revoked' as type, 'person' as subject_type, person_id as subject_id,
            jsonb_build_object('grantId', id, 'entitlement', entitlement_code, 'system', system_code, 'reason', 'review', 'campaignId', ${campaignId}::text) as payload,
            ${t}::timestamptz as occurred_at
          from revoked`,
    );
    const credentialEvents = await enqueueSelected(
      tx,
      now,
      sql`orphaned as (
        update credentials c set revoked_at = ${t}::timestamptz, revoked_reason = 'review'
        from (select distinct i.person_id, i.system_code from ${revokedItems(sql`${campaignId}::uuid`)}) r
        where c.person_id = r.person_id and c.system = r.system_code and c.revoked_at is null
          and not exists (
            select 1 from grants g join entitlements e on e.code = g.entitlement_code
            where g.person_id = r.person_id and e.system_code = r.system_code and g.revoked_at is null
              and g.valid_from <= ${t}::timestamptz and (g.valid_to is null or g.valid_to > ${t}::timestamptz))
        returning c.id, c.person_id, c.type::text as type, c.company_code)`,
      sql`select 'credential.revoked' as type, 'person' as subject_type, person_id as subject_id,
            jsonb_build_object('credentialId', id, 'credentialType', type, 'company', company_code, 'reason', 'review') as payload,
            ${t}::timestamptz as occurred_at
          from orphaned`,
    );
    const [digestRow] = await queryRows<{ digest: string | null }>(
      tx,
      sql`select encode(sha256(convert_to(coalesce(string_agg(i.grant_id::text, ',' order by i.grant_id), ''), 'UTF8')), 'hex') as digest
          from ${revokedItems(sql`${campaignId}::uuid`)}`,
    );
    const report: CloseReport = {
      items: campaign.itemCount,
      ...outcomes!,
      alreadyRevoked: outcomes!.revoked - grantEvents,
      credentialsRevoked: credentialEvents,
      events: grantEvents + credentialEvents,
      verified: 0,
      notVerified: [],
    };
    await tx.update(reviewCampaigns).set({ status: 'closed', closedAt: now, closedBy: actor, closeReport: { ...report } }).where(eq(reviewCampaigns.id, campaignId));
    // One record for the whole close (a campaign may revoke a million grants); the digest of
    // the revoked grant ids lets the chain vouch for each of them.
    await appendAudit(tx, now, {
      actor,
      action: 'review.closed',
      subjectType: 'review-campaign',
      subjectId: campaignId,
      data: { ...report, revokedGrantsDigest: digestRow?.digest ?? null, verified: undefined, notVerified: undefined },
    });
    return report;
  });
  return verifyRevocations({ ...input, report });
}

/**
 * After commit: the decision engine's snapshot, synced, must no longer see a grant behind any
 * revoked item — unless the holder still holds another active grant on that system, which the
 * review did not touch. The report counts the confirmed ones and names the others.
 */
async function verifyRevocations(input: { db: Db; now: Date; campaignId: string; policy: PolicyCache; report: CloseReport }): Promise<Campaign> {
  const { db, now, campaignId, policy, report } = input;
  const snapshot = await policy.synced();
  const t = now.toISOString();
  const rows = await queryRows<{ id: string; personId: string; system: string; otherGrant: boolean }>(
    db,
    sql`select i.id, i.person_id as "personId", i.system_code as system,
          exists (select 1 from grants g join entitlements e on e.code = g.entitlement_code
                  where g.person_id = i.person_id and e.system_code = i.system_code and g.revoked_at is null
                    and g.valid_from <= ${t}::timestamptz and (g.valid_to is null or g.valid_to > ${t}::timestamptz)) as "otherGrant"
        from ${revokedItems(sql`${campaignId}::uuid`)}`,
  );
  const at = now.getTime();
  const notVerified = rows.filter((r) => holdsGrant(snapshot, r.personId, r.system, at) && !r.otherGrant).map((r) => r.id);
  const final: CloseReport = { ...report, verified: rows.length - notVerified.length, notVerified };
  await db.update(reviewCampaigns).set({ closeReport: { ...final } }).where(eq(reviewCampaigns.id, campaignId));
  return getCampaign(db, campaignId);
}

/** The evidence: every item with who decided what, when and why, and the outcome. */
export async function campaignEvidence(db: Db, campaignId: string): Promise<{ campaign: Campaign; items: ReviewItem[] }> {
  const campaign = await getCampaign(db, campaignId);
  return { campaign, items: await readItems(db, campaign, sql`order by i.person_id, i.entitlement_code, i.id`) };
}

/** The evidence as CSV, for the API and the console alike. */
export function campaignEvidenceCsv(items: ReviewItem[]): string {
  return toCsv(items, [
    { header: 'item_id', value: (i) => i.id },
    { header: 'person_id', value: (i) => i.personId },
    { header: 'entitlement', value: (i) => i.entitlementCode },
    { header: 'system', value: (i) => i.systemCode },
    { header: 'company_at_grant', value: (i) => i.companyAtGrant },
    { header: 'company_at_start', value: (i) => i.companyAtStart },
    { header: 'recommendations', value: (i) => i.recommendations },
    { header: 'reviewer_id', value: (i) => i.reviewerId },
    { header: 'decision', value: (i) => i.decision },
    { header: 'decided_by', value: (i) => i.decidedBy },
    { header: 'decided_at', value: (i) => i.decidedAt },
    { header: 'comment', value: (i) => i.comment },
    { header: 'outcome', value: (i) => i.outcome },
    { header: 'outcome_by', value: (i) => i.outcome && (i.decision ? 'reviewer' : 'no-response') },
    { header: 'revocation_verified', value: (i) => i.verified },
  ]);
}
