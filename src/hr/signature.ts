import { createHmac, timingSafeEqual } from 'node:crypto';
import { hrProblems } from './errors.js';

/** Standard Webhooks: how far a webhook-timestamp may be from our clock. */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

export interface WebhookHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}

export function signWebhook(key: Buffer, id: string, timestamp: number, body: string | Buffer): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/**
 * Verifies a Standard Webhooks signature over the raw body. Any one valid `v1` signature in
 * the space-separated header is enough (senders rotating secrets send two). Every failure
 * is the same 401 outward; `reason` is for the log.
 */
export function verifyWebhook(key: Buffer, h: WebhookHeaders, rawBody: Buffer, now: Date): { webhookId: string } {
  const fail = (reason: string) => {
    const e = hrProblems.badSignature('the webhook signature, timestamp or id is missing or not valid');
    Object.assign(e, { reason });
    return e;
  };
  if (!h.id || !h.timestamp || !h.signature) throw fail('missing header');
  if (h.id.length > 256) throw fail('webhook-id too long');
  if (!/^\d{1,12}$/.test(h.timestamp)) throw fail('malformed timestamp');
  const ts = Number(h.timestamp);
  if (Math.abs(now.getTime() / 1000 - ts) > TIMESTAMP_TOLERANCE_SECONDS) throw fail('timestamp outside tolerance');

  const expected = Buffer.from(signWebhook(key, h.id, ts, rawBody).slice(3), 'base64');
  let matched = false;
  for (const entry of h.signature.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    // Check every entry (no early exit) so timing says nothing about which one matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched) throw fail('no matching signature');
  return { webhookId: h.id };
}
