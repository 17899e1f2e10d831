import { sql } from 'drizzle-orm';
import { check, foreignKey, index, pgEnum, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const companyKind = pgEnum('company_kind', ['wheeling', 'retail', 'contractor', 'other']);
export type CompanyKind = (typeof companyKind.enumValues)[number];

export const companies = pgTable(
  'companies',
  {
    code: text('code').primaryKey(),
    name: text('name').notNull(),
    kind: companyKind('kind').notNull(),
    /** Contractors: the company whose information rules apply to the contractor's people. */
    actsFor: text('acts_for'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    foreignKey({ name: 'companies__acts_for_fk', columns: [t.actsFor], foreignColumns: [t.code] }),
    check('companies__acts_for_not_self_ck', sql`${t.actsFor} is null or ${t.actsFor} <> ${t.code}`),
  ],
);

export const persons = pgTable('persons', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  email: text('email'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
});

/**
 * Bitemporal affiliation timeline. Valid time: [valid_from, valid_to), valid_to null = open.
 * Transaction time: [recorded_at, superseded_at); rows are never updated except to close
 * their transaction time, so "what did we believe at instant K" stays answerable.
 * The exclusion constraint (custom migration) forbids two current rows of one person
 * overlapping in valid time: invariant 1 lives in the database.
 */
export const affiliations = pgTable(
  'affiliations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    personId: text('person_id').notNull(),
    companyCode: text('company_code').notNull(),
    orgUnit: text('org_unit'),
    managerId: text('manager_id'),
    validFrom: timestamp('valid_from', { withTimezone: true }).notNull(),
    validTo: timestamp('valid_to', { withTimezone: true }),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull(),
    supersededAt: timestamp('superseded_at', { withTimezone: true }),
    /** The HR event that produced this row, when one did. */
    sourceEventId: uuid('source_event_id'),
  },
  (t) => [
    foreignKey({ name: 'affiliations__person_id_fk', columns: [t.personId], foreignColumns: [persons.id] }),
    foreignKey({ name: 'affiliations__company_code_fk', columns: [t.companyCode], foreignColumns: [companies.code] }),
    check('affiliations__valid_interval_ck', sql`${t.validTo} is null or ${t.validTo} > ${t.validFrom}`),
    check('affiliations__recorded_interval_ck', sql`${t.supersededAt} is null or ${t.supersededAt} >= ${t.recordedAt}`),
    index('affiliations__person_id_valid_from_idx').on(t.personId, t.validFrom).where(sql`${t.supersededAt} is null`),
    index('affiliations__company_code_idx').on(t.companyCode).where(sql`${t.supersededAt} is null`),
  ],
);
