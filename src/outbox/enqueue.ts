import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Db } from '../db/client.js';
import { outboxEvents } from './schema.js';

export interface OutboundEvent {
  /** e.g. credential.revoked, person.transferred, session.revoked */
  type: string;
  subjectType: string;
  subjectId: string;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

/** One pending delivery per event (`events`: a from-item named e with id, type) and active subscriber that wants it. */
const fanOut = (events: SQL, now: string) => sql`
  insert into deliveries (event_id, subscriber_id, status, attempts, next_attempt_at)
  select e.id, s.id, 'pending', 0, ${now}::timestamptz
  from ${events}
  join subscribers s on s.active and (cardinality(s.event_types) = 0 or e.type = any(s.event_types))`;

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
    await tx.execute(fanOut(sql`jsonb_to_recordset(${JSON.stringify(ids)}::jsonb) as e(id uuid, type text)`, now.toISOString()));
  }
}

/**
 * The same, for bulk work that never leaves the database (a campaign revoking a million
 * grants): `select` yields columns type, subject_type, subject_id, payload, occurred_at and
 * may read the data-modifying CTEs in `ctes` (PostgreSQL wants those at the top level, so
 * they come in here rather than wrapped). Returns how many events were written.
 */
export async function enqueueSelected(tx: Db, now: Date, ctes: SQL | undefined, select: SQL): Promise<number> {
  const at = now.toISOString();
  const [row] = await queryRows<{ events: number }>(
    tx,
    sql`
    with ${ctes ? sql`${ctes},` : sql``}
    src as (${select}),
    ev as (
      insert into outbox_events (type, subject_type, subject_id, payload, occurred_at, created_at)
      select type, subject_type, subject_id, payload, occurred_at, ${at}::timestamptz from src
      returning id, type),
    fan as (${fanOut(sql`ev e`, at)} returning 1)
    select count(*)::int as events from ev`,
  );
  return row?.events ?? 0;
}
