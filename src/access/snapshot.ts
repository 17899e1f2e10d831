import { and, eq, gt, inArray, isNotNull, isNull, notLike, sql } from 'drizzle-orm';
import { affiliations, companies } from '../affiliation/schema.js';
import { auditRecords } from '../audit/schema.js';
import type { Db } from '../db/client.js';
import { emergencies, emergencyRoster } from '../emergency/schema.js';
import type { Interval, PolicySnapshot } from './decide.js';
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
    .select({ personId: grants.personId, system: entitlements.systemCode, from: grants.validFrom, to: grants.validTo, revokedAt: grants.revokedAt })
    .from(grants)
    .innerJoin(entitlements, eq(entitlements.code, grants.entitlementCode))
    .where(personIds ? inArray(grants.personId, personIds) : undefined);
  for (const id of personIds ?? []) s.grants.delete(id);
  for (const r of rows) {
    const iv: Interval = { from: r.from.getTime(), to: Math.min(ms(r.to), ms(r.revokedAt)) };
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

/** The newest audit seq: the snapshot is current as of it. */
export async function latestSeq(db: Db): Promise<number> {
  const [row] = await db.select({ seq: sql<number>`coalesce(max(${auditRecords.seq}), 0)::bigint` }).from(auditRecords);
  return Number(row?.seq ?? 0);
}

/**
 * Applies the changes committed after `afterSeq`, read from the audit chain (every state
 * change writes one record, in commit order). Returns the new high-water mark.
 */
export async function patchSnapshot(db: Db, s: PolicySnapshot, afterSeq: number): Promise<number> {
  const changes = await db
    .select({ seq: auditRecords.seq, subjectType: auditRecords.subjectType, subjectId: auditRecords.subjectId, action: auditRecords.action })
    .from(auditRecords)
    .where(and(gt(auditRecords.seq, afterSeq), notLike(auditRecords.action, 'authn.%'), notLike(auditRecords.action, 'decision.%')))
    .orderBy(auditRecords.seq)
    .limit(50_000);
  if (changes.length === 0) return afterSeq;
  const subjects = (type: string) => [...new Set(changes.filter((c) => c.subjectType === type).map((c) => c.subjectId))];
  const persons = subjects('person');
  const tasks: Promise<void>[] = [];
  if (subjects('company').length) tasks.push(loadCompanies(db, s));
  if (subjects('roster').length) tasks.push(loadRoster(db, s));
  if (subjects('emergency').length) tasks.push(loadEmergencies(db, s));
  if (persons.length) tasks.push(loadTimelines(db, s, persons));
  if (subjects('terminal').length) tasks.push(loadTerminals(db, s, subjects('terminal')));
  if (subjects('system').length) tasks.push(loadSystems(db, s, subjects('system')));
  if (subjects('entitlement').length) {
    // An entitlement moving to another system re-homes its grants: reload them all (rare).
    s.grants = new Map();
    tasks.push(loadGrants(db, s));
  } else if (persons.length) {
    tasks.push(loadGrants(db, s, persons));
  }
  await Promise.all(tasks);
  return changes.at(-1)!.seq;
}
