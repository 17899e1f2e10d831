import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { outboxProblems } from './errors.js';
import { deliveryKey } from './requests.js';
import { deliveries, outboxEvents, subscribers } from './schema.js';

/**
 * Delivery status of one event, per subscriber: 'pending' (nextAttemptAt is when it is tried
 * next), 'delivered', 'dead' (dead letter after the last attempt), 'skipped' (not applicable
 * to the subscriber's format) or 'cancelled' (the subscriber was deactivated).
 */
export async function getEventDeliveries(db: Db, eventId: string) {
  const [event] = await db.select({ id: outboxEvents.id, type: outboxEvents.type }).from(outboxEvents).where(eq(outboxEvents.id, eventId));
  if (!event) throw outboxProblems.eventNotFound(`no outbox event ${eventId}`);
  const rows = await db
    .select({
      subscriberId: deliveries.subscriberId,
      subscriberName: subscribers.name,
      status: deliveries.status,
      attempts: deliveries.attempts,
      nextAttemptAt: deliveries.nextAttemptAt,
      lastError: deliveries.lastError,
      deliveredAt: deliveries.deliveredAt,
    })
    .from(deliveries)
    .innerJoin(subscribers, eq(subscribers.id, deliveries.subscriberId))
    .where(eq(deliveries.eventId, eventId))
    .orderBy(asc(subscribers.createdAt), asc(subscribers.id));
  return {
    eventId: event.id,
    type: event.type,
    items: rows.map((r) => ({
      ...r,
      idempotencyKey: deliveryKey(event.id, r.subscriberId),
      nextAttemptAt: r.status === 'pending' ? r.nextAttemptAt : null,
    })),
  };
}
