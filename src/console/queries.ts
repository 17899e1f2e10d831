import { sql } from 'drizzle-orm';
import { listAffiliations, type AffiliationView } from '../affiliation/persons.js';
import { queryRows, type Db } from '../db/client.js';
import type { ConsoleIdentity } from './roles.js';

/*
 * Read models for the console's pages: plain reads, no rules. Everything written goes through
 * the capabilities' domain functions.
 */

const iso = (d: Date) => d.toISOString();
/** Raw queries hand back timestamps as strings on one driver and Dates on the other: Dates here. */
function dates<T extends object>(rows: T[], keys: (keyof T)[]): T[] {
  return rows.map((r) => {
    const out = { ...r } as Record<keyof T, unknown>;
    for (const k of keys) if (out[k] !== null && out[k] !== undefined) out[k] = new Date(out[k] as string);
    return out as T;
  });
}

export interface FindingRow {
  id: string;
  rule: string;
  severity: string;
  personId: string | null;
  terminalId: string | null;
  firstSeen: Date;
  lastSeen: Date;
  count: number;
  status: string;
}

export async function listFindingsFor(db: Db, filter: { status?: string; rule?: string; personId?: string }, limit: number): Promise<FindingRow[]> {
  const rows = await queryRows<FindingRow>(
    db,
    sql`select id, rule, severity, person_id as "personId", terminal_id as "terminalId", first_seen as "firstSeen", last_seen as "lastSeen", count, status
        from findings
        where (${filter.status ?? null}::text is null or status = ${filter.status ?? null})
          and (${filter.rule ?? null}::text is null or rule = ${filter.rule ?? null})
          and (${filter.personId ?? null}::text is null or person_id = ${filter.personId ?? null})
        order by last_seen desc, id desc limit ${limit}`,
  );
  return dates(rows, ['firstSeen', 'lastSeen']);
}

export async function countOpenFindings(db: Db): Promise<{ total: number; bySeverity: Record<string, number> }> {
  const rows = await queryRows<{ severity: string; n: number }>(db, sql`select severity, count(*)::int as n from findings where status = 'open' group by severity`);
  const bySeverity = Object.fromEntries(rows.map((r) => [r.severity, r.n]));
  return { total: rows.reduce((a, r) => a + r.n, 0), bySeverity };
}

export async function findingRules(db: Db): Promise<string[]> {
  return (await queryRows<{ rule: string }>(db, sql`select distinct rule from findings order by rule`)).map((r) => r.rule);
}

export interface ScheduledChange {
  personId: string;
  name: string;
  type: string;
  company: string | null;
  effectiveAt: Date;
}

/** Transfers and leaves recorded for a future instant, soonest first. */
export async function scheduledTransfers(db: Db, now: Date, limit = 20): Promise<ScheduledChange[]> {
  const rows = await queryRows<ScheduledChange>(
    db,
    sql`select e.person_id as "personId", p.name, e.type::text as type, e.payload->>'company' as company, e.effective_at as "effectiveAt"
        from hr_events e join persons p on p.id = e.person_id
        where e.applied_at is null and e.effective_at > ${iso(now)}::timestamptz and e.type in ('person.transferred', 'person.left')
        order by e.effective_at, e.person_id limit ${limit}`,
  );
  return dates(rows, ['effectiveAt']);
}

export interface CampaignProgress {
  id: string;
  name: string;
  dueAt: Date;
  status: string;
  itemCount: number;
  decided: number;
  onNoResponse: string;
  closedAt: Date | null;
}

export async function campaignsWithProgress(db: Db, status: 'open' | 'closed', limit = 50): Promise<CampaignProgress[]> {
  const rows = await queryRows<CampaignProgress>(
    db,
    sql`select c.id, c.name, c.due_at as "dueAt", c.status, c.item_count as "itemCount", c.on_no_response as "onNoResponse", c.closed_at as "closedAt",
          (select count(*)::int from review_items i where i.campaign_id = c.id and i.decision is not null) as decided
        from review_campaigns c where c.status = ${status}
        order by ${status === 'open' ? sql`c.due_at asc` : sql`c.closed_at desc`} limit ${limit}`,
  );
  return dates(rows, ['dueAt', 'closedAt']);
}

export interface InboxItem {
  id: string;
  campaignId: string;
  campaignName: string;
  dueAt: Date;
  personId: string;
  personName: string;
  entitlement: string;
  system: string;
  companyAtGrant: string | null;
  companyAtStart: string | null;
  recommendations: string[];
  decision: string | null;
  decidedAt: Date | null;
}

/**
 * Items waiting for this reviewer in open campaigns. A reviewer who is not on the wheeling side
 * sees only items about people of their own company at `now`.
 */
export async function reviewInbox(db: Db, now: Date, who: ConsoleIdentity, limit = 300): Promise<InboxItem[]> {
  const t = iso(now);
  const rows = await queryRows<InboxItem>(
    db,
    sql`select i.id, i.campaign_id as "campaignId", c.name as "campaignName", c.due_at as "dueAt", i.person_id as "personId", p.name as "personName",
          i.entitlement_code as entitlement, i.system_code as system, i.company_at_grant as "companyAtGrant", i.company_at_start as "companyAtStart",
          i.recommendations, i.decision, i.decided_at as "decidedAt"
        from review_items i
        join review_campaigns c on c.id = i.campaign_id and c.status = 'open'
        join persons p on p.id = i.person_id
        left join affiliations a on a.person_id = i.person_id and a.superseded_at is null
          and a.valid_from <= ${t}::timestamptz and (a.valid_to is null or a.valid_to > ${t}::timestamptz)
        where i.reviewer_id = ${who.personId}
          and (${who.wheeling} or a.company_code = ${who.company})
        order by c.due_at, i.decision nulls first, i.person_id, i.entitlement_code, i.id
        limit ${limit}`,
  );
  return dates(rows, ['dueAt', 'decidedAt']);
}

/** The same visibility rule, for acting on items by id (single and bulk decisions). */
export async function inboxItemIds(db: Db, now: Date, who: ConsoleIdentity, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const items = await reviewInbox(db, now, who, 5000);
  const allowed = new Set(items.map((i) => i.id));
  return ids.filter((id) => allowed.has(id));
}

export async function timelinesOf(db: Db, personIds: string[]): Promise<Map<string, AffiliationView[]>> {
  const out = new Map<string, AffiliationView[]>();
  for (const id of [...new Set(personIds)]) out.set(id, await listAffiliations(db, id));
  return out;
}

export interface DecisionRow {
  decisionId: string;
  at: Date;
  personId: string;
  terminalId: string | null;
  system: string;
  customerId: string | null;
  area: string | null;
  decision: string;
  allowed: string[];
}

export async function decisionsUnder(db: Db, emergencyId: string, limit = 200): Promise<DecisionRow[]> {
  const rows = await queryRows<DecisionRow>(
    db,
    sql`select id as "decisionId", at, person_id as "personId", terminal_id as "terminalId", system, customer_id as "customerId", area, decision, allowed
        from decision_log where emergency_id = ${emergencyId}::uuid order by at desc, id desc limit ${limit}`,
  );
  return dates(rows, ['at']);
}

export async function transitionsOf(db: Db, emergencyId: string): Promise<{ kind: string; at: Date; actor: string; detail: string | null }[]> {
  const rows = await queryRows<{ kind: string; at: Date; actor: string; detail: string | null }>(
    db,
    sql`select kind, at, actor, detail from emergency_transitions where emergency_id = ${emergencyId}::uuid order by at, id`,
  );
  return dates(rows, ['at']);
}

export async function knownAreas(db: Db): Promise<string[]> {
  return (await queryRows<{ area: string }>(db, sql`select distinct unnest(areas) as area from emergency_roster order by 1`)).map((r) => r.area);
}

export async function rosterFor(db: Db, areas: string[]): Promise<{ personId: string; name: string; areas: string[] }[]> {
  return queryRows(
    db,
    sql`select r.person_id as "personId", p.name, r.areas from emergency_roster r join persons p on p.id = r.person_id
        where r.areas && ${`{${areas.join(',')}}`}::text[] order by r.person_id`,
  );
}

export interface PersonHit {
  id: string;
  name: string;
  company: string | null;
  kind: string | null;
}

export async function searchPeople(db: Db, now: Date, q: string, limit = 50): Promise<PersonHit[]> {
  const t = iso(now);
  const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return queryRows<PersonHit>(
    db,
    sql`select p.id, p.name, a.company_code as company, c.kind::text as kind
        from persons p
        left join affiliations a on a.person_id = p.id and a.superseded_at is null
          and a.valid_from <= ${t}::timestamptz and (a.valid_to is null or a.valid_to > ${t}::timestamptz)
        left join companies c on c.code = a.company_code
        where ${q} = '' or p.id ilike ${like} or p.name ilike ${like}
        order by p.id limit ${limit}`,
  );
}

export async function listEntitlementChoices(db: Db): Promise<{ code: string; name: string; system: string; allowed: string[] }[]> {
  return queryRows(db, sql`select code, name, system_code as system, allowed_company_kinds::text[] as allowed from entitlements order by system_code, code`);
}

export async function rosterMembership(db: Db, personId: string): Promise<string[] | undefined> {
  const [row] = await queryRows<{ areas: string[] }>(db, sql`select areas from emergency_roster where person_id = ${personId}`);
  return row?.areas;
}

export async function listSharedSecretIds(db: Db, limit = 200): Promise<{ id: string; system: string; name: string; version: number; rotatedAt: Date }[]> {
  const rows = await queryRows<{ id: string; system: string; name: string; version: number; rotatedAt: Date }>(
    db,
    sql`select id, system, name, version, rotated_at as "rotatedAt" from shared_secrets order by system, name limit ${limit}`,
  );
  return dates(rows, ['rotatedAt']);
}

export async function passkeysOf(db: Db, personId: string): Promise<{ id: string; company: string; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null }[]> {
  const rows = await queryRows<{ id: string; company: string; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null }>(
    db,
    sql`select id, company_code as company, created_at as "createdAt", last_used_at as "lastUsedAt", revoked_at as "revokedAt"
        from credentials where person_id = ${personId} and type = 'passkey' order by created_at`,
  );
  return dates(rows, ['createdAt', 'lastUsedAt', 'revokedAt']);
}

/** Whom an unanswered WebAuthn challenge was issued for (the console answers only its own person's). */
export async function challengePerson(db: Db, challengeId: string, ceremony: 'registration' | 'authentication'): Promise<string | null | undefined> {
  const [row] = await queryRows<{ personId: string | null }>(
    db,
    sql`select person_id as "personId" from webauthn_challenges where id = ${challengeId}::uuid and ceremony = ${ceremony}`,
  );
  return row ? row.personId : undefined;
}
