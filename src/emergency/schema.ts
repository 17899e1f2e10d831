import { sql } from 'drizzle-orm';
import { check, foreignKey, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { persons } from '../affiliation/schema.js';

/**
 * Declared emergencies. Active over [started_at, coalesce(ended_at, expires_at)): expiry needs
 * no job, decisions compare the instant. Pending ones (awaiting a second approver) grant nothing.
 */
export const emergencies = pgTable(
  'emergencies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    areas: text('areas').array().notNull(),
    reason: text('reason').notNull(),
    status: text('status').notNull(),
    declaredBy: text('declared_by').notNull(),
    declaredAt: timestamp('declared_at', { withTimezone: true }).notNull(),
    approvedBy: text('approved_by'),
    startedAt: timestamp('started_at', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    /** Bound on extensions: expires_at may never pass this. */
    latestExpiry: timestamp('latest_expiry', { withTimezone: true }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    endedBy: text('ended_by'),
    endReason: text('end_reason'),
    /** Side effects of the end (sessions, notifications, report) done: set once, by whoever ends it. */
    closedOutAt: timestamp('closed_out_at', { withTimezone: true }),
  },
  (t) => [
    check('emergencies__status_ck', sql`${t.status} in ('pending_approval', 'active', 'ended')`),
    check('emergencies__active_started_ck', sql`${t.status} = 'pending_approval' or ${t.startedAt} is not null`),
    check('emergencies__expiry_bound_ck', sql`${t.expiresAt} <= ${t.latestExpiry}`),
    index('emergencies__status_idx').on(t.status),
  ],
);

/** People pre-approved for disaster support. Membership alone grants nothing. */
export const emergencyRoster = pgTable(
  'emergency_roster',
  {
    personId: text('person_id').primaryKey(),
    areas: text('areas').array().notNull(),
    trainedAt: timestamp('trained_at', { withTimezone: true }),
    contractRef: text('contract_ref'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [foreignKey({ name: 'emergency_roster__person_id_fk', columns: [t.personId], foreignColumns: [persons.id] })],
);

/** Every transition of an emergency, for its timeline (the audit chain holds them too). */
export const emergencyTransitions = pgTable(
  'emergency_transitions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    emergencyId: uuid('emergency_id').notNull(),
    kind: text('kind').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    actor: text('actor').notNull(),
    detail: text('detail'),
  },
  (t) => [
    foreignKey({ name: 'emergency_transitions__emergency_id_fk', columns: [t.emergencyId], foreignColumns: [emergencies.id] }),
    index('emergency_transitions__emergency_id_idx').on(t.emergencyId, t.at),
  ],
);
