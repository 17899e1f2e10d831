import { and, desc, eq, sql } from 'drizzle-orm';
import { findAffiliationAt } from '../affiliation/persons.js';
import { findTerminal } from '../access/catalog.js';
import { appendAudit } from '../audit/chain.js';
import type { Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { hashToken } from './api-tokens.js';
import { credentialProblems } from './errors.js';
import type { Credential } from './issue.js';
import { burnPasswordCheck, verifyPassword } from './passwords.js';
import { credentials } from './schema.js';
import { clearFailures, isThrottled, recordFailure, throttleKeys } from './throttle.js';

/** Why an authentication failed: recorded in the audit log, never told to the caller. */
export type AuthnFailure =
  | 'throttled'
  | 'unknown-credential'
  | 'wrong-secret'
  | 'credential-revoked'
  | 'holder-not-affiliated-with-issuing-company'
  | 'terminal-unknown'
  | 'terminal-inactive'
  | 'terminal-company-mismatch'
  // Passkeys (passkeys.ts):
  | 'challenge-unknown-or-used'
  | 'challenge-expired'
  | 'challenge-wrong-ceremony'
  | 'challenge-for-another-person'
  | 'assertion-invalid'
  | 'counter-did-not-advance';

export interface AuthnSuccess {
  personId: string;
  company: string;
  credentialId: string;
}

/**
 * The checks every credential type shares, at the instant of use (invariant 3 and 5): the
 * credential is live, its holder is affiliated right now with the company it was issued
 * under, and the terminal, when named, is active and registered to that same company.
 * No background job has to have run for a transfer to take effect.
 */
export async function checkCredentialInForce(db: Db, c: Credential, terminalId: string | undefined, now: Date): Promise<AuthnFailure | undefined> {
  if (c.revokedAt && c.revokedAt.getTime() <= now.getTime()) return 'credential-revoked';
  const affiliation = await findAffiliationAt(db, c.personId, now);
  if (!affiliation || affiliation.companyCode !== c.companyCode) return 'holder-not-affiliated-with-issuing-company';
  if (terminalId !== undefined) {
    const terminal = await findTerminal(db, terminalId);
    if (!terminal) return 'terminal-unknown';
    if (!terminal.active) return 'terminal-inactive';
    if (terminal.companyCode !== c.companyCode) return 'terminal-company-mismatch';
  }
  return undefined;
}

export interface Attempt {
  db: Db;
  now: Date;
  /** The calling system's token, for the audit record and as the throttle source of last resort. */
  caller: string;
  terminalId?: string;
  /** The end user's address as the connected system saw it, when it sends one. */
  clientIp?: string;
}

/**
 * Records the outcome (audit, throttle, last use) in one transaction and answers. Failures
 * throw the same generic 401 whatever the reason; the reason goes to the audit log.
 * Only wrong secrets and unknown logins count towards the throttle; `countFailures: false` for
 * credentials nobody can guess (passkeys): their failures are replays or clones, not guesses.
 * `details` adds evidence to the audit record (a passkey's counters).
 */
export async function settle(
  a: Attempt & { kind: string; login: string; credential?: Credential; failure?: AuthnFailure; countFailures?: boolean; details?: Record<string, unknown> },
): Promise<AuthnSuccess> {
  const source = sourceOf(a);
  const keys = throttleKeys(a.login, source);
  const counted = a.countFailures !== false;
  // Only guesses count: a right secret refused for its holder's move, a revocation or a terminal
  // is no guess, and counting it would let an April-1 reorganisation lock a whole system's source out.
  const guess = a.failure === 'unknown-credential' || a.failure === 'wrong-secret';
  await withTx(a.db, async (tx) => {
    if (a.failure) {
      if (guess && counted) await recordFailure(tx, keys, a.now);
    } else {
      if (counted) await clearFailures(tx, keys);
      await tx.update(credentials).set({ lastUsedAt: a.now }).where(eq(credentials.id, a.credential!.id));
    }
    await appendAudit(tx, a.now, {
      actor: a.caller,
      action: a.failure ? 'authn.failed' : 'authn.succeeded',
      subjectType: 'person',
      subjectId: a.credential?.personId ?? 'unknown',
      data: {
        method: a.kind,
        login: a.login,
        credentialId: a.credential?.id ?? null,
        credentialCompany: a.credential?.companyCode ?? null,
        revokedReason: a.credential?.revokedReason ?? null,
        terminalId: a.terminalId ?? null,
        source,
        ...a.details,
        ...(a.failure ? { reason: a.failure } : {}),
      },
    });
  });
  if (a.failure) throw credentialProblems.invalidCredentials('invalid credentials');
  return { personId: a.credential!.personId, company: a.credential!.companyCode, credentialId: a.credential!.id };
}

/** Where guesses come from, for the throttle: the terminal, else the end user's address, else the calling system. */
const sourceOf = (a: Attempt): string =>
  a.terminalId ? `terminal:${a.terminalId}` : a.clientIp ? `ip:${a.clientIp}` : `caller:${a.caller}`;

const throttled = (a: Attempt, login: string): Promise<boolean> => isThrottled(a.db, throttleKeys(login, sourceOf(a)), a.now);

/** The newest credential of a kind, live or not: a revoked one still explains a failure precisely. */
async function newest(db: Db, where: ReturnType<typeof and>): Promise<Credential | undefined> {
  const [row] = await db.select().from(credentials).where(where).orderBy(sql`${credentials.revokedAt} is null desc`, desc(credentials.createdAt)).limit(1);
  return row;
}

export async function authenticatePassword(a: Attempt & { system: string; loginId: string; password: string }): Promise<AuthnSuccess> {
  const login = `password:${a.system}:${a.loginId}`;
  if (await throttled(a, login)) return settle({ ...a, kind: 'password', login, failure: 'throttled' });
  const credential = await newest(a.db, and(eq(credentials.type, 'password'), eq(credentials.system, a.system), eq(credentials.loginId, a.loginId)));
  if (!credential) {
    await burnPasswordCheck(a.password);
    return settle({ ...a, kind: 'password', login, failure: 'unknown-credential' });
  }
  if (!(await verifyPassword(a.password, credential.secretHash!))) return settle({ ...a, kind: 'password', login, credential, failure: 'wrong-secret' });
  const failure = await checkCredentialInForce(a.db, credential, a.terminalId, a.now);
  return settle({ ...a, kind: 'password', login, credential, failure });
}

export async function authenticateBadge(a: Attempt & { badgeId: string }): Promise<AuthnSuccess> {
  const login = `badge:${a.badgeId}`;
  if (await throttled(a, login)) return settle({ ...a, kind: 'badge', login, failure: 'throttled' });
  const credential = await newest(a.db, and(eq(credentials.type, 'badge'), eq(credentials.badgeId, a.badgeId)));
  if (!credential) return settle({ ...a, kind: 'badge', login, failure: 'unknown-credential' });
  const failure = await checkCredentialInForce(a.db, credential, a.terminalId, a.now);
  return settle({ ...a, kind: 'badge', login, credential, failure });
}

export async function authenticatePersonToken(a: Attempt & { token: string }): Promise<AuthnSuccess> {
  const hash = hashToken(a.token);
  const login = `token:${hash.slice(0, 16)}`;
  if (await throttled(a, login)) return settle({ ...a, kind: 'api_token', login, failure: 'throttled' });
  const credential = await newest(a.db, and(eq(credentials.type, 'api_token'), eq(credentials.secretHash, hash)));
  if (!credential) return settle({ ...a, kind: 'api_token', login, failure: 'unknown-credential' });
  const failure = await checkCredentialInForce(a.db, credential, a.terminalId, a.now);
  return settle({ ...a, kind: 'api_token', login, credential, failure });
}
