import { bigint, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Append-only, hash-linked: hash = sha256(canonical(record without hash)), where the record
 * includes prev_hash. seq is assigned as previous + 1 under a transaction-scoped advisory lock,
 * so a deleted record shows both as a gap and as a broken link.
 */
export const auditRecords = pgTable(
  'audit_records',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [index('audit_records__subject_idx').on(t.subjectType, t.subjectId)],
);
