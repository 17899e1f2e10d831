import { sql } from 'drizzle-orm';
import { boolean, check, foreignKey, index, pgEnum, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { companies, companyKind, persons } from '../affiliation/schema.js';

export const fieldClass = pgEnum('field_class', ['network.public', 'customer.retailer-only', 'network.internal']);
export type FieldClass = (typeof fieldClass.enumValues)[number];

/** A connected business system whose fields Sekisho decides on. */
export const systems = pgTable(
  'systems',
  {
    code: text('code').primaryKey(),
    name: text('name').notNull(),
    ownerCompany: text('owner_company'),
    /** Person who owns the system (reviews fall back to them). */
    ownerPersonId: text('owner_person_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    foreignKey({ name: 'systems__owner_company_fk', columns: [t.ownerCompany], foreignColumns: [companies.code] }),
    foreignKey({ name: 'systems__owner_person_id_fk', columns: [t.ownerPersonId], foreignColumns: [persons.id] }),
  ],
);

export const systemFields = pgTable(
  'system_fields',
  {
    systemCode: text('system_code').notNull(),
    field: text('field').notNull(),
    class: fieldClass('class').notNull(),
    /** Part of the set roster members may see during a declared emergency. */
    inEmergencySet: boolean('in_emergency_set').notNull().default(false),
  },
  (t) => [
    primaryKey({ name: 'system_fields__pk', columns: [t.systemCode, t.field] }),
    foreignKey({ name: 'system_fields__system_code_fk', columns: [t.systemCode], foreignColumns: [systems.code] }).onDelete('cascade'),
  ],
);

export const entitlements = pgTable(
  'entitlements',
  {
    code: text('code').primaryKey(),
    systemCode: text('system_code').notNull(),
    name: text('name').notNull(),
    allowedCompanyKinds: companyKind('allowed_company_kinds').array().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [foreignKey({ name: 'entitlements__system_code_fk', columns: [t.systemCode], foreignColumns: [systems.code] })],
);

/** A person's entitlement over [valid_from, valid_to); revoked grants stay as history. */
export const grants = pgTable(
  'grants',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    personId: text('person_id').notNull(),
    entitlementCode: text('entitlement_code').notNull(),
    validFrom: timestamp('valid_from', { withTimezone: true }).notNull(),
    validTo: timestamp('valid_to', { withTimezone: true }),
    reason: text('reason').notNull(),
    grantedBy: text('granted_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revokedBy: text('revoked_by'),
    revokedReason: text('revoked_reason'),
  },
  (t) => [
    foreignKey({ name: 'grants__person_id_fk', columns: [t.personId], foreignColumns: [persons.id] }),
    foreignKey({ name: 'grants__entitlement_code_fk', columns: [t.entitlementCode], foreignColumns: [entitlements.code] }),
    check('grants__valid_interval_ck', sql`${t.validTo} is null or ${t.validTo} > ${t.validFrom}`),
    index('grants__person_id_idx').on(t.personId).where(sql`${t.revokedAt} is null`),
    index('grants__entitlement_code_idx').on(t.entitlementCode).where(sql`${t.revokedAt} is null`),
  ],
);

/**
 * Birthright: what everyone of a company (optionally of one org unit) holds by virtue of
 * working there. Provisioned when a hire or transfer takes effect, through the firewall check.
 */
export const birthrightRules = pgTable(
  'birthright_rules',
  {
    code: text('code').primaryKey(),
    companyCode: text('company_code').notNull(),
    /** Null: the whole company. */
    orgUnit: text('org_unit'),
    entitlementCode: text('entitlement_code').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    foreignKey({ name: 'birthright_rules__company_code_fk', columns: [t.companyCode], foreignColumns: [companies.code] }),
    foreignKey({ name: 'birthright_rules__entitlement_code_fk', columns: [t.entitlementCode], foreignColumns: [entitlements.code] }).onDelete('cascade'),
    index('birthright_rules__company_code_idx').on(t.companyCode),
  ],
);

/** A terminal, configured and placed for one company at one site. */
export const terminals = pgTable(
  'terminals',
  {
    id: text('id').primaryKey(),
    companyCode: text('company_code').notNull(),
    site: text('site').notNull(),
    active: boolean('active').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [foreignKey({ name: 'terminals__company_code_fk', columns: [t.companyCode], foreignColumns: [companies.code] })],
);

/**
 * Every decision, compactly: what detection and the post-emergency report read. Written in
 * batches (group commit); each batch is covered by one audit record carrying its digest.
 */
export const decisionLog = pgTable(
  'decision_log',
  {
    id: uuid('id').primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    personId: text('person_id').notNull(),
    terminalId: text('terminal_id'),
    system: text('system').notNull(),
    customerId: text('customer_id'),
    retailer: text('retailer'),
    area: text('area'),
    decision: text('decision').notNull(),
    allowed: text('allowed').array().notNull(),
    masked: text('masked').array().notNull(),
    reasons: text('reasons').array().notNull(),
    emergencyId: uuid('emergency_id'),
    caller: text('caller').notNull(),
  },
  (t) => [
    index('decision_log__at_idx').on(t.at),
    index('decision_log__person_id_at_idx').on(t.personId, t.at),
    index('decision_log__emergency_id_idx').on(t.emergencyId).where(sql`${t.emergencyId} is not null`),
  ],
);
