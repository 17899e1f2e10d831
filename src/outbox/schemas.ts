import { z } from 'zod';
import { instantOut } from '../http/zod-types.js';
import { SET_EVENT_TYPES } from './set.js';

const httpUrl = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine((u) => !new URL(u).username && !new URL(u).password, 'must not carry credentials');

export const eventType = z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/, 'must look like credential.revoked');

export const createSubscriberBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    url: httpUrl,
    format: z.enum(['webhook', 'set']).default('webhook'),
    /** Event types to receive; omitted or empty = all (for 'set': all CAEP-mapped types). */
    eventTypes: z.array(eventType).max(50).default([]),
    /** SET `aud`; defaults to the URL. Only for format 'set'. */
    audience: z.string().min(1).max(2048).optional(),
  })
  .superRefine((b, ctx) => {
    if (b.format !== 'set' && b.audience !== undefined) ctx.addIssue({ code: 'custom', path: ['audience'], message: "only for format 'set'" });
    if (b.format === 'set') {
      b.eventTypes.forEach((t, i) => {
        if (!(SET_EVENT_TYPES as readonly string[]).includes(t))
          ctx.addIssue({ code: 'custom', path: ['eventTypes', i], message: `SETs carry only ${SET_EVENT_TYPES.join(', ')}` });
      });
    }
  });

export const idParams = z.strictObject({ id: z.uuid() });

export const subscriberOut = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  format: z.enum(['webhook', 'set']),
  eventTypes: z.array(z.string()),
  audience: z.string().nullable(),
  active: z.boolean(),
  createdAt: instantOut,
});

/** Created: the subscriber plus, this once, its Standard Webhooks secret. */
export const subscriberCreatedOut = subscriberOut.extend({ secret: z.string() });

export const deliveriesOut = z.object({
  eventId: z.string(),
  type: z.string(),
  items: z.array(
    z.object({
      subscriberId: z.string(),
      subscriberName: z.string(),
      idempotencyKey: z.string(),
      status: z.enum(['pending', 'delivered', 'dead', 'skipped', 'cancelled']),
      attempts: z.number().int(),
      nextAttemptAt: instantOut.nullable(),
      lastError: z.string().nullable(),
      deliveredAt: instantOut.nullable(),
    }),
  ),
});

export const jwksOut = z.object({ keys: z.array(z.record(z.string(), z.unknown())) });
