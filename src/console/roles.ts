import { sql } from 'drizzle-orm';
import { findEffectiveCompanyAt } from '../affiliation/persons.js';
import type { CompanyKind } from '../affiliation/schema.js';
import type { Config, ConsoleRole } from '../config.js';
import type { Scope } from '../credentials/schema.js';
import { queryRows, type Db } from '../db/client.js';

/**
 * Who may do what in the console: an explicit role assignment (SEKISHO_CONSOLE_ROLES), narrowed
 * by the person's affiliation right now, plus `reviewer` for anyone with review items waiting.
 *
 * - Roles are separate on purpose: an emergency officer is not a reviewer, a reviewer does not
 *   declare emergencies, unless both are assigned.
 * - A person whose company is not judged as the wheeling company (retail, or a contractor acting
 *   for retail) keeps no assigned role but `reviewer`, and as a reviewer sees only items about
 *   people of their own company: no page that carries the wheeling company's non-public
 *   information (emergencies and their decisions, findings, reports, other people) is theirs.
 */
export interface ConsoleIdentity {
  personId: string;
  name: string;
  company: string;
  companyName: string;
  companyKind: CompanyKind;
  /** The kind whose information rules apply (a contractor's actsFor). */
  rulesKind: CompanyKind;
  wheeling: boolean;
  roles: Set<ConsoleRole>;
}

/** The demo organisation's console roles when SEKISHO_CONSOLE_ROLES is unset in demo mode. */
export const DEMO_ROLES: Record<string, ConsoleRole[]> = {
  E1001: ['admin', 'compliance', 'review-admin'],
  E1002: ['emergency-officer'],
  E1003: ['compliance'],
};

export function assignedRoles(config: Config, personId: string): ConsoleRole[] {
  const table = config.console.roles ?? (config.seed === 'demo' ? DEMO_ROLES : {});
  return table[personId] ?? [];
}

/** The person as the console sees them at `now`; undefined when they are not affiliated now. */
export async function consoleIdentity(db: Db, now: Date, config: Config, personId: string): Promise<ConsoleIdentity | undefined> {
  const [person] = await queryRows<{ name: string }>(db, sql`select name from persons where id = ${personId}`);
  if (!person) return undefined;
  const company = await findEffectiveCompanyAt(db, personId, now);
  if (!company) return undefined;
  const [c] = await queryRows<{ name: string }>(db, sql`select name from companies where code = ${company.companyCode}`);
  const wheeling = company.rulesKind === 'wheeling';
  const roles = new Set<ConsoleRole>(assignedRoles(config, personId).filter((r) => wheeling || r === 'reviewer'));
  if (!roles.has('reviewer')) {
    const [waiting] = await queryRows<{ one: number }>(
      db,
      sql`select 1 as one from review_items i join review_campaigns c on c.id = i.campaign_id
          where i.reviewer_id = ${personId} and c.status = 'open' limit 1`,
    );
    if (waiting) roles.add('reviewer');
  }
  return {
    personId,
    name: person.name,
    company: company.companyCode,
    companyName: c?.name ?? company.companyCode,
    companyKind: company.kind,
    rulesKind: company.rulesKind,
    wheeling,
    roles,
  };
}

/** API scopes a console session carries (machine-only scopes never: hr, decide, authn, logs). */
const ROLE_SCOPES: Record<ConsoleRole, Scope[]> = {
  admin: ['admin', 'audit'],
  compliance: ['audit'],
  'emergency-officer': ['emergency'],
  'review-admin': ['reviews'],
  reviewer: [],
};

export function scopesOf(identity: ConsoleIdentity): Scope[] {
  return [...new Set([...identity.roles].flatMap((r) => ROLE_SCOPES[r]))];
}

export type ConsolePage = 'dashboard' | 'emergencies' | 'emergency-acts' | 'reviews' | 'campaigns' | 'people' | 'findings' | 'reports' | 'secrets' | 'account';

/** Page access. Everything but the account page and the review inbox needs the wheeling side. */
export function canSee(identity: ConsoleIdentity, page: ConsolePage): boolean {
  const has = (...roles: ConsoleRole[]) => roles.some((r) => identity.roles.has(r));
  switch (page) {
    case 'account':
      return true;
    case 'reviews':
      return has('reviewer');
    default:
      if (!identity.wheeling) return false;
  }
  switch (page) {
    case 'dashboard':
      return identity.roles.size > 0;
    case 'emergencies':
      return has('emergency-officer', 'compliance', 'admin');
    case 'emergency-acts':
      return has('emergency-officer');
    case 'campaigns':
      return has('review-admin');
    case 'people':
    case 'findings':
    case 'reports':
      return has('compliance', 'admin');
    case 'secrets':
      return has('admin');
  }
}

/** Where a person lands after signing in. */
export function homeOf(identity: ConsoleIdentity): string {
  if (canSee(identity, 'dashboard')) return '/console';
  if (canSee(identity, 'reviews')) return '/console/reviews';
  return '/console/account';
}
