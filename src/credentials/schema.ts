import { pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

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
