import { eq } from 'drizzle-orm';
import { findCompany } from '../affiliation/companies.js';
import { affiliationProblems } from '../affiliation/errors.js';
import type { CompanyKind } from '../affiliation/schema.js';
import { appendAudit } from '../audit/chain.js';
import type { Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { accessProblems } from './errors.js';
import { entitlements, systemFields, systems, terminals, type FieldClass } from './schema.js';

async function requireCompany(db: Db, code: string | null | undefined, path: string): Promise<void> {
  if (code && !(await findCompany(db, code))) {
    throw affiliationProblems.unknownCompany(`company '${code}' does not exist`, [{ path, message: 'unknown company' }]);
  }
}

export interface PutSystemInput {
  db: Db;
  now: Date;
  actor: string;
  code: string;
  name: string;
  ownerCompany?: string | null;
  ownerPersonId?: string | null;
  fields: Record<string, FieldClass>;
  emergencyFields?: string[];
}

/** Creates or replaces a system and its field classification (the whole field list, every time). */
export async function putSystem(input: PutSystemInput): Promise<{ created: boolean }> {
  const { db, now, actor, code, name, fields } = input;
  const emergencyFields = input.emergencyFields ?? [];
  const undeclared = emergencyFields.filter((f) => !(f in fields));
  if (undeclared.length > 0) throw accessProblems.invalidEmergencyFields(`not declared in fields: ${undeclared.join(', ')}`);
  return withTx(db, async (tx) => {
    await requireCompany(tx, input.ownerCompany, '/ownerCompany');
    const [existing] = await tx.select().from(systems).where(eq(systems.code, code)).for('update');
    const values = { name, ownerCompany: input.ownerCompany ?? null, ownerPersonId: input.ownerPersonId ?? null, updatedAt: now };
    if (existing) await tx.update(systems).set(values).where(eq(systems.code, code));
    else await tx.insert(systems).values({ code, createdAt: now, ...values });
    await tx.delete(systemFields).where(eq(systemFields.systemCode, code));
    const rows = Object.entries(fields).map(([field, cls]) => ({ systemCode: code, field, class: cls, inEmergencySet: emergencyFields.includes(field) }));
    if (rows.length > 0) await tx.insert(systemFields).values(rows);
    await appendAudit(tx, now, {
      actor,
      action: existing ? 'system.updated' : 'system.created',
      subjectType: 'system',
      subjectId: code,
      data: { name, ownerCompany: values.ownerCompany, ownerPersonId: values.ownerPersonId, fields, emergencyFields },
    });
    return { created: !existing };
  });
}

export async function getSystem(db: Db, code: string) {
  const [system] = await db.select().from(systems).where(eq(systems.code, code));
  if (!system) return undefined;
  const fields = await db.select().from(systemFields).where(eq(systemFields.systemCode, code));
  return {
    ...system,
    fields: Object.fromEntries(fields.map((f) => [f.field, f.class])) as Record<string, FieldClass>,
    emergencyFields: fields.filter((f) => f.inEmergencySet).map((f) => f.field),
  };
}

export async function putEntitlement(input: {
  db: Db;
  now: Date;
  actor: string;
  code: string;
  system: string;
  name: string;
  allowedCompanyKinds: CompanyKind[];
}): Promise<{ created: boolean }> {
  const { db, now, actor, code, system, name } = input;
  const allowedCompanyKinds = [...new Set(input.allowedCompanyKinds)];
  return withTx(db, async (tx) => {
    const [sys] = await tx.select({ code: systems.code }).from(systems).where(eq(systems.code, system));
    if (!sys) throw accessProblems.unknownSystem(`system '${system}' does not exist`, [{ path: '/system', message: 'unknown system' }]);
    const [existing] = await tx.select().from(entitlements).where(eq(entitlements.code, code)).for('update');
    if (existing) await tx.update(entitlements).set({ systemCode: system, name, allowedCompanyKinds, updatedAt: now }).where(eq(entitlements.code, code));
    else await tx.insert(entitlements).values({ code, systemCode: system, name, allowedCompanyKinds, createdAt: now, updatedAt: now });
    await appendAudit(tx, now, {
      actor,
      action: existing ? 'entitlement.updated' : 'entitlement.created',
      subjectType: 'entitlement',
      subjectId: code,
      data: { system, name, allowedCompanyKinds, ...(existing ? { previousAllowedCompanyKinds: existing.allowedCompanyKinds } : {}) },
    });
    return { created: !existing };
  });
}

export async function findEntitlement(db: Db, code: string) {
  const [row] = await db.select().from(entitlements).where(eq(entitlements.code, code));
  return row;
}

export type Terminal = typeof terminals.$inferSelect;

export async function putTerminal(input: {
  db: Db;
  now: Date;
  actor: string;
  id: string;
  company: string;
  site: string;
  active?: boolean;
}): Promise<{ terminal: Terminal; created: boolean }> {
  const { db, now, actor, id, company, site } = input;
  const active = input.active ?? true;
  return withTx(db, async (tx) => {
    await requireCompany(tx, company, '/company');
    const [existing] = await tx.select().from(terminals).where(eq(terminals.id, id)).for('update');
    const [terminal] = existing
      ? await tx.update(terminals).set({ companyCode: company, site, active, updatedAt: now }).where(eq(terminals.id, id)).returning()
      : await tx.insert(terminals).values({ id, companyCode: company, site, active, createdAt: now, updatedAt: now }).returning();
    await appendAudit(tx, now, {
      actor,
      action: existing ? 'terminal.updated' : 'terminal.registered',
      subjectType: 'terminal',
      subjectId: id,
      data: { company, site, active, ...(existing ? { previous: { company: existing.companyCode, site: existing.site, active: existing.active } } : {}) },
    });
    return { terminal: terminal!, created: !existing };
  });
}

export async function findTerminal(db: Db, id: string): Promise<Terminal | undefined> {
  const [row] = await db.select().from(terminals).where(eq(terminals.id, id));
  return row;
}
