import { randomUUID } from 'node:crypto';
import { secretKey, signWebhook } from '../../src/hr/signature.js';
import { TEST_HR_SECRET } from './http.js';

/** Posts an HR event signed with our own signer (tests of the standardwebhooks client live in hr tests). */
export async function postHrEvent(
  baseUrl: string,
  event: unknown,
  opts: { now: Date; webhookId?: string; secret?: string; body?: string } = { now: new Date() },
): Promise<Response> {
  const id = opts.webhookId ?? `msg_${randomUUID()}`;
  const ts = Math.floor(opts.now.getTime() / 1000);
  const body = opts.body ?? JSON.stringify(event);
  return fetch(`${baseUrl}/v1/hr/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signWebhook(secretKey(opts.secret ?? TEST_HR_SECRET), id, ts, body),
    },
    body,
  });
}
