import { z } from 'zod';
import { orgId } from '../http/zod-types.js';

const fieldName = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'field names are 1–64 characters of A-Z a-z 0-9 . _ : -');

export const decisionRequest = z.strictObject({
  personId: orgId,
  terminalId: orgId.optional(),
  system: orgId,
  record: z.strictObject({
    customerId: z.string().min(1).max(128).optional(),
    retailer: orgId.nullable().optional(),
    area: orgId.nullable().optional(),
  }),
  fields: z.array(fieldName).min(1).max(500),
});

export const decisionOut = z.object({
  decision: z.enum(['permit', 'deny']),
  fields: z.record(z.string(), z.enum(['allow', 'mask'])),
  reasons: z.array(z.string()),
  decisionId: z.uuid(),
});

export const MAX_BATCH = 10_000;
export const decisionBatchRequest = z.strictObject({ items: z.array(decisionRequest).min(1).max(MAX_BATCH) });
export const decisionBatchOut = z.object({ items: z.array(decisionOut) });
