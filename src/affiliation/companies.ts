import { eq } from 'drizzle-orm';
import { appendAudit } from '../audit/chain.js';
import type { Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { affiliationProblems } from './errors.js';
import { companies, type CompanyKind } from './schema.js';

export type Company = typeof companies.$inferSelect;

export interface PutCompanyInput {
  db: Db;
  now: Date;
  actor: string;
  code: string;
  name: string;
  kind: CompanyKind;
  actsFor?: string | null;
}

/** Creates or updates a company. Only contractors act for another company, and never for a contractor. */
export async function putCompany(input: PutCompanyInput): Promise<{ company: Company; created: boolean }> {
  const { db, now, actor, code, name, kind } = input;
  const actsFor = input.actsFor ?? null;
  return withTx(db, async (tx) => {
    if (actsFor !== null) {
      if (kind !== 'contractor') throw affiliationProblems.invalidActsFor('only a contractor acts for another company');
      const target = await findCompany(tx, actsFor);
      if (!target) throw affiliationProblems.unknownCompany(`company '${actsFor}' (actsFor) does not exist`);
      if (target.kind === 'contractor') throw affiliationProblems.invalidActsFor('a contractor cannot act for another contractor');
    }
    const [existing] = await tx.select().from(companies).where(eq(companies.code, code)).for('update');
    if (existing && kind === 'contractor' && existing.kind !== 'contractor') {
      const [dependant] = await tx.select({ code: companies.code }).from(companies).where(eq(companies.actsFor, code)).limit(1);
      if (dependant) throw affiliationProblems.invalidActsFor(`'${dependant.code}' acts for '${code}', so it cannot become a contractor`);
    }
    const [company] = existing
      ? await tx.update(companies).set({ name, kind, actsFor, updatedAt: now }).where(eq(companies.code, code)).returning()
      : await tx.insert(companies).values({ code, name, kind, actsFor, createdAt: now, updatedAt: now }).returning();
    await appendAudit(tx, now, {
      actor,
      action: existing ? 'company.updated' : 'company.created',
      subjectType: 'company',
      subjectId: code,
      data: { name, kind, actsFor, ...(existing ? { previous: { name: existing.name, kind: existing.kind, actsFor: existing.actsFor } } : {}) },
    });
    return { company: company!, created: !existing };
  });
}

export async function findCompany(db: Db, code: string): Promise<Company | undefined> {
  const [row] = await db.select().from(companies).where(eq(companies.code, code));
  return row;
}

export async function listCompanies(db: Db): Promise<Company[]> {
  return db.select().from(companies).orderBy(companies.code);
}
