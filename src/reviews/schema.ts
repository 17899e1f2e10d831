import { sql } from 'drizzle-orm';
import { check, foreignKey, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { companyKind } from '../affiliation/schema.js';

/**
 * An access certification campaign. Its items are a snapshot of the grants in scope at its
 * start; closing applies the reviewers' decisions and `on_no_response` to the rest.
 */
export const reviewCampaigns = pgTable(
  'review_campaigns',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    scopeSystem: text('scope_system'),
    scopeEntitlement: text('scope_entitlement'),
    scopeCompanyKind: companyKind('scope_company_kind'),
    /** Named reviewer for every item; null: each item's holder's manager, else the system's owner. */
    reviewerId: text('reviewer_id'),
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    onNoResponse: text('on_no_response').notNull(),
    status: text('status').notNull(),
    itemCount: integer('item_count').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    createdBy: text('created_by').notNull(),
    /** For scheduled campaigns: schedule name + occurrence instant. Unique: one campaign per occurrence, whichever replica fires. */
    occurrenceKey: text('occurrence_key'),
    /** Reminder and escalation notices already sent, by kind ('midpoint', 'day-before', 'escalated'). */
    notices: text('notices').array().notNull().default(sql`'{}'::text[]`),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    closedBy: text('closed_by'),
    /** Outcome of closing: counts and the check that revoked items no longer permit. */
    closeReport: jsonb('close_report').$type<Record<string, unknown>>(),
  },
  (t) => [
    check('review_campaigns__status_ck', sql`${t.status} in ('open', 'closed')`),
    check('review_campaigns__on_no_response_ck', sql`${t.onNoResponse} in ('revoke', 'keep')`),
    uniqueIndex('review_campaigns__occurrence_key_uq').on(t.occurrenceKey),
    index('review_campaigns__status_due_at_idx').on(t.status, t.dueAt),
  ],
);

/**
 * One grant under review: who holds it, who reviews it, why it may be wrong, what was decided.
 * Items are never touched at close: the outcome follows from the decision and the campaign's
 * onNoResponse (reviews/outcome.ts), so closing a million items writes no item rows.
 */
export const reviewItems = pgTable(
  'review_items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    campaignId: uuid('campaign_id').notNull(),
    grantId: uuid('grant_id').notNull(),
    personId: text('person_id').notNull(),
    entitlementCode: text('entitlement_code').notNull(),
    systemCode: text('system_code').notNull(),
    reviewerId: text('reviewer_id'),
    /** Company the holder was with when granted, and at the campaign's start. */
    companyAtGrant: text('company_at_grant'),
    companyAtStart: text('company_at_start'),
    recommendations: text('recommendations').array().notNull(),
    decision: text('decision'),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    comment: text('comment'),
  },
  (t) => [
    foreignKey({ name: 'review_items__campaign_id_fk', columns: [t.campaignId], foreignColumns: [reviewCampaigns.id] }),
    check('review_items__decision_ck', sql`${t.decision} is null or ${t.decision} in ('certify', 'revoke')`),
    index('review_items__campaign_id_idx').on(t.campaignId),
    index('review_items__reviewer_open_idx').on(t.reviewerId).where(sql`${t.decision} is null`),
  ],
);

/** A recurring campaign: a cron expression in a time zone, and the campaign to create each time. */
export const reviewSchedules = pgTable('review_schedules', {
  name: text('name').primaryKey(),
  cron: text('cron').notNull(),
  timezone: text('timezone').notNull(),
  campaign: jsonb('campaign').$type<ScheduledCampaign>().notNull(),
  /** The newest occurrence a campaign was created for; the next search starts after it. */
  lastOccurrenceAt: timestamp('last_occurrence_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
});

export interface ScheduledCampaign {
  name: string;
  scope: { system?: string; entitlement?: string; companyKind?: 'wheeling' | 'retail' | 'contractor' | 'other' };
  reviewerId?: string;
  dueInDays: number;
  onNoResponse: 'revoke' | 'keep';
}
