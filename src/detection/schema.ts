import { sql } from 'drizzle-orm';
import { bigint, boolean, check, date, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { companyKind } from '../affiliation/schema.js';

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

/**
 * One accepted POST /v1/access-logs request. `idempotency_key` (the Idempotency-Key header)
 * makes a re-delivery answer the same without storing anything twice; `scanned_at` is set when
 * the rules job has turned the batch's events into findings, so every batch is scanned exactly
 * once whatever order concurrent intakes commit in.
 */
export const accessLogBatches = pgTable(
  'access_log_batches',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    idempotencyKey: text('idempotency_key'),
    /** SHA-256 (hex) of the request body as received. */
    bodySha256: text('body_sha256').notNull(),
    accepted: integer('accepted').notNull(),
    /** Earliest and latest event instant: bounds the partitions a scan of the batch reads. */
    minAt: timestamp('min_at', { withTimezone: true }).notNull(),
    maxAt: timestamp('max_at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    receivedBy: text('received_by').notNull(),
    scannedAt: timestamp('scanned_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('access_log_batches__idempotency_key_uq').on(t.idempotencyKey),
    index('access_log_batches__unscanned_idx').on(t.id).where(sql`${t.scannedAt} is null`),
  ],
);

/**
 * Access events from the connected systems' logs, as logged plus what they meant at their
 * instant (resolved on intake, set-based): the viewer (as logged, or the holder of the login),
 * the company they were affiliated with at `at` and the company whose rules applied, the
 * terminal's company and site, the credential the login was, the emergency that covered it, the
 * fields that were non-public to the viewer, and the rules the event breached.
 *
 * Partitioned by month on `at` (declarative partitioning, written into the migration by hand:
 * drizzle-kit does not emit it), so retention drops whole partitions. No foreign keys: the log
 * is evidence and keeps what was logged even when it names nothing Sekisho knows.
 */
export const accessEvents = pgTable(
  'access_events',
  {
    at: timestamp('at', { withTimezone: true }).notNull(),
    batchId: bigint('batch_id', { mode: 'number' }).notNull(),
    /** Position in the batch (0-based): (batch_id, seq) names an event. */
    seq: integer('seq').notNull(),
    /** The viewer, not of the wheeling company at `at`, saw fields non-public to them. */
    nonpublic: boolean('nonpublic').notNull(),
    credentialId: uuid('credential_id'),
    emergencyId: uuid('emergency_id'),
    sharedSecretId: uuid('shared_secret_id'),
    system: text('system').notNull(),
    action: text('action').notNull(),
    /** The viewer: personId as logged, else the holder of the login at `at`. */
    personId: text('person_id'),
    loginId: text('login_id'),
    terminalId: text('terminal_id'),
    customerId: text('customer_id'),
    retailer: text('retailer'),
    area: text('area'),
    fields: text('fields').array(),
    /** The viewer's company at `at`, and the company and kind whose firewall rules applied. */
    companyCode: text('company_code'),
    rulesCompany: text('rules_company'),
    rulesKind: companyKind('rules_kind'),
    terminalCompany: text('terminal_company'),
    site: text('site'),
    nonpublicFields: text('nonpublic_fields').array(),
    /** Rule codes the event breached on its own; null when none. */
    breaches: text('breaches').array(),
  },
  (t) => [
    // The batch's events, for the rules job: a BRIN index (batches are written contiguously), not
    // a b-tree primary key, which would cost intake a sorted insertion per event for nothing:
    // a batch is stored once, in one transaction with its batch row.
    index('access_events__batch_id_brin').using('brin', t.batchId),
    index('access_events__nonpublic_at_idx').on(t.at).where(sql`${t.nonpublic}`),
    index('access_events__nonpublic_customer_id_at_idx').on(t.customerId, t.at).where(sql`${t.nonpublic}`),
    index('access_events__breaches_batch_id_idx').on(t.batchId).where(sql`${t.breaches} is not null`),
  ],
);

/**
 * bulk-access, kept incrementally by the rules job (so intake needs no index by person): per
 * person and calendar day (Asia/Tokyo), the events scanned so far and, until the day passes the
 * threshold, the distinct customers seen. Once it passes (`over`), the customers move to
 * access_bulk_customers, which then counts them exactly.
 */
export const accessPersonDays = pgTable(
  'access_person_days',
  {
    personId: text('person_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    events: integer('events').notNull(),
    /** Distinct customers of the day while `over` is false (at most the threshold); empty after. */
    customers: text('customers').array().notNull(),
    over: boolean('over').notNull(),
    firstAt: timestamp('first_at', { withTimezone: true }).notNull(),
    lastAt: timestamp('last_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ name: 'access_person_days__pk', columns: [t.personId, t.day] }), index('access_person_days__day_idx').on(t.day)],
);

/** The distinct customers of the person-days over the bulk-access threshold. */
export const accessBulkCustomers = pgTable(
  'access_bulk_customers',
  {
    personId: text('person_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    customerId: text('customer_id').notNull(),
  },
  (t) => [primaryKey({ name: 'access_bulk_customers__pk', columns: [t.personId, t.day, t.customerId] }), index('access_bulk_customers__day_idx').on(t.day)],
);
