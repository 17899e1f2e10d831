import { performance } from 'node:perf_hooks';
import { inArray, sql } from 'drizzle-orm';
import { appendAudit } from '../audit/chain.js';
import type { Keyring } from '../credentials/encryption.js';
import { queryRows, type Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { deliveryKey, REQUEST_TIMEOUT_MS, send, setRequest, webhookRequest, type EventForDelivery, type OutboundRequest, type SubscriberForDelivery } from './requests.js';
import { outboxEvents, subscribers } from './schema.js';
import { ensureSigningKey, type SigningKey } from './signing-keys.js';
import { secretAad } from './subscribers.js';

/**
 * Delivery policy. A run starts with small batches and doubles them while every attempt in a
 * batch succeeds (up to maxBatchSize), so a backlog of tens of thousands of events for healthy
 * subscribers costs a few hundred claims, not thousands; any failure drops back to batchSize.
 * A batch never outlives its lease, whatever its size: no request starts later than
 * leaseMs − request timeout − leaseMarginMs after the claim; what is left is released unattempted.
 */
export const DELIVERY_POLICY = {
  /** Attempts before a delivery is dead-lettered (status 'dead'). */
  maxAttempts: 15,
  /** Backoff after the n-th failure: equal jitter in [d/2, d], d = min(max, base · 2^(n-1)). */
  baseDelayMs: 5_000,
  maxDelayMs: 5 * 60_000,
  /** A claim: no other worker attempts the delivery before it expires; a crashed worker's claims expire. */
  leaseMs: 60_000,
  batchSize: 20,
  maxBatchSize: 500,
  /** Room left in the lease after the last request could have timed out (recording the outcomes). */
  leaseMarginMs: 5_000,
  /** Concurrent requests to one subscriber; up to maxSubscriberConcurrency once batches have grown. */
  subscriberConcurrency: 4,
  maxSubscriberConcurrency: 16,
  /** A run stops claiming new batches after this much real time (the scheduler runs it again). */
  runBudgetMs: 20_000,
} as const;

/** Delay before the next attempt after `failures` failed attempts (≥ 1), with equal jitter. */
export function backoffMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(DELIVERY_POLICY.maxDelayMs, DELIVERY_POLICY.baseDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface DeliverResult {
  claimed: number;
  delivered: number;
  failed: number;
  dead: number;
  skipped: number;
  /**
   * Claimed but not attempted: the subscriber just failed (they wait for its retry), or the
   * batch's lease was running out (they are due again at once).
   */
  deferred: number;
}

interface Claimed {
  eventId: string;
  subscriberId: string;
  attempts: number;
}

type Outcome =
  | { kind: 'delivered' }
  | { kind: 'failed'; error: string }
  | { kind: 'skipped' }
  | { kind: 'deferred' };

/**
 * outbox.deliver: sends every due delivery, at least once.
 *
 * 1. Claim a batch in a short transaction (FOR UPDATE SKIP LOCKED, then a lease) and commit.
 * 2. Send over HTTP with no transaction open, up to `subscriberConcurrency` at once per subscriber
 *    (more, up to `maxSubscriberConcurrency`, in batches that grew); once a subscriber fails, its
 *    remaining claimed deliveries wait for its retry ("deferred"); none starts once the lease runs low.
 * 3. Record the outcomes in another short transaction, only while the lease is still ours.
 * 4. Claim again, twice as many after a batch without failures (up to `maxBatchSize`), or
 *    `batchSize` again after one with failures, until nothing is due or the run's budget is spent.
 *
 * A worker that dies between 1 and 3 leaves leases that expire; the next run (here or on any
 * replica) claims them again, so a subscriber may see an event twice and dedupes on its
 * `webhook-id` / `jti`. Backoff and leases count from `now`, the run's instant; a lease also
 * covers the real time the run has already spent.
 */
export async function deliverDue(args: {
  db: Db;
  now: Date;
  keyring: Keyring;
  publicUrl: string;
  fetch?: typeof fetch;
  random?: () => number;
  batchSize?: number;
}): Promise<DeliverResult> {
  const { db, now } = args;
  const batchSize = args.batchSize ?? DELIVERY_POLICY.batchSize;
  const maxBatchSize = Math.max(batchSize, DELIVERY_POLICY.maxBatchSize);
  let limit = batchSize;
  const started = performance.now();
  const result: DeliverResult = { claimed: 0, delivered: 0, failed: 0, dead: 0, skipped: 0, deferred: 0 };
  let signingKey: Promise<SigningKey> | undefined;
  const key = () => (signingKey ??= ensureSigningKey({ db, now, keyring: args.keyring, actor: 'system:outbox' }));
  for (;;) {
    const claimedAt = performance.now();
    const leaseUntil = new Date(now.getTime() + Math.ceil(claimedAt - started) + DELIVERY_POLICY.leaseMs);
    const batch = await claimBatch(db, now, leaseUntil, limit, args.keyring);
    if (batch.items.length === 0) break;
    result.claimed += batch.items.length;
    // The last instant a request may start and still end (or time out) inside the lease.
    const startBy = claimedAt + DELIVERY_POLICY.leaseMs - REQUEST_TIMEOUT_MS - DELIVERY_POLICY.leaseMarginMs;
    // A first batch probes each subscriber with subscriberConcurrency requests; batches that grew
    // because everything succeeded may keep proportionally more in flight.
    const concurrency = Math.min(DELIVERY_POLICY.maxSubscriberConcurrency, Math.floor((DELIVERY_POLICY.subscriberConcurrency * limit) / batchSize));
    const outcomes = await sendBatch(batch, { ...args, fetch: args.fetch ?? fetch, key, startBy, concurrency });
    const recorded = await recordOutcomes(db, { now, leaseUntil, batch, outcomes, random: args.random ?? Math.random });
    result.delivered += recorded.delivered;
    result.failed += recorded.failed;
    result.dead += recorded.dead;
    result.skipped += recorded.skipped;
    result.deferred += recorded.deferred;
    if (batch.items.length < limit || performance.now() - started > DELIVERY_POLICY.runBudgetMs) break;
    const healthy = recorded.failed === 0 && recorded.dead === 0 && recorded.deferred === 0;
    limit = healthy ? Math.min(maxBatchSize, limit * 2) : batchSize;
  }
  return result;
}

interface Batch {
  items: Claimed[];
  events: Map<string, EventForDelivery>;
  subscribers: Map<string, SubscriberForDelivery>;
}

/**
 * A claim must cost O(batch), not O(backlog). Right after a burst (an April-1 reorganisation
 * enqueues tens of thousands of deliveries in seconds) the planner's statistics still describe
 * a table with almost nothing pending until autoanalyze catches up, and it plans the claim as
 * "read every due row, sort them all, keep the first `limit`": 40–90 ms per claim at 80,000
 * pending (measured), for every batch of the backlog. With sorting off for this transaction
 * only, the one plan left is the ordered walk of deliveries__due_idx that stops after `limit`
 * rows, whatever the statistics say. (Recording outcomes can still hash the pending rows under
 * stale statistics; batches of up to maxBatchSize make that once per few hundred deliveries.)
 */
const walkDueIndexInOrder = (tx: Db) => tx.execute(sql`select set_config('enable_sort', 'off', true)`);

async function claimBatch(db: Db, now: Date, leaseUntil: Date, limit: number, keyring: Keyring): Promise<Batch> {
  return withTx(db, async (tx) => {
    await walkDueIndexInOrder(tx);
    const at = now.toISOString();
    const items = await queryRows<Claimed>(
      tx,
      sql`
      with due as (
        select d.event_id, d.subscriber_id
        from deliveries d
        join subscribers s on s.id = d.subscriber_id and s.active
        where d.status = 'pending' and d.next_attempt_at <= ${at}::timestamptz
          and (d.lease_until is null or d.lease_until <= ${at}::timestamptz)
        order by d.next_attempt_at
        limit ${limit}
        for update of d skip locked
      )
      update deliveries d set lease_until = ${leaseUntil.toISOString()}::timestamptz
      from due where d.event_id = due.event_id and d.subscriber_id = due.subscriber_id
      returning d.event_id as "eventId", d.subscriber_id as "subscriberId", d.attempts`,
    );
    if (items.length === 0) return { items, events: new Map(), subscribers: new Map() };
    // One array parameter rather than one parameter per id: a 500-row batch is one short statement.
    const eventIds = `{${[...new Set(items.map((i) => i.eventId))].join(',')}}`;
    const eventRows = await tx.select().from(outboxEvents).where(sql`${outboxEvents.id} = any(${eventIds}::uuid[])`);
    const subscriberRows = await tx.select().from(subscribers).where(inArray(subscribers.id, [...new Set(items.map((i) => i.subscriberId))]));
    return {
      items: items.map((i) => ({ ...i, attempts: Number(i.attempts) })),
      events: new Map(eventRows.map((e) => [e.id, e])),
      subscribers: new Map(subscriberRows.map((s) => [s.id, forDelivery(s, keyring)])),
    };
  });
}

async function sendBatch(
  batch: Batch,
  args: { now: Date; publicUrl: string; fetch: typeof fetch; key: () => Promise<SigningKey>; startBy: number; concurrency: number },
): Promise<Map<Claimed, Outcome>> {
  const outcomes = new Map<Claimed, Outcome>();
  const bySubscriber = new Map<string, Claimed[]>();
  for (const item of batch.items) {
    const items = bySubscriber.get(item.subscriberId);
    if (items) items.push(item);
    else bySubscriber.set(item.subscriberId, [item]);
  }

  await Promise.all(
    [...bySubscriber.entries()].map(async ([subscriberId, items]) => {
      const sub = batch.subscribers.get(subscriberId)!;
      const queue = [...items];
      let failing = false;
      const worker = async () => {
        // Once the subscriber has failed, the rest wait for its retry instead of piling on;
        // once the lease is running out, the rest are released for the next claim.
        while (!failing && queue.length > 0 && performance.now() < args.startBy) {
          const item = queue.shift()!;
          const outcome = await attempt(batch.events.get(item.eventId)!, sub, args);
          outcomes.set(item, outcome);
          if (outcome.kind === 'failed') failing = true;
        }
      };
      await Promise.all(Array.from({ length: Math.min(args.concurrency, items.length) }, worker));
      for (const item of queue) outcomes.set(item, { kind: 'deferred' });
    }),
  );
  return outcomes;
}

/** The subscriber as the sender needs it; its webhook secret is opened only if used, once. */
function forDelivery(row: typeof subscribers.$inferSelect, keyring: Keyring): SubscriberForDelivery {
  let secret: string | undefined;
  return {
    id: row.id,
    url: row.url,
    format: row.format,
    audience: row.audience,
    secret: () =>
      (secret ??= keyring
        .open({ ciphertext: row.secretCiphertext, iv: row.secretIv, authTag: row.secretAuthTag, keyId: row.secretKeyId }, secretAad(row.id))
        .toString('utf8')),
  };
}

async function attempt(
  e: EventForDelivery,
  s: SubscriberForDelivery,
  args: { now: Date; publicUrl: string; fetch: typeof fetch; key: () => Promise<SigningKey> },
): Promise<Outcome> {
  let request: OutboundRequest | undefined;
  try {
    request = s.format === 'set' ? await setRequest(e, s, { now: args.now, issuer: args.publicUrl, key: args.key }) : webhookRequest(e, s, args.now);
  } catch (err) {
    // Cannot sign (keyring lacks the key that sealed the secret, …): an attempt that failed here.
    return { kind: 'failed', error: `prepare:${err instanceof Error ? err.name : 'Error'}` };
  }
  if (!request) return { kind: 'skipped' };
  const r = await send(args.fetch, request);
  return r.ok ? { kind: 'delivered' } : { kind: 'failed', error: r.error };
}

async function recordOutcomes(
  db: Db,
  args: { now: Date; leaseUntil: Date; batch: Batch; outcomes: Map<Claimed, Outcome>; random: () => number },
): Promise<Omit<DeliverResult, 'claimed'>> {
  const { now, leaseUntil, batch, outcomes } = args;
  const at = now.toISOString();
  const lease = leaseUntil.toISOString();
  const ofKind = (kind: Outcome['kind']) => batch.items.filter((i) => outcomes.get(i)?.kind === kind);
  const keys = (items: Claimed[]) => JSON.stringify(items.map((i) => ({ event_id: i.eventId, subscriber_id: i.subscriberId })));

  const failures = ofKind('failed').map((i) => {
    const attempts = i.attempts + 1;
    const dead = attempts >= DELIVERY_POLICY.maxAttempts;
    return {
      event_id: i.eventId,
      subscriber_id: i.subscriberId,
      attempts,
      status: dead ? 'dead' : 'pending',
      next_at: new Date(now.getTime() + (dead ? 0 : backoffMs(attempts, args.random))).toISOString(),
      error: (outcomes.get(i) as { error: string }).error,
    };
  });
  // Deferred deliveries wait for their subscriber's earliest retry, without counting an attempt.
  const retryAt = new Map<string, string>();
  for (const f of failures) if (f.status === 'pending' && (!retryAt.has(f.subscriber_id) || f.next_at < retryAt.get(f.subscriber_id)!)) retryAt.set(f.subscriber_id, f.next_at);
  const deferred = ofKind('deferred').map((i) => ({ event_id: i.eventId, subscriber_id: i.subscriberId, next_at: retryAt.get(i.subscriberId) ?? at }));

  return withTx(db, async (tx) => {
    const delivered = ofKind('delivered');
    const deliveredRows = delivered.length
      ? await queryRows(
          tx,
          sql`
          update deliveries d set status = 'delivered', delivered_at = ${at}::timestamptz, attempts = d.attempts + 1, last_error = null, lease_until = null
          from jsonb_to_recordset(${keys(delivered)}::jsonb) as r(event_id uuid, subscriber_id uuid)
          where d.event_id = r.event_id and d.subscriber_id = r.subscriber_id and d.status = 'pending'
          returning d.event_id`,
        )
      : [];
    const failedRows = failures.length
      ? await queryRows<{ eventId: string; subscriberId: string; status: string; attempts: number; lastError: string }>(
          tx,
          sql`
          update deliveries d set status = r.status, attempts = r.attempts, next_attempt_at = r.next_at, last_error = r.error, lease_until = null
          from jsonb_to_recordset(${JSON.stringify(failures)}::jsonb) as r(event_id uuid, subscriber_id uuid, attempts int, status text, next_at timestamptz, error text)
          where d.event_id = r.event_id and d.subscriber_id = r.subscriber_id and d.status = 'pending' and d.lease_until = ${lease}::timestamptz
          returning d.event_id as "eventId", d.subscriber_id as "subscriberId", d.status, d.attempts, d.last_error as "lastError"`,
        )
      : [];
    const skipped = ofKind('skipped');
    if (skipped.length) {
      await tx.execute(sql`
        update deliveries d set status = 'skipped', last_error = 'not-applicable', lease_until = null
        from jsonb_to_recordset(${keys(skipped)}::jsonb) as r(event_id uuid, subscriber_id uuid)
        where d.event_id = r.event_id and d.subscriber_id = r.subscriber_id and d.status = 'pending' and d.lease_until = ${lease}::timestamptz`);
    }
    if (deferred.length) {
      await tx.execute(sql`
        update deliveries d set lease_until = null, next_attempt_at = greatest(d.next_attempt_at, r.next_at)
        from jsonb_to_recordset(${JSON.stringify(deferred)}::jsonb) as r(event_id uuid, subscriber_id uuid, next_at timestamptz)
        where d.event_id = r.event_id and d.subscriber_id = r.subscriber_id and d.status = 'pending' and d.lease_until = ${lease}::timestamptz`);
    }
    const dead = failedRows.filter((r) => r.status === 'dead');
    await appendAudit(
      tx,
      now,
      dead.map((r) => ({
        actor: 'system:outbox',
        action: 'outbox.delivery-dead',
        subjectType: 'outbox-event',
        subjectId: r.eventId,
        data: { subscriberId: r.subscriberId, attempts: Number(r.attempts), lastError: r.lastError, idempotencyKey: deliveryKey(r.eventId, r.subscriberId) },
      })),
    );
    return { delivered: deliveredRows.length, failed: failedRows.length - dead.length, dead: dead.length, skipped: skipped.length, deferred: deferred.length };
  });
}
