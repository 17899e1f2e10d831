import { sql } from 'drizzle-orm';
import { bigint, check, foreignKey, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { bytea } from '../db/types.js';
import { companies, persons } from '../affiliation/schema.js';

export const SCOPES = ['hr', 'admin', 'emergency', 'decide', 'authn', 'logs', 'reviews', 'audit'] as const;
export type Scope = (typeof SCOPES)[number];


/** Machine clients' bearer tokens. Only the SHA-256 of the token is stored (tokens are 256-bit random). */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    scopes: text('scopes').array().$type<Scope[]>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('api_tokens__token_hash_uq').on(t.tokenHash)],
);

export const credentialType = pgEnum('credential_type', ['password', 'badge', 'passkey', 'api_token']);
export type CredentialType = (typeof credentialType.enumValues)[number];

/**
 * Every credential a person holds, with the company it was issued under (invariant 3: it
 * authenticates only while the holder is affiliated with that company). One table, so a
 * mover's revocation is one set-based UPDATE whatever the credential types.
 */
export const credentials = pgTable(
  'credentials',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    personId: text('person_id').notNull(),
    type: credentialType('type').notNull(),
    companyCode: text('company_code').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    createdBy: text('created_by').notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revokedReason: text('revoked_reason'),
    /** password: the connected system and the login id in it. */
    system: text('system'),
    loginId: text('login_id'),
    /** password: scrypt hash (see passwords.ts); api_token: SHA-256 of the token. */
    secretHash: text('secret_hash'),
    badgeId: text('badge_id'),
    /** passkey: WebAuthn credential id (base64url), COSE public key, signature counter. */
    webauthnId: text('webauthn_id'),
    publicKey: bytea('public_key'),
    signCount: bigint('sign_count', { mode: 'number' }),
    transports: text('transports').array(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  },
  (t) => [
    foreignKey({ name: 'credentials__person_id_fk', columns: [t.personId], foreignColumns: [persons.id] }),
    foreignKey({ name: 'credentials__company_code_fk', columns: [t.companyCode], foreignColumns: [companies.code] }),
    check(
      'credentials__type_fields_ck',
      sql`(${t.type} <> 'password' or (${t.system} is not null and ${t.loginId} is not null and ${t.secretHash} is not null))
      and (${t.type} <> 'badge' or ${t.badgeId} is not null)
      and (${t.type} <> 'passkey' or (${t.webauthnId} is not null and ${t.publicKey} is not null and ${t.signCount} is not null))
      and (${t.type} <> 'api_token' or ${t.secretHash} is not null)`,
    ),
    // One live credential per login, badge, passkey and token; revoked ones stay as history.
    uniqueIndex('credentials__system_login_id_active_uq').on(t.system, t.loginId).where(sql`${t.type} = 'password' and ${t.revokedAt} is null`),
    uniqueIndex('credentials__badge_id_active_uq').on(t.badgeId).where(sql`${t.type} = 'badge' and ${t.revokedAt} is null`),
    uniqueIndex('credentials__webauthn_id_uq').on(t.webauthnId),
    uniqueIndex('credentials__token_hash_active_uq').on(t.secretHash).where(sql`${t.type} = 'api_token' and ${t.revokedAt} is null`),
    index('credentials__person_id_active_idx').on(t.personId).where(sql`${t.revokedAt} is null`),
  ],
);

/** Single-use WebAuthn challenges, bound to their ceremony and person, consumed with DELETE … RETURNING. */
export const webauthnChallenges = pgTable(
  'webauthn_challenges',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ceremony: text('ceremony').notNull(),
    personId: text('person_id'),
    challenge: text('challenge').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    check('webauthn_challenges__ceremony_ck', sql`${t.ceremony} in ('registration', 'authentication')`),
    index('webauthn_challenges__expires_at_idx').on(t.expiresAt),
  ],
);

/** Failed-attempt counters for guessing throttles, shared by every replica. */
export const authnThrottles = pgTable('authn_throttles', {
  key: text('key').primaryKey(),
  windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
  failures: integer('failures').notNull(),
  lockedUntil: timestamp('locked_until', { withTimezone: true }),
});

/**
 * Secrets shared among several people (a system's common admin password). Stored encrypted
 * with AES-256-GCM; key_id names the key so keys can be rotated.
 */
export const sharedSecrets = pgTable(
  'shared_secrets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    system: text('system').notNull(),
    name: text('name').notNull(),
    status: text('status').notNull(),
    version: integer('version').notNull(),
    ciphertext: bytea('ciphertext').notNull(),
    iv: bytea('iv').notNull(),
    authTag: bytea('auth_tag').notNull(),
    keyId: text('key_id').notNull(),
    maxAgeDays: integer('max_age_days'),
    rotatedAt: timestamp('rotated_at', { withTimezone: true }).notNull(),
    rotationRequiredAt: timestamp('rotation_required_at', { withTimezone: true }),
    rotationReason: text('rotation_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    check('shared_secrets__status_ck', sql`${t.status} in ('ok', 'rotation_required')`),
    uniqueIndex('shared_secrets__system_name_uq').on(t.system, t.name),
  ],
);

/**
 * Who knows which version of a shared secret, and under which company they learned it.
 * Rows are history: a rotation ends the holders' knowledge of the old version (until_version).
 */
export const sharedSecretHolders = pgTable(
  'shared_secret_holders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    secretId: uuid('secret_id').notNull(),
    personId: text('person_id').notNull(),
    companyCode: text('company_code').notNull(),
    version: integer('version').notNull(),
    since: timestamp('since', { withTimezone: true }).notNull(),
    /** Set when the holder moved company while knowing this version. */
    exposedAt: timestamp('exposed_at', { withTimezone: true }),
    exposedToCompany: text('exposed_to_company'),
  },
  (t) => [
    foreignKey({ name: 'shared_secret_holders__secret_id_fk', columns: [t.secretId], foreignColumns: [sharedSecrets.id] }),
    foreignKey({ name: 'shared_secret_holders__person_id_fk', columns: [t.personId], foreignColumns: [persons.id] }),
    index('shared_secret_holders__person_id_idx').on(t.personId),
    uniqueIndex('shared_secret_holders__secret_person_version_uq').on(t.secretId, t.personId, t.version),
  ],
);
