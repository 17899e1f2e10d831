import { sql } from 'drizzle-orm';
import { boolean, foreignKey, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { bytea } from '../db/types.js';


/** Outbound events, written in the same transaction as the change they announce. */
export const outboxEvents = pgTable(
  'outbox_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    type: text('type').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('outbox_events__created_at_idx').on(t.createdAt)],
);

/** Connected systems that receive events: Standard Webhooks JSON, or SSF/CAEP Security Event Tokens. */
export const subscribers = pgTable('subscribers', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  url: text('url').notNull(),
  format: text('format').notNull(),
  /** Event types to receive; empty = all. */
  eventTypes: text('event_types').array().notNull(),
  /** Webhook signing secret, encrypted like shared secrets. */
  secretCiphertext: bytea('secret_ciphertext').notNull(),
  secretIv: bytea('secret_iv').notNull(),
  secretAuthTag: bytea('secret_auth_tag').notNull(),
  secretKeyId: text('secret_key_id').notNull(),
  /** SET audience (format "set"). */
  audience: text('audience'),
  active: boolean('active').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
});

/** One row per event and subscriber: the delivery's state machine. */
export const deliveries = pgTable(
  'deliveries',
  {
    eventId: uuid('event_id').notNull(),
    subscriberId: uuid('subscriber_id').notNull(),
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull(),
    /** A worker's claim: nobody else attempts it before this instant. */
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    lastError: text('last_error'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ name: 'deliveries__pk', columns: [t.eventId, t.subscriberId] }),
    foreignKey({ name: 'deliveries__event_id_fk', columns: [t.eventId], foreignColumns: [outboxEvents.id] }),
    foreignKey({ name: 'deliveries__subscriber_id_fk', columns: [t.subscriberId], foreignColumns: [subscribers.id] }),
    index('deliveries__due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
  ],
);

/** Keys that sign Security Event Tokens; public halves are published at /.well-known/jwks.json. */
export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  alg: text('alg').notNull(),
  publicJwk: jsonb('public_jwk').$type<Record<string, unknown>>().notNull(),
  privateCiphertext: bytea('private_ciphertext').notNull(),
  privateIv: bytea('private_iv').notNull(),
  privateAuthTag: bytea('private_auth_tag').notNull(),
  privateKeyId: text('private_key_id').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  retiredAt: timestamp('retired_at', { withTimezone: true }),
});
