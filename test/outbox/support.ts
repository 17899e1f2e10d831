import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { vi } from 'vitest';
import { asc, eq, min, and } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { withTx } from '../../src/db/tx.js';
import { enqueueEvents, type OutboundEvent } from '../../src/outbox/enqueue.js';
import { deliveries } from '../../src/outbox/schema.js';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The simulated instant the request arrived at (the test's clock, not the wall clock). */
  at: Date;
  /** What the subscriber answered. */
  status: number;
}

export interface FakeSubscriber {
  url: string;
  received: Received[];
  /** Unique idempotency keys (webhook-id) among 2xx-answered requests. */
  acceptedIds(): Set<string>;
  close(): Promise<void>;
}

/**
 * A connected system on a loopback port that records every request. `respond` picks the
 * status code (default 200); `clock` is the simulated instant the test is at.
 */
export async function startFakeSubscriber(opts: { clock?: () => Date; respond?: (r: Omit<Received, 'status'>) => number } = {}): Promise<FakeSubscriber> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: opts.clock?.() ?? new Date(0) };
      const status = opts.respond?.(r) ?? 200;
      received.push({ ...r, status });
      res.writeHead(status, { 'content-type': 'application/json' }).end(status < 300 ? '{}' : '{"err":"unavailable","description":"secret-looking body that must not be recorded"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    acceptedIds: () => new Set(received.filter((r) => r.status < 300).map((r) => String(r.headers['webhook-id']))),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface WebhookMessage {
  type: string;
  id: string;
  timestamp: string;
  data: Record<string, unknown> & { subjectType: string; subjectId: string };
}

/** Verifies like a subscriber whose clock agrees with ours: standardwebhooks checks the timestamp against Date.now(). */
export function verifyWebhook(secret: string, r: Received): WebhookMessage {
  vi.setSystemTime(Number(r.headers['webhook-timestamp']) * 1000);
  try {
    return new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as WebhookMessage;
  } finally {
    vi.useRealTimers();
  }
}

/** Commits `n` outbound events (as a mover's transaction would) and returns their ids. */
export async function commitEvents(db: Db, now: Date, n: number, type = 'credential.revoked'): Promise<void> {
  const events: OutboundEvent[] = Array.from({ length: n }, (_, i) => ({
    type,
    subjectType: 'person',
    subjectId: `P-${i}`,
    occurredAt: now,
    payload: { credentialId: `C-${i}`, credentialType: 'password', company: 'nw', reason: 'transfer' },
  }));
  await withTx(db, (tx) => enqueueEvents(tx, now, events));
}

export async function deliveriesOf(db: Db, subscriberId: string) {
  return db.select().from(deliveries).where(eq(deliveries.subscriberId, subscriberId)).orderBy(asc(deliveries.eventId));
}

/** The earliest instant any pending delivery of this subscriber is due, if any. */
export async function nextDue(db: Db, subscriberId: string): Promise<Date | undefined> {
  const [row] = await db
    .select({ at: min(deliveries.nextAttemptAt) })
    .from(deliveries)
    .where(and(eq(deliveries.subscriberId, subscriberId), eq(deliveries.status, 'pending')));
  return row?.at ?? undefined;
}
