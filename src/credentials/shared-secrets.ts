import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, eq, gt, inArray, isNotNull, isNull, lte, or, sql } from 'drizzle-orm';
import { affiliations, persons } from '../affiliation/schema.js';
import { affiliationInForceAt, peopleAt } from '../affiliation/sql.js';
import { systems } from '../access/schema.js';
import { appendAudit, type AuditEntry } from '../audit/chain.js';
import { queryRows, type Db } from '../db/client.js';
import { PG_UNIQUE_VIOLATION, pgErrorInfo } from '../db/errors.js';
import { withTx } from '../db/tx.js';
import { problems, type FieldError } from '../errors.js';
import { enqueueEvents, type OutboundEvent } from '../outbox/enqueue.js';
import type { Keyring } from './encryption.js';
import { credentialProblems } from './errors.js';
import { sharedSecretHolders, sharedSecrets } from './schema.js';

/*
 * Shared secrets: a system's common password that several people know. The value is sealed
 * with AES-256-GCM (keyring, key id stored), bound by associated data to its row and version.
 * It leaves Sekisho only in the answer to the create (when generated) and rotate calls;
 * audit records, outbox events, logs and views never carry it.
 *
 * Holders (`shared_secret_holders`) say who knows which version and under which company they
 * learned it. Rows are never deleted: a rotation adds the new version's holders and leaves the
 * old rows, with any exposure recorded on them, as history.
 */

export const sharedSecretProblems = problems({
  notFound: { code: 'credentials.shared-secret-not-found', status: 404, title: 'Shared secret not found', type: 'not-found' },
  nameTaken: { code: 'credentials.shared-secret-name-taken', status: 409, title: 'A shared secret with that name already exists in this system' },
  unknownPerson: { code: 'credentials.shared-secret-unknown-person', status: 422, title: 'Unknown person in knownBy' },
});

export type SharedSecretStatus = 'ok' | 'rotation_required';
export interface Exposure {
  personId: string;
  /** The company the secret went to with them; null when they left. */
  company: string | null;
}
export interface SharedSecretView {
  id: string;
  system: string;
  name: string;
  status: SharedSecretStatus;
  exposedTo: Exposure[];
}

/** Associated data: a sealed value opens only as this secret's this version. */
export const sharedSecretAad = (id: string, version: number): string => `shared-secret:${id}:v${version}`;

/** 24 random bytes, base64url (32 characters). */
const generateSecret = (): string => randomBytes(24).toString('base64url');

const SUBJECT = 'shared-secret';

interface Holder {
  personId: string;
  companyCode: string;
}

/**
 * The people who will know a version, each with the company they are affiliated with at `now`
 * (locked FOR SHARE against a concurrent change to the person). Unknown or unaffiliated
 * people are a 422 naming each offending entry.
 */
async function resolveHolders(tx: Db, personIds: string[], now: Date): Promise<Holder[]> {
  const ids = [...new Set(personIds)];
  if (ids.length === 0) return [];
  const found = new Set((await tx.select({ id: persons.id }).from(persons).where(inArray(persons.id, ids)).for('share')).map((p) => p.id));
  const pointers = (bad: Set<string>, message: string): FieldError[] =>
    personIds.flatMap((id, i) => (bad.has(id) ? [{ path: `/knownBy/${i}`, message }] : []));
  const unknown = new Set(ids.filter((id) => !found.has(id)));
  if (unknown.size > 0) throw sharedSecretProblems.unknownPerson(`no such person: ${[...unknown].join(', ')}`, pointers(unknown, 'unknown person'));
  const current = await tx
    .select({ personId: affiliations.personId, companyCode: affiliations.companyCode })
    .from(affiliations)
    .where(and(inArray(affiliations.personId, ids), affiliationInForceAt(now)));
  const companyOf = new Map(current.map((a) => [a.personId, a.companyCode]));
  const unaffiliated = new Set(ids.filter((id) => !companyOf.has(id)));
  if (unaffiliated.size > 0) {
    throw credentialProblems.notAffiliated(
      `no affiliation now, so the company they learn the secret under is unknown: ${[...unaffiliated].join(', ')}`,
      pointers(unaffiliated, 'no affiliation now'),
    );
  }
  return ids.map((personId) => ({ personId, companyCode: companyOf.get(personId)! }));
}

const holderRows = (secretId: string, version: number, holders: Holder[], now: Date) =>
  holders.map((h) => ({ secretId, personId: h.personId, companyCode: h.companyCode, version, since: now }));

const holderAudit = (holders: Holder[]) => holders.map((h) => ({ personId: h.personId, company: h.companyCode }));

export interface CreateSharedSecretInput {
  db: Db;
  now: Date;
  actor: string;
  keyring: Keyring;
  system: string;
  name: string;
  knownBy: string[];
  /** The value people already use; otherwise one is generated and returned once. */
  value?: string;
  maxAgeDays?: number;
}

/** Registers a shared secret at version 1; `secret` is present only when Sekisho generated it. */
export async function createSharedSecret(input: CreateSharedSecretInput): Promise<{ id: string; status: SharedSecretStatus; version: number; secret?: string }> {
  const { db, now, actor, keyring, system, name } = input;
  const generated = input.value === undefined ? generateSecret() : undefined;
  const id = randomUUID();
  const sealed = keyring.seal(input.value ?? generated!, sharedSecretAad(id, 1));
  return withTx(db, async (tx) => {
    const [sys] = await tx.select({ code: systems.code }).from(systems).where(eq(systems.code, system));
    if (!sys) throw credentialProblems.unknownSystem(`system '${system}' does not exist`, [{ path: '/system', message: 'unknown system' }]);
    const holders = await resolveHolders(tx, input.knownBy, now);
    try {
      await tx.insert(sharedSecrets).values({
        id,
        system,
        name,
        status: 'ok',
        version: 1,
        ...sealed,
        maxAgeDays: input.maxAgeDays ?? null,
        rotatedAt: now,
        createdAt: now,
      });
    } catch (err) {
      const { code, constraint } = pgErrorInfo(err);
      if (code === PG_UNIQUE_VIOLATION && constraint === 'shared_secrets__system_name_uq') {
        throw sharedSecretProblems.nameTaken(`system '${system}' already has a shared secret named '${name}'`, [{ path: '/name', message: 'already exists' }]);
      }
      throw err;
    }
    if (holders.length > 0) await tx.insert(sharedSecretHolders).values(holderRows(id, 1, holders, now));
    await appendAudit(tx, now, {
      actor,
      action: 'shared-secret.created',
      subjectType: SUBJECT,
      subjectId: id,
      data: { system, name, version: 1, keyId: sealed.keyId, maxAgeDays: input.maxAgeDays ?? null, valueSource: generated ? 'generated' : 'provided', knownBy: holderAudit(holders) },
    });
    return { id, status: 'ok' as const, version: 1, ...(generated ? { secret: generated } : {}) };
  });
}

/**
 * The secret as an administrator sees it at `now` (never its value).
 *
 * exposedTo — the rule: every person who knows the CURRENT version and either
 *  (a) has an exposure recorded on that version's holder row (the HR side effects moved them
 *      to another company, or out, while they knew it): `company` is the company they carried
 *      it to (null for a leaver), and they stay listed even if they later move back, because
 *      that company has had it; or
 *  (b) has no exposure recorded yet but is affiliated at `now` with a company other than the
 *      one they learned it under, or with none (the move is in effect, the job has not run):
 *      `company` is their company at `now` (null when none).
 * People who learned it under their present company and never moved are not listed. A
 * rotation starts a new version, so exposedTo is empty again unless its holders move.
 * `status` is `rotation_required` when stored so or when exposedTo is not empty (invariant 3:
 * a move counts from its effective instant, not from when background work gets to it).
 */
export async function getSharedSecret(args: { db: Db; now: Date; id: string }): Promise<SharedSecretView> {
  const { db, now, id } = args;
  const [secret] = await db
    .select({ id: sharedSecrets.id, system: sharedSecrets.system, name: sharedSecrets.name, status: sharedSecrets.status, version: sharedSecrets.version })
    .from(sharedSecrets)
    .where(eq(sharedSecrets.id, id));
  if (!secret) throw sharedSecretProblems.notFound(`shared secret '${id}' does not exist`);
  const h = sharedSecretHolders;
  const exposedTo = await db
    .select({
      personId: h.personId,
      company: sql<string | null>`case when ${h.exposedAt} is not null then ${h.exposedToCompany} else ${affiliations.companyCode} end`,
    })
    .from(h)
    .leftJoin(
      affiliations,
      and(
        eq(affiliations.personId, h.personId),
        isNull(affiliations.supersededAt),
        lte(affiliations.validFrom, now),
        or(isNull(affiliations.validTo), gt(affiliations.validTo, now)),
      ),
    )
    .where(and(eq(h.secretId, id), eq(h.version, secret.version), or(isNotNull(h.exposedAt), sql`${affiliations.companyCode} is distinct from ${h.companyCode}`)))
    .orderBy(asc(h.personId));
  const status: SharedSecretStatus = secret.status === 'rotation_required' || exposedTo.length > 0 ? 'rotation_required' : 'ok';
  return { id: secret.id, system: secret.system, name: secret.name, status, exposedTo };
}

export interface RotateSharedSecretInput {
  db: Db;
  now: Date;
  actor: string;
  keyring: Keyring;
  id: string;
  /**
   * Who will know the new version. Omitted: the current version's holders who still are in
   * the company they learned it under and have no exposure recorded carry over.
   */
  knownBy?: string[];
}

/**
 * Replaces the value with a generated one at version + 1 and clears the rotation flag. The row
 * is locked FOR UPDATE, so concurrent rotations queue and each gets its own version. The new
 * value is returned once.
 */
export async function rotateSharedSecret(input: RotateSharedSecretInput): Promise<{ id: string; status: 'ok'; version: number; secret: string }> {
  const { db, now, actor, keyring, id } = input;
  const secret = generateSecret();
  return withTx(db, async (tx) => {
    const [row] = await tx
      .select({ id: sharedSecrets.id, version: sharedSecrets.version, status: sharedSecrets.status, rotationReason: sharedSecrets.rotationReason })
      .from(sharedSecrets)
      .where(eq(sharedSecrets.id, id))
      .for('update');
    if (!row) throw sharedSecretProblems.notFound(`shared secret '${id}' does not exist`);
    const version = row.version + 1;
    const holders = input.knownBy ? await resolveHolders(tx, input.knownBy, now) : await stayingHolders(tx, id, row.version, now);
    const sealed = keyring.seal(secret, sharedSecretAad(id, version));
    await tx
      .update(sharedSecrets)
      .set({ version, ...sealed, status: 'ok', rotatedAt: now, rotationRequiredAt: null, rotationReason: null })
      .where(eq(sharedSecrets.id, id));
    if (holders.length > 0) await tx.insert(sharedSecretHolders).values(holderRows(id, version, holders, now));
    const data = { version, previousVersion: row.version, previousStatus: row.status, previousReason: row.rotationReason, keyId: sealed.keyId, knownBy: holderAudit(holders) };
    await enqueueEvents(tx, now, [{ type: 'shared-secret.rotated', subjectType: SUBJECT, subjectId: id, occurredAt: now, payload: { secretId: id, version } }]);
    await appendAudit(tx, now, { actor, action: 'shared-secret.rotated', subjectType: SUBJECT, subjectId: id, data });
    return { id, status: 'ok' as const, version, secret };
  });
}

/** Holders of `version` with no exposure recorded who are in the company they learned it under at `now`. */
async function stayingHolders(tx: Db, secretId: string, version: number, now: Date): Promise<Holder[]> {
  const h = sharedSecretHolders;
  return tx
    .select({ personId: h.personId, companyCode: h.companyCode })
    .from(h)
    .innerJoin(
      affiliations,
      and(
        eq(affiliations.personId, h.personId),
        eq(affiliations.companyCode, h.companyCode),
        isNull(affiliations.supersededAt),
        lte(affiliations.validFrom, now),
        or(isNull(affiliations.validTo), gt(affiliations.validTo, now)),
      ),
    )
    .where(and(eq(h.secretId, secretId), eq(h.version, version), isNull(h.exposedAt)))
    .orderBy(asc(h.personId));
}

export interface FlaggedSharedSecret {
  id: string;
  system: string;
  name: string;
  version: number;
  /** Why rotation is required now (the first reason stands while it stays required). */
  rotationReason: string;
  /** False when it already was rotation_required (a further exposure of the same version). */
  newlyRequired: boolean;
  /** People newly recorded as having taken the current version elsewhere. */
  exposed: { personId: string; learnedUnder: string; company: string | null }[];
}

/**
 * Set-based, inside the caller's transaction (HR side effects): for these people, every holder
 * row of a secret's CURRENT version that was learned under a company other than the one they
 * are affiliated with at `now` (or they have none: leavers) gets its exposure recorded
 * (exposed_at = now, exposed_to_company = their company now, null for leavers), and each such
 * secret becomes rotation_required with `reason`. A move within the same company exposes
 * nothing. An exposure is recorded once per holder row, so running it twice changes nothing.
 * A rotation committed meanwhile wins: the flag only applies to the version the exposure was
 * of (re-checked after the row lock).
 */
export async function flagSharedSecretsKnownBy(tx: Db, args: { personIds: string[]; now: Date; reason: string }): Promise<FlaggedSharedSecret[]> {
  if (args.personIds.length === 0) return [];
  const now = args.now.toISOString();
  return queryRows<FlaggedSharedSecret>(
    tx,
    sql`
    with current as (${peopleAt(args.personIds, args.now)}),
    exposed as (
      update shared_secret_holders h set exposed_at = ${now}::timestamptz, exposed_to_company = c.company_code
      from current c, shared_secrets s
      where h.person_id = c.person_id and s.id = h.secret_id and h.version = s.version
        and h.exposed_at is null and h.company_code is distinct from c.company_code
      returning h.secret_id, h.version, h.person_id, h.company_code, h.exposed_to_company
    ),
    before as (select s.id, s.status from shared_secrets s where s.id in (select secret_id from exposed)),
    flagged as (
      update shared_secrets s set
        status = 'rotation_required',
        rotation_required_at = case when s.status = 'rotation_required' then s.rotation_required_at else ${now}::timestamptz end,
        rotation_reason = case when s.status = 'rotation_required' then s.rotation_reason else ${args.reason} end
      from (select distinct secret_id, version from exposed) e
      where s.id = e.secret_id and s.version = e.version
      returning s.id, s.system, s.name, s.version, s.rotation_reason
    )
    select f.id, f.system, f.name, f.version, f.rotation_reason as "rotationReason", b.status = 'ok' as "newlyRequired",
      jsonb_agg(jsonb_build_object('personId', e.person_id, 'learnedUnder', e.company_code, 'company', e.exposed_to_company) order by e.person_id) as exposed
    from flagged f
    join before b on b.id = f.id
    join exposed e on e.secret_id = f.id
    group by f.id, f.system, f.name, f.version, f.rotation_reason, b.status
    order by f.id`,
  );
}

/**
 * The outbox event and audit entry for each flagged secret (`shared-secret.rotation-required`),
 * for the caller to write in its transaction. They name the secret and the exposure, never the value.
 */
export function rotationRequiredNotices(flagged: FlaggedSharedSecret[], actor: string, now: Date): { outbound: OutboundEvent[]; audit: AuditEntry[] } {
  return {
    outbound: flagged.map((s) => ({
      type: 'shared-secret.rotation-required',
      subjectType: SUBJECT,
      subjectId: s.id,
      occurredAt: now,
      payload: { secretId: s.id, system: s.system, name: s.name, version: s.version, reason: s.rotationReason, exposedTo: s.exposed.map((e) => ({ personId: e.personId, company: e.company })) },
    })),
    audit: flagged.map((s) => ({
      actor,
      action: 'shared-secret.rotation-required',
      subjectType: SUBJECT,
      subjectId: s.id,
      data: { system: s.system, name: s.name, version: s.version, reason: s.rotationReason, newlyRequired: s.newlyRequired, exposed: s.exposed },
    })),
  };
}

/**
 * credentials.flag-overdue-secrets: every `ok` secret with a maximum age whose last rotation is
 * more than that many days before `now` becomes rotation_required (reason `max-age`), audited
 * and announced. One conditional UPDATE: a second run (or a second replica, which waits on the
 * row locks and re-checks `status = 'ok'`) flags nothing again.
 */
export async function flagOverdueSecrets(args: { db: Db; now: Date }): Promise<{ flagged: string[] }> {
  const now = args.now.toISOString();
  return withTx(args.db, async (tx) => {
    const rows = await queryRows<{ id: string; system: string; name: string; version: number }>(
      tx,
      sql`
      update shared_secrets s set status = 'rotation_required', rotation_required_at = ${now}::timestamptz, rotation_reason = 'max-age'
      where s.status = 'ok' and s.max_age_days is not null
        and s.rotated_at + make_interval(days => s.max_age_days) < ${now}::timestamptz
      returning s.id, s.system, s.name, s.version`,
    );
    const flagged = rows.map((r) => ({ ...r, rotationReason: 'max-age', newlyRequired: true, exposed: [] }));
    const { outbound, audit } = rotationRequiredNotices(flagged, 'system:scheduler', args.now);
    await enqueueEvents(tx, args.now, outbound);
    await appendAudit(tx, args.now, audit);
    return { flagged: rows.map((r) => r.id).sort() };
  });
}
