import { and, eq, gt, inArray, isNotNull, isNull, notLike, or, sql } from 'drizzle-orm';
import { affiliations, companies } from '../affiliation/schema.js';
import { auditRecords } from '../audit/schema.js';
import { queryRows, type Db } from '../db/client.js';
import { emergencies, emergencyRoster } from '../emergency/schema.js';
import { revokedItems } from '../reviews/outcome.js';
import type { GrantInterval, Interval, PolicySnapshot } from './decide.js';
import { entitlements, grants, systemFields, systems, terminals } from './schema.js';

const ms = (d: Date | null) => (d ? d.getTime() : Infinity);

export function emptySnapshot(): PolicySnapshot {
  return { companies: new Map(), timelines: new Map(), terminals: new Map(), systems: new Map(), grants: new Map(), roster: new Map(), emergencies: [] };
}

async function loadCompanies(db: Db, s: PolicySnapshot) {
  s.companies = new Map((await db.select().from(companies)).map((c) => [c.code, { kind: c.kind, actsFor: c.actsFor }]));
}

async function loadTimelines(db: Db, s: PolicySnapshot, personIds?: string[]) {
  const rows = await db
    .select({ personId: affiliations.personId, company: affiliations.companyCode, from: affiliations.validFrom, to: affiliations.validTo })
    .from(affiliations)
    .where(and(isNull(affiliations.supersededAt), personIds ? inArray(affiliations.personId, personIds) : undefined));
  for (const id of personIds ?? []) s.timelines.delete(id);
  for (const r of rows) {
    let list = s.timelines.get(r.personId);
    if (!list) s.timelines.set(r.personId, (list = []));
    list.push({ company: r.company, from: r.from.getTime(), to: ms(r.to) });
  }
}

async function loadTerminals(db: Db, s: PolicySnapshot, ids?: string[]) {
  const rows = await db.select().from(terminals).where(ids ? inArray(terminals.id, ids) : undefined);
  for (const id of ids ?? []) s.terminals.delete(id);
  for (const t of rows) s.terminals.set(t.id, { company: t.companyCode, active: t.active });
}

async function loadSystems(db: Db, s: PolicySnapshot, codes?: string[]) {
  const [rows, fields] = await Promise.all([
    db.select({ code: systems.code }).from(systems).where(codes ? inArray(systems.code, codes) : undefined),
    db.select().from(systemFields).where(codes ? inArray(systemFields.systemCode, codes) : undefined),
  ]);
  for (const code of codes ?? []) s.systems.delete(code);
  for (const r of rows) s.systems.set(r.code, { fields: new Map(), emergencyFields: new Set() });
  for (const f of fields) {
    const sys = s.systems.get(f.systemCode);
    if (!sys) continue;
    sys.fields.set(f.field, f.class);
    if (f.inEmergencySet) sys.emergencyFields.add(f.field);
  }
}

/** Grants as validity intervals per person and system; a revocation closes the interval at its instant. */
async function loadGrants(db: Db, s: PolicySnapshot, personIds?: string[]) {
  const rows = await db
    .select({
      personId: grants.personId,
      system: entitlements.systemCode,
      kinds: entitlements.allowedCompanyKinds,
      from: grants.validFrom,
      to: grants.validTo,
      revokedAt: grants.revokedAt,
    })
    .from(grants)
    .innerJoin(entitlements, eq(entitlements.code, grants.entitlementCode))
    .where(personIds ? inArray(grants.personId, personIds) : undefined);
  for (const id of personIds ?? []) s.grants.delete(id);
  for (const r of rows) {
    const iv: GrantInterval = { from: r.from.getTime(), to: Math.min(ms(r.to), ms(r.revokedAt)), kinds: r.kinds };
    if (iv.to <= iv.from) continue;
    let bySystem = s.grants.get(r.personId);
    if (!bySystem) s.grants.set(r.personId, (bySystem = new Map()));
    const list = bySystem.get(r.system);
    if (list) list.push(iv);
    else bySystem.set(r.system, [iv]);
  }
}

async function loadRoster(db: Db, s: PolicySnapshot) {
  s.roster = new Map((await db.select().from(emergencyRoster)).map((m) => [m.personId, new Set(m.areas)]));
}

/** Emergencies that were ever active, as intervals [started, ended or expiry). */
async function loadEmergencies(db: Db, s: PolicySnapshot) {
  const rows = await db.select().from(emergencies).where(isNotNull(emergencies.startedAt));
  s.emergencies = rows.map((e) => ({ id: e.id, areas: new Set(e.areas), from: e.startedAt!.getTime(), to: Math.min(ms(e.endedAt), e.expiresAt.getTime()) }));
}

export async function loadSnapshot(db: Db): Promise<PolicySnapshot> {
  const s = emptySnapshot();
  await Promise.all([
    loadCompanies(db, s),
    loadTimelines(db, s),
    loadTerminals(db, s),
    loadSystems(db, s),
    loadGrants(db, s),
    loadRoster(db, s),
    loadEmergencies(db, s),
  ]);
  return s;
}

const FULL_GRANT_RELOAD_ABOVE = 10_000;

async function holdersRevokedBy(db: Db, campaignIds: string[]): Promise<string[]> {
  const rows = await queryRows<{ personId: string }>(
    db,
    sql`select distinct i.person_id as "personId" from ${revokedItems(sql`select jsonb_array_elements_text(${JSON.stringify(campaignIds)}::jsonb)::uuid`)}`,
  );
  return rows.map((r) => r.personId);
}

/** The newest audit seq: the snapshot is current as of it. */
export async function latestSeq(db: Db): Promise<number> {
  const [row] = await db.select({ seq: sql<number>`coalesce(max(${auditRecords.seq}), 0)::bigint` }).from(auditRecords);
  return Number(row?.seq ?? 0);
}

/** Audit actions that never change policy (and are by far the most frequent). */
const notPolicy = (action: string) => action.startsWith('authn.') || action.startsWith('decision.');

/**
 * Applies the changes committed after `afterSeq`, read from the audit chain (every state
 * change writes one record, in commit order). Returns the new high-water mark.
 *
 * The mark moves past records that change nothing too (decision batches, authentications):
 * otherwise every sync would rescan all of them since the last policy change, and under a
 * steady stream of decisions the sync — made on every decision request — would grow without
 * bound until decisions are refused as stale. The newest record comes back in the same
 * statement (same snapshot) as the changes; seq order is commit order (appends hold the chain
 * lock until commit), so every record up to it has been seen.
 */
export async function patchSnapshot(db: Db, s: PolicySnapshot, afterSeq: number): Promise<number> {
  const rows = await db
    .select({ seq: auditRecords.seq, subjectType: auditRecords.subjectType, subjectId: auditRecords.subjectId, action: auditRecords.action })
    .from(auditRecords)
    .where(
      and(
        gt(auditRecords.seq, afterSeq),
        or(
          and(notLike(auditRecords.action, 'authn.%'), notLike(auditRecords.action, 'decision.%')),
          eq(auditRecords.seq, sql`(select max(${auditRecords.seq}) from ${auditRecords})`),
        ),
      ),
    )
    .orderBy(auditRecords.seq)
    .limit(50_000);
  if (rows.length === 0) return afterSeq;
  const mark = rows.at(-1)!.seq;
  const changes = rows.filter((r) => !notPolicy(r.action));
  if (changes.length === 0) return mark;
  const subjects = (type: string) => [...new Set(changes.filter((c) => c.subjectType === type).map((c) => c.subjectId))];
  const persons = subjects('person');
  const tasks: Promise<void>[] = [];
  if (subjects('company').length) tasks.push(loadCompanies(db, s));
  if (subjects('roster').length) tasks.push(loadRoster(db, s));
  if (subjects('emergency').length) tasks.push(loadEmergencies(db, s));
  if (persons.length) tasks.push(loadTimelines(db, s, persons));
  if (subjects('terminal').length) tasks.push(loadTerminals(db, s, subjects('terminal')));
  if (subjects('system').length) tasks.push(loadSystems(db, s, subjects('system')));
  // A closed review campaign revokes in bulk under one audit record: its holders' grants change.
  const reviewed = subjects('review-campaign').length ? await holdersRevokedBy(db, subjects('review-campaign')) : [];
  const grantHolders = [...new Set([...persons, ...reviewed])];
  if (subjects('entitlement').length || grantHolders.length > FULL_GRANT_RELOAD_ABOVE) {
    // An entitlement moving to another system re-homes its grants, and a huge change is
    // cheaper to read whole: reload them all (rare).
    s.grants = new Map();
    tasks.push(loadGrants(db, s));
  } else if (grantHolders.length) {
    tasks.push(loadGrants(db, s, grantHolders));
  }
  await Promise.all(tasks);
  return mark;
}
