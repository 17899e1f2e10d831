import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { enqueueSelected } from '../outbox/enqueue.js';

/**
 * When reviewers hear about their open items (outbox events the mail or chat bridge turns into
 * messages): at the campaign's midpoint, a day before it is due, and — once it is overdue —
 * an escalation to each late reviewer's manager. Each notice goes out once per campaign:
 * marking it in `notices` and enqueueing happen in one statement, so replicas cannot both send.
 */
const NOTICES: { kind: string; type: string; due: (t: string) => SQL }[] = [
  { kind: 'midpoint', type: 'review.reminder', due: (t) => sql`created_at + (due_at - created_at) / 2 <= ${t}::timestamptz and due_at > ${t}::timestamptz` },
  { kind: 'day-before', type: 'review.reminder', due: (t) => sql`due_at - interval '1 day' <= ${t}::timestamptz and due_at > ${t}::timestamptz` },
  { kind: 'escalated', type: 'review.escalated', due: (t) => sql`due_at <= ${t}::timestamptz` },
];

export async function sendReviewNotices(ctx: { db: Db; now: Date }): Promise<Record<string, number>> {
  const { db, now } = ctx;
  const t = now.toISOString();
  const sent: Record<string, number> = {};
  for (const notice of NOTICES) {
    sent[notice.kind] = await withTx(db, (tx) =>
      enqueueSelected(
        tx,
        now,
        sql`noticed as (
          update review_campaigns set notices = notices || ${notice.kind}::text
          where status = 'open' and not (${notice.kind} = any(notices)) and ${notice.due(t)}
          returning id, name, due_at)`,
        sql`select ${notice.type} as type, 'person' as subject_type,
              ${notice.kind === 'escalated' ? sql`coalesce(m.manager_id, i.reviewer_id, 'unassigned')` : sql`coalesce(i.reviewer_id, 'unassigned')`} as subject_id,
              jsonb_build_object('campaignId', c.id, 'campaign', c.name, 'dueAt', c.due_at, 'notice', ${notice.kind}::text,
                                 'reviewerId', i.reviewer_id, 'openItems', count(*)) as payload,
              ${t}::timestamptz as occurred_at
            from noticed c
            join review_items i on i.campaign_id = c.id and i.decision is null
            left join affiliations m on m.person_id = i.reviewer_id and m.superseded_at is null
              and m.valid_from <= ${t}::timestamptz and (m.valid_to is null or m.valid_to > ${t}::timestamptz)
            group by c.id, c.name, c.due_at, i.reviewer_id, m.manager_id`,
      ),
    );
  }
  return sent;
}
