import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { outboxEvents } from './schema.js';

export interface OutboundEvent {
  /** e.g. credential.revoked, person.transferred, session.revoked */
  type: string;
  subjectType: string;
  subjectId: string;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

/**
 * Writes events to the outbox inside the caller's transaction and fans them out to every
 * active subscriber that wants them, set-based. Delivery happens after commit (outbox/deliver.ts).
 */
export async function enqueueEvents(tx: Db, now: Date, events: OutboundEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 2000) {
    const chunk = events.slice(i, i + 2000);
    const ids = await tx
      .insert(outboxEvents)
      .values(chunk.map((e) => ({ ...e, createdAt: now })))
      .returning({ id: outboxEvents.id, type: outboxEvents.type });
    await tx.execute(sql`
      insert into deliveries (event_id, subscriber_id, status, attempts, next_attempt_at)
      select e.id, s.id, 'pending', 0, ${now.toISOString()}::timestamptz
      from jsonb_to_recordset(${JSON.stringify(ids)}::jsonb) as e(id uuid, type text)
      join subscribers s on s.active and (cardinality(s.event_types) = 0 or e.type = any(s.event_types))`);
  }
}
