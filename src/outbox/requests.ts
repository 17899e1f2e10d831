import { createHash } from 'node:crypto';
import { secretKey, signWebhook } from '../hr/signature.js';
import { caepEvents, signSet } from './set.js';
import type { SigningKey } from './signing-keys.js';

/** Per-request timeout: a subscriber that hangs costs one attempt, not the worker. */
export const REQUEST_TIMEOUT_MS = 10_000;

export interface EventForDelivery {
  id: string;
  type: string;
  subjectType: string;
  subjectId: string;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

export interface SubscriberForDelivery {
  id: string;
  url: string;
  format: string;
  audience: string | null;
  /** Opens the sealed webhook secret (only when needed). */
  secret(): string;
}

export interface OutboundRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * The idempotency key of one event for one subscriber: `webhook-id` for webhooks, `jti` for
 * SETs. Derived, so it is the same on every retry and on every replica; subscribers dedupe on it.
 * Per subscriber (not just the event id) because a SET's jti names one token, and the token
 * for each audience is a different one.
 */
export function deliveryKey(eventId: string, subscriberId: string): string {
  return `msg_${createHash('sha256').update(`${eventId}/${subscriberId}`).digest('base64url').slice(0, 24)}`;
}

/** Standard Webhooks: JSON `{type, id, timestamp, data}` signed over `id.timestamp.body`. */
export function webhookRequest(e: EventForDelivery, s: SubscriberForDelivery, now: Date): OutboundRequest {
  const key = deliveryKey(e.id, s.id);
  const timestamp = Math.floor(now.getTime() / 1000);
  const body = JSON.stringify({
    type: e.type,
    id: e.id,
    timestamp: e.occurredAt.toISOString(),
    data: { subjectType: e.subjectType, subjectId: e.subjectId, ...e.payload },
  });
  return {
    url: s.url,
    headers: {
      'content-type': 'application/json',
      'webhook-id': key,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(secretKey(s.secret()), key, timestamp, body),
    },
    body,
  };
}

/**
 * RFC 8935 push delivery of a SET, or undefined when CAEP has no event for this type (the
 * delivery is then marked 'skipped').
 */
export async function setRequest(
  e: EventForDelivery,
  s: SubscriberForDelivery,
  args: { now: Date; issuer: string; key: () => Promise<SigningKey> },
): Promise<OutboundRequest | undefined> {
  const events = caepEvents(e);
  if (!events) return undefined;
  const jwt = await signSet({
    key: await args.key(),
    issuer: args.issuer,
    audience: s.audience ?? s.url,
    jti: deliveryKey(e.id, s.id),
    now: args.now,
    subjectId: e.subjectId,
    events,
  });
  return { url: s.url, headers: { 'content-type': 'application/secevent+jwt', accept: 'application/json' }, body: jwt };
}

export type SendResult = { ok: true } | { ok: false; error: string };

/**
 * POSTs one request. Success is any 2xx. Redirects are not followed (a 3xx is a failure).
 * The recorded error is the status code or the error's name and code only: never a response
 * body, a URL's query or a secret.
 */
export async function send(fetchFn: typeof fetch, r: OutboundRequest): Promise<SendResult> {
  try {
    const res = await fetchFn(r.url, { method: 'POST', headers: { 'user-agent': 'Sekisho-Outbox/1', ...r.headers }, body: r.body, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    await res.body?.cancel().catch(() => undefined);
    return res.status >= 200 && res.status < 300 ? { ok: true } : { ok: false, error: `http-${res.status}` };
  } catch (err) {
    return { ok: false, error: errorName(err) };
  }
}

export function errorName(err: unknown): string {
  const name = err instanceof Error ? err.name : 'Error';
  const code = (err as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? `${name}:${code}` : name;
}
