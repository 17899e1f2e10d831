import { createHash } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { and, eq, gt, isNull, lt, lte } from 'drizzle-orm';
import type { Logger } from 'pino';
import { findAffiliationAt, getPersonAt } from '../affiliation/persons.js';
import { appendAudit } from '../audit/chain.js';
import type { Db } from '../db/client.js';
import { PG_UNIQUE_VIOLATION, pgErrorInfo } from '../db/errors.js';
import { withTx } from '../db/tx.js';
import { credentialProblems } from './errors.js';
import { insertCredential, type Credential } from './issue.js';
import { credentials, webauthnChallenges } from './schema.js';
import { checkCredentialInForce, settle, type Attempt, type AuthnFailure, type AuthnSuccess } from './verify.js';

/** A challenge answers for five minutes, once. */
export const CHALLENGE_TTL_MS = 5 * 60_000;

export type Ceremony = 'registration' | 'authentication';

/** The WebAuthn relying party: the public URL's origin, and its host name as the RP ID. */
export interface RelyingParty {
  name: string;
  id: string;
  origin: string;
}

export function relyingParty(publicUrl: string): RelyingParty {
  const url = new URL(publicUrl);
  return { name: 'Sekisho', id: url.hostname, origin: url.origin };
}

type ChallengeFailure = 'challenge-unknown-or-used' | 'challenge-expired' | 'challenge-wrong-ceremony';
export type RegistrationFailure = ChallengeFailure | 'attestation-invalid' | 'credential-already-registered';

interface ConsumedChallenge {
  challenge: string;
  personId: string | null;
}

async function storeChallenge(db: Db, now: Date, ceremony: Ceremony, personId: string | null, challenge: string): Promise<string> {
  const [row] = await db
    .insert(webauthnChallenges)
    .values({ ceremony, personId, challenge, expiresAt: new Date(now.getTime() + CHALLENGE_TTL_MS) })
    .returning({ id: webauthnChallenges.id });
  return row!.id;
}

/**
 * Takes a challenge exactly once: the DELETE … RETURNING is the claim, so of any number of
 * concurrent attempts one gets the row and the rest get nothing. It runs before any
 * cryptography. On a miss, a read says why, for the audit log only.
 */
async function consumeChallenge(db: Db, id: string, ceremony: Ceremony, now: Date): Promise<ConsumedChallenge | ChallengeFailure> {
  const [row] = await db
    .delete(webauthnChallenges)
    .where(and(eq(webauthnChallenges.id, id), eq(webauthnChallenges.ceremony, ceremony), gt(webauthnChallenges.expiresAt, now)))
    .returning({ challenge: webauthnChallenges.challenge, personId: webauthnChallenges.personId });
  if (row) return row;
  const [left] = await db.select({ ceremony: webauthnChallenges.ceremony }).from(webauthnChallenges).where(eq(webauthnChallenges.id, id));
  if (!left) return 'challenge-unknown-or-used';
  return left.ceremony !== ceremony ? 'challenge-wrong-ceremony' : 'challenge-expired';
}

/** The job 'credentials.purge-expired-challenges': challenges nobody answered in time. Idempotent. */
export async function purgeExpiredChallenges({ db, now }: { db: Db; now: Date }): Promise<{ purged: number }> {
  const rows = await db.delete(webauthnChallenges).where(lte(webauthnChallenges.expiresAt, now)).returning({ id: webauthnChallenges.id });
  return { purged: rows.length };
}

const livePasskeysOf = (db: Db, personId: string) =>
  db
    .select({ id: credentials.webauthnId, transports: credentials.transports })
    .from(credentials)
    .where(and(eq(credentials.personId, personId), eq(credentials.type, 'passkey'), isNull(credentials.revokedAt)));

const descriptors = (rows: { id: string | null; transports: string[] | null }[]) =>
  rows.map((r) => ({ id: r.id!, ...(r.transports ? { transports: r.transports } : {}) }));

/**
 * The user handle the authenticator stores: stable per person, and no personal data
 * (a digest of the person id, not the id itself).
 */
const userHandle = (personId: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(createHash('sha256').update(`sekisho:webauthn-user:${personId}`).digest());

/** Options for creating a passkey for a person affiliated right now (404 / 422 otherwise). */
export async function startPasskeyRegistration(args: {
  db: Db;
  now: Date;
  rp: RelyingParty;
  personId: string;
}): Promise<{ challengeId: string; options: PublicKeyCredentialCreationOptionsJSON }> {
  const { db, now, rp, personId } = args;
  const person = await getPersonAt(db, personId, now);
  if (!(await findAffiliationAt(db, personId, now))) throw credentialProblems.notAffiliated(`person '${personId}' has no affiliation now, so no credential can be issued`);
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: person.id,
    userDisplayName: person.name,
    userID: userHandle(person.id),
    // Only live ones: a passkey revoked on a transfer must not stop the same authenticator enrolling again.
    excludeCredentials: descriptors(await livePasskeysOf(db, personId)),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
  return { challengeId: await storeChallenge(db, now, 'registration', personId, options.challenge), options };
}

/**
 * Verifies the authenticator's attestation and stores the passkey under the person's company
 * at this instant. Any failure is the generic 401; the reason is audited and the library's
 * message logged.
 */
export async function finishPasskeyRegistration(args: {
  db: Db;
  now: Date;
  rp: RelyingParty;
  logger: Logger;
  actor: string;
  challengeId: string;
  response: RegistrationResponseJSON;
}): Promise<Credential> {
  const { db, now, rp, logger, actor, challengeId, response } = args;
  const fail = async (reason: RegistrationFailure, personId: string | null): Promise<never> => {
    await withTx(db, (tx) =>
      appendAudit(tx, now, {
        actor,
        action: 'passkey.registration-failed',
        subjectType: 'person',
        subjectId: personId ?? 'unknown',
        data: { challengeId, webauthnId: response.id, reason },
      }),
    );
    throw credentialProblems.invalidCredentials('invalid credentials');
  };

  const consumed = await consumeChallenge(db, challengeId, 'registration', now);
  if (typeof consumed === 'string') return fail(consumed, null);
  const personId = consumed.personId!;

  let credential;
  try {
    const verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: consumed.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      // Asked for as 'preferred': an authenticator without user verification is still accepted.
      requireUserVerification: false,
    });
    if (!verification.verified) throw new Error('registration response not verified');
    credential = verification.registrationInfo.credential;
  } catch (err) {
    logger.warn({ challengeId, personId, webauthnError: (err as Error).message }, 'passkey registration rejected');
    return fail('attestation-invalid', personId);
  }

  try {
    return await insertCredential({
      db,
      now,
      actor,
      personId,
      type: 'passkey',
      values: {
        webauthnId: credential.id,
        publicKey: Buffer.from(credential.publicKey),
        signCount: credential.counter,
        transports: credential.transports?.length ? credential.transports : null,
      },
      audit: { webauthnId: credential.id },
    });
  } catch (err) {
    const { code, constraint } = pgErrorInfo(err);
    if (code === PG_UNIQUE_VIOLATION && constraint === 'credentials__webauthn_id_uq') return fail('credential-already-registered', personId);
    throw err;
  }
}

/**
 * Options for an assertion: for a named person, their live passkeys; without one, any
 * discoverable passkey. An unknown person gets options like anyone else (no 404 to tell a
 * login page who exists); the challenge stays bound to the person named.
 */
export async function startPasskeyAuthentication(args: {
  db: Db;
  now: Date;
  rp: RelyingParty;
  personId?: string;
}): Promise<{ challengeId: string; options: PublicKeyCredentialRequestOptionsJSON }> {
  const { db, now, rp, personId } = args;
  const allow = personId ? descriptors(await livePasskeysOf(db, personId)) : [];
  const options = await generateAuthenticationOptions({
    rpID: rp.id,
    ...(allow.length ? { allowCredentials: allow } : {}),
    userVerification: 'preferred',
  });
  return { challengeId: await storeChallenge(db, now, 'authentication', personId ?? null, options.challenge), options };
}

/**
 * Advances the stored signature counter only forwards, atomically. An authenticator that
 * counts must present a higher value than last time; one that never counts presents 0 for
 * ever. Anything else means two authenticators share the key: a clone.
 */
async function advanceCounter(db: Db, credentialId: string, presented: number): Promise<boolean> {
  const rows = await db
    .update(credentials)
    .set({ signCount: presented })
    .where(and(eq(credentials.id, credentialId), presented === 0 ? eq(credentials.signCount, 0) : lt(credentials.signCount, presented)))
    .returning({ id: credentials.id });
  return rows.length === 1;
}

/**
 * A passkey assertion at the instant of use: the challenge is consumed first, the library
 * verifies the signature, the counter advances conditionally, then the checks every
 * credential shares (revoked, holder no longer affiliated with the issuing company, terminal).
 */
export async function authenticatePasskey(
  a: Attempt & { rp: RelyingParty; logger: Logger; challengeId: string; response: AuthenticationResponseJSON },
): Promise<AuthnSuccess> {
  const login = `passkey:${a.response.id}`;
  const consumed = await consumeChallenge(a.db, a.challengeId, 'authentication', a.now);
  const [credential] = await a.db
    .select()
    .from(credentials)
    .where(and(eq(credentials.type, 'passkey'), eq(credentials.webauthnId, a.response.id)));
  const outcome = (failure: AuthnFailure | undefined, details?: Record<string, unknown>) =>
    settle({ ...a, kind: 'passkey', login, credential, failure, countFailures: false, details: { challengeId: a.challengeId, ...details } });

  if (typeof consumed === 'string') return outcome(consumed);
  if (!credential) return outcome('unknown-credential');
  if (consumed.personId !== null && consumed.personId !== credential.personId) return outcome('challenge-for-another-person');

  let presented: number;
  try {
    const verification = await verifyAuthenticationResponse({
      response: a.response,
      expectedChallenge: consumed.challenge,
      expectedOrigin: a.rp.origin,
      expectedRPID: a.rp.id,
      // The counter is judged by advanceCounter's conditional UPDATE, not here: the library's
      // read-then-compare would let two concurrent clones both pass, and could not tell the
      // audit log that the counter was the reason.
      credential: { id: credential.webauthnId!, publicKey: new Uint8Array(credential.publicKey!), counter: 0, transports: credential.transports ?? undefined },
      requireUserVerification: false,
    });
    if (!verification.verified) throw new Error('authentication response not verified');
    presented = verification.authenticationInfo.newCounter;
  } catch (err) {
    a.logger.warn({ challengeId: a.challengeId, credentialId: credential.id, webauthnError: (err as Error).message }, 'passkey assertion rejected');
    return outcome('assertion-invalid');
  }

  if (!(await advanceCounter(a.db, credential.id, presented))) {
    return outcome('counter-did-not-advance', { storedCounter: credential.signCount, presentedCounter: presented });
  }
  return outcome(await checkCredentialInForce(a.db, credential, a.terminalId, a.now));
}
