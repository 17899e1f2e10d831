import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * Findings, deduplicated per rule and subject: an open finding counts repeats and widens
 * [first_seen, last_seen]; once resolved, a new occurrence opens a new finding.
 */
export const findings = pgTable(
  'findings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    rule: text('rule').notNull(),
    severity: text('severity').notNull(),
    /** What makes two occurrences the same finding, e.g. person + terminal. */
    subjectKey: text('subject_key').notNull(),
    personId: text('person_id'),
    terminalId: text('terminal_id'),
    firstSeen: timestamp('first_seen', { withTimezone: true }).notNull(),
    lastSeen: timestamp('last_seen', { withTimezone: true }).notNull(),
    count: integer('count').notNull(),
    status: text('status').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
    statusChangedBy: text('status_changed_by'),
    statusChangedAt: timestamp('status_changed_at', { withTimezone: true }),
    statusNote: text('status_note'),
  },
  (t) => [
    check('findings__status_ck', sql`${t.status} in ('open', 'acknowledged', 'resolved')`),
    check('findings__severity_ck', sql`${t.severity} in ('low', 'medium', 'high', 'critical')`),
    uniqueIndex('findings__rule_subject_unresolved_uq').on(t.rule, t.subjectKey).where(sql`${t.status} <> 'resolved'`),
    index('findings__status_idx').on(t.status, t.lastSeen),
    index('findings__person_id_idx').on(t.personId),
  ],
);
