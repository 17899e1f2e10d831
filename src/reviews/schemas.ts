import { z } from 'zod';
import { companyKind } from '../affiliation/schema.js';
import { instant, instantOut, orgId } from '../http/zod-types.js';

const scope = z
  .strictObject({ system: orgId.optional(), entitlement: orgId.optional(), companyKind: z.enum(companyKind.enumValues).optional() })
  .refine((s) => s.system || s.entitlement || s.companyKind, 'name at least one of system, entitlement, companyKind');

const campaignCommon = {
  name: z.string().trim().min(1).max(200),
  scope,
  reviewerId: orgId.optional(),
  onNoResponse: z.enum(['revoke', 'keep']),
};

export const campaignBody = z.strictObject({ ...campaignCommon, dueAt: instant });
export const idParams = z.strictObject({ id: z.uuid() });
export const nameParams = z.strictObject({ name: orgId });
export const itemsQuery = z.strictObject({ after: z.uuid().optional(), limit: z.coerce.number().int().min(1).max(1000).default(500) });
export const reportQuery = z.strictObject({ format: z.enum(['json', 'csv']).default('json') });
export const decisionBody = z.strictObject({ decision: z.enum(['certify', 'revoke']), comment: z.string().max(2000).optional() });

export const scheduleBody = z.strictObject({
  cron: z.string().max(100).refine((c) => c.trim().split(/\s+/).length === 5, 'five fields: minute hour day-of-month month day-of-week'),
  timezone: z
    .string()
    .default('Asia/Tokyo')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'an IANA time zone such as Asia/Tokyo'),
  campaign: z.strictObject({ ...campaignCommon, dueInDays: z.number().int().min(1).max(365) }),
});

export const campaignOut = z.object({
  id: z.string(),
  name: z.string(),
  scope: z.object({ system: z.string().optional(), entitlement: z.string().optional(), companyKind: z.string().optional() }),
  reviewerId: z.string().nullable(),
  dueAt: instantOut,
  onNoResponse: z.enum(['revoke', 'keep']),
  status: z.enum(['open', 'closed']),
  itemCount: z.number(),
  createdAt: instantOut,
  closedAt: instantOut.nullable(),
  closeReport: z.record(z.string(), z.unknown()).nullable(),
});

export const itemOut = z.object({
  id: z.string(),
  grantId: z.string(),
  personId: z.string(),
  entitlement: z.string(),
  system: z.string(),
  reviewerId: z.string().nullable(),
  companyAtGrant: z.string().nullable(),
  companyAtStart: z.string().nullable(),
  recommendation: z.array(z.string()),
  decision: z.enum(['certify', 'revoke']).nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: instantOut.nullable(),
  comment: z.string().nullable(),
  outcome: z.enum(['kept', 'revoked']).nullable(),
  /** For a revoked item: confirmed through the decision engine to no longer permit. */
  verified: z.boolean().nullable(),
});

export const scheduleOut = z.object({
  name: z.string(),
  cron: z.string(),
  timezone: z.string(),
  campaign: z.record(z.string(), z.unknown()),
  lastOccurrenceAt: instantOut.nullable(),
});
