import { sql } from 'drizzle-orm';
import { foreignKey, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { persons } from '../affiliation/schema.js';

/**
 * Console sessions, server-side and revocable: the cookie carries a random id, the table keeps
 * only its SHA-256. A transfer, a leave or an emergency's end revokes them (reason recorded).
 */
export const consoleSessions = pgTable(
  'console_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    personId: text('person_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
    /** Last passkey assertion in this session: sensitive acts need one less than 5 minutes old. */
    steppedUpAt: timestamp('stepped_up_at', { withTimezone: true }),
    /** The secret CSRF tokens of this session are derived from (kept hashed like the id is not needed: it never leaves unhashed in a cookie). */
    csrfSecret: text('csrf_secret').notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revokedReason: text('revoked_reason'),
  },
  (t) => [
    foreignKey({ name: 'console_sessions__person_id_fk', columns: [t.personId], foreignColumns: [persons.id] }),
    index('console_sessions__person_id_live_idx').on(t.personId).where(sql`${t.revokedAt} is null`),
  ],
);
