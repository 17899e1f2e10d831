import { and, asc, eq, gt, isNull, lte, or } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { affiliationProblems } from './errors.js';
import { affiliations, companies, persons, type CompanyKind } from './schema.js';
import { affiliationInForceAt } from './sql.js';
import { segmentAt } from './timeline.js';

export interface AffiliationView {
  company: string;
  companyKind: CompanyKind;
  orgUnit: string | null;
  managerId: string | null;
  validFrom: Date;
  validTo: Date | null;
}

export interface PersonAt {
  id: string;
  name: string;
  email: string | null;
  status: 'active' | 'left';
  affiliation: AffiliationView | null;
}

/**
 * Rows of the timeline as known at `knownAt` (transaction time); default: current knowledge.
 * Oldest first.
 */
export async function listAffiliations(db: Db, personId: string, knownAt?: Date): Promise<AffiliationView[]> {
  const knowledge = knownAt
    ? and(lte(affiliations.recordedAt, knownAt), or(isNull(affiliations.supersededAt), gt(affiliations.supersededAt, knownAt)))
    : isNull(affiliations.supersededAt);
  return db
    .select({
      company: affiliations.companyCode,
      companyKind: companies.kind,
      orgUnit: affiliations.orgUnit,
      managerId: affiliations.managerId,
      validFrom: affiliations.validFrom,
      validTo: affiliations.validTo,
    })
    .from(affiliations)
    .innerJoin(companies, eq(companies.code, affiliations.companyCode))
    .where(and(eq(affiliations.personId, personId), knowledge))
    .orderBy(asc(affiliations.validFrom));
}

/**
 * The person as of instant `at`. Status is derived from the timeline: `left` once their last
 * affiliation has ended and none covers `at`; otherwise `active` (affiliation null before a
 * future hire takes effect).
 */
export async function getPersonAt(db: Db, personId: string, at: Date, knownAt?: Date): Promise<PersonAt> {
  const [person] = await db.select().from(persons).where(eq(persons.id, personId));
  if (!person) throw affiliationProblems.personNotFound(`person '${personId}' does not exist`);
  const timeline = await listAffiliations(db, personId, knownAt);
  const current = segmentAt(timeline, at) ?? null;
  const endedBefore = timeline.some((s) => s.validTo !== null && s.validTo.getTime() <= at.getTime());
  return {
    id: person.id,
    name: person.name,
    email: person.email,
    status: !current && endedBefore ? 'left' : 'active',
    affiliation: current,
  };
}

/** The company a person is affiliated with at `at`, or undefined. The hot-path read for later checks. */
export async function findAffiliationAt(db: Db, personId: string, at: Date): Promise<{ companyCode: string } | undefined> {
  const [row] = await db
    .select({ companyCode: affiliations.companyCode })
    .from(affiliations)
    .where(and(eq(affiliations.personId, personId), affiliationInForceAt(at)))
    .limit(1);
  return row;
}

export interface EffectiveCompany {
  companyCode: string;
  kind: CompanyKind;
  /** The company whose information rules apply: a contractor's actsFor, else the company itself. */
  rulesCompanyCode: string;
  rulesKind: CompanyKind;
}

/** The person's company at `at` and the company whose firewall rules apply to them. */
export async function findEffectiveCompanyAt(db: Db, personId: string, at: Date): Promise<EffectiveCompany | undefined> {
  const affiliation = await findAffiliationAt(db, personId, at);
  if (!affiliation) return undefined;
  const [company] = await db.select().from(companies).where(eq(companies.code, affiliation.companyCode));
  if (!company) return undefined;
  if (!company.actsFor) return { companyCode: company.code, kind: company.kind, rulesCompanyCode: company.code, rulesKind: company.kind };
  const [target] = await db.select().from(companies).where(eq(companies.code, company.actsFor));
  return { companyCode: company.code, kind: company.kind, rulesCompanyCode: target!.code, rulesKind: target!.kind };
}
