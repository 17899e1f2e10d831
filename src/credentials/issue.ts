import { asc, eq } from 'drizzle-orm';
import { findAffiliationAt } from '../affiliation/persons.js';
import { persons } from '../affiliation/schema.js';
import { systems } from '../access/schema.js';
import { appendAudit } from '../audit/chain.js';
import type { Db } from '../db/client.js';
import { PG_UNIQUE_VIOLATION, pgErrorInfo } from '../db/errors.js';
import { withTx } from '../db/tx.js';
import { hashToken, newTokenValue } from './api-tokens.js';
import { credentialProblems } from './errors.js';
import { generatePassword, hashPassword } from './passwords.js';
import { credentials, type CredentialType } from './schema.js';

export type Credential = typeof credentials.$inferSelect;

export interface CredentialView {
  id: string;
  type: CredentialType;
  status: 'active' | 'revoked';
  company: string;
  createdAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
  system: string | null;
  loginId: string | null;
  badgeId: string | null;
}

export const toCredentialView = (c: Credential): CredentialView => ({
  id: c.id,
  type: c.type,
  status: c.revokedAt ? 'revoked' : 'active',
  company: c.companyCode,
  createdAt: c.createdAt,
  revokedAt: c.revokedAt,
  revokedReason: c.revokedReason,
  system: c.system,
  loginId: c.loginId,
  badgeId: c.badgeId,
});

type IssueBase = { db: Db; now: Date; actor: string; personId: string };

/**
 * Inserts a credential under the person's company at `now` (locked against a concurrent
 * transfer), with its audit record. The company recorded here is what invariant 3 checks.
 */
export async function insertCredential(
  args: IssueBase & { type: CredentialType; values: Partial<Credential>; audit: Record<string, unknown> },
): Promise<Credential> {
  const { db, now, actor, personId, type } = args;
  return withTx(db, async (tx) => {
    const [person] = await tx.select({ id: persons.id }).from(persons).where(eq(persons.id, personId)).for('share');
    if (!person) throw credentialProblems.unknownPerson(`person '${personId}' does not exist`);
    const affiliation = await findAffiliationAt(tx, personId, now);
    if (!affiliation) throw credentialProblems.notAffiliated(`person '${personId}' has no affiliation now, so no credential can be issued`);
    let row: Credential | undefined;
    try {
      [row] = await tx
        .insert(credentials)
        .values({ ...args.values, personId, type, companyCode: affiliation.companyCode, createdAt: now, createdBy: actor })
        .returning();
    } catch (err) {
      const { code, constraint } = pgErrorInfo(err);
      if (code === PG_UNIQUE_VIOLATION && constraint === 'credentials__system_login_id_active_uq') throw credentialProblems.loginTaken(`login id '${args.values.loginId}' is already active in '${args.values.system}'`);
      if (code === PG_UNIQUE_VIOLATION && constraint === 'credentials__badge_id_active_uq') throw credentialProblems.badgeTaken(`badge '${args.values.badgeId}' is already active`);
      throw err;
    }
    await appendAudit(tx, now, {
      actor,
      action: 'credential.issued',
      subjectType: 'person',
      subjectId: personId,
      data: { credentialId: row!.id, type, company: affiliation.companyCode, ...args.audit },
    });
    return row!;
  });
}

/** A generated password for an account in a connected system; the plaintext is returned once. */
export async function issuePassword(args: IssueBase & { system: string; loginId: string }): Promise<{ credential: Credential; password: string }> {
  const [system] = await args.db.select({ code: systems.code }).from(systems).where(eq(systems.code, args.system));
  if (!system) throw credentialProblems.unknownSystem(`system '${args.system}' does not exist`, [{ path: '/system', message: 'unknown system' }]);
  const password = generatePassword();
  const credential = await insertCredential({
    ...args,
    type: 'password',
    values: { system: args.system, loginId: args.loginId, secretHash: await hashPassword(password) },
    audit: { system: args.system, loginId: args.loginId },
  });
  return { credential, password };
}

export function issueBadge(args: IssueBase & { badgeId: string }): Promise<Credential> {
  return insertCredential({ ...args, type: 'badge', values: { badgeId: args.badgeId }, audit: { badgeId: args.badgeId } });
}

/** A personal API token for connected systems; the value is returned once, only its hash is kept. */
export async function issuePersonToken(args: IssueBase): Promise<{ credential: Credential; token: string }> {
  const token = newTokenValue();
  const credential = await insertCredential({ ...args, type: 'api_token', values: { secretHash: hashToken(token) }, audit: {} });
  return { credential, token };
}

export async function listPersonCredentials(db: Db, personId: string): Promise<Credential[]> {
  return db.select().from(credentials).where(eq(credentials.personId, personId)).orderBy(asc(credentials.createdAt));
}
