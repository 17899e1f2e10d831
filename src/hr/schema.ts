import { sql } from 'drizzle-orm';
import { index, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const hrEventType = pgEnum('hr_event_type', ['person.hired', 'person.transferred', 'person.left']);
export type HrEventType = (typeof hrEventType.enumValues)[number];

/**
 * Every accepted HR event, kept forever. The timeline change is written when the event is
 * accepted (so as-of reads see it at its instant); side effects run once the instant has
 * come, claimed by one worker (applied_at marks them done).
 */
export const hrEvents = pgTable(
  'hr_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    webhookId: text('webhook_id').notNull(),
    type: hrEventType('type').notNull(),
    personId: text('person_id').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    effectiveAt: timestamp('effective_at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    appliedAt: timestamp('applied_at', { withTimezone: true }),
    /** What the first delivery was told: "applied" | "scheduled"; repeated deliveries get the same. */
    initialStatus: text('initial_status').notNull(),
  },
  (t) => [
    uniqueIndex('hr_events__webhook_id_uq').on(t.webhookId),
    index('hr_events__due_idx').on(t.effectiveAt).where(sql`${t.appliedAt} is null`),
    index('hr_events__person_id_idx').on(t.personId),
  ],
);
