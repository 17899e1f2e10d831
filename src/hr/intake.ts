import { and, eq, isNull, lte, sql } from 'drizzle-orm';
import { findCompany } from '../affiliation/companies.js';
import { affiliationProblems } from '../affiliation/errors.js';
import { persons } from '../affiliation/schema.js';
import { recordTimelineEvent } from '../affiliation/timeline-store.js';
import type { TimelineEvent } from '../affiliation/timeline.js';
import { appendAudit } from '../audit/chain.js';
import type { Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { applyEventEffects } from './effects.js';
import { hrEvents } from './schema.js';
import type { HrEventBody } from './schemas.js';

export const HR_ACTOR = 'hr-webhook';

export interface HrEventReceipt {
  eventId: string;
  status: 'applied' | 'scheduled';
  /** True when this webhook-id was already accepted: nothing was applied again. */
  duplicate: boolean;
}

/**
 * Accepts one HR event. In one transaction: the event is stored (idempotent by webhook-id),
 * the person's timeline is changed at the effective instant, and — when that instant has
 * already come — the side effects run. A future event is `scheduled`: reads as of its instant
 * already see it; the due-events job runs its side effects then.
 */
export async function receiveHrEvent(args: { db: Db; now: Date; webhookId: string; event: HrEventBody }): Promise<HrEventReceipt> {
  const { db, now, webhookId, event } = args;
  const due = event.effectiveAt.getTime() <= now.getTime();
  return withTx(db, async (tx) => {
    const [inserted] = await tx
      .insert(hrEvents)
      .values({
        webhookId,
        type: event.type,
        personId: event.personId,
        payload: { ...event, effectiveAt: event.effectiveAt.toISOString() },
        effectiveAt: event.effectiveAt,
        receivedAt: now,
        appliedAt: due ? now : null,
        initialStatus: due ? 'applied' : 'scheduled',
      })
      // Waits for a concurrent delivery of the same id to commit, then yields to it.
      .onConflictDoNothing({ target: hrEvents.webhookId })
      .returning({ id: hrEvents.id });
    if (!inserted) {
      const [first] = await tx.select().from(hrEvents).where(eq(hrEvents.webhookId, webhookId));
      return { eventId: first!.id, status: first!.initialStatus as HrEventReceipt['status'], duplicate: true };
    }

    await lockOrCreatePerson(tx, event, now);
    const timelineEvent = await toTimelineEvent(tx, event);
    const change = await recordTimelineEvent(tx, { personId: event.personId, event: timelineEvent, now, sourceEventId: inserted.id });
    if (due) await applyEventEffects(tx, [{ eventId: inserted.id, type: event.type, personId: event.personId, effectiveAt: event.effectiveAt }], now);

    await appendAudit(tx, now, {
      actor: HR_ACTOR,
      action: 'hr.event.accepted',
      subjectType: 'person',
      subjectId: event.personId,
      data: {
        eventId: inserted.id,
        webhookId,
        type: event.type,
        company: 'company' in event ? (event.company ?? null) : null,
        effectiveAt: event.effectiveAt.toISOString(),
        status: due ? 'applied' : 'scheduled',
        timeline: {
          removed: change.removed.map(segmentSummary),
          added: change.added.map(segmentSummary),
        },
      },
    });
    return { eventId: inserted.id, status: due ? 'applied' : 'scheduled', duplicate: false };
  });
}

/** Serialises every change to one person: the row lock is held until commit. */
async function lockOrCreatePerson(tx: Db, event: HrEventBody, now: Date): Promise<void> {
  if (event.type === 'person.hired') {
    await tx
      .insert(persons)
      .values({ id: event.personId, name: event.name, email: event.email ?? null, createdAt: now, updatedAt: now })
      .onConflictDoNothing({ target: persons.id });
  }
  const [person] = await tx.select({ id: persons.id }).from(persons).where(eq(persons.id, event.personId)).for('update');
  if (!person) throw affiliationProblems.unknownPerson(`person '${event.personId}' does not exist; send person.hired first`);
  const changes = { ...(event.name ? { name: event.name } : {}), ...(event.email ? { email: event.email } : {}) };
  if (Object.keys(changes).length > 0) {
    await tx.update(persons).set({ ...changes, updatedAt: now }).where(eq(persons.id, event.personId));
  }
}

async function toTimelineEvent(tx: Db, event: HrEventBody): Promise<TimelineEvent> {
  if (event.type === 'person.left') return { type: 'person.left', at: event.effectiveAt };
  if (!(await findCompany(tx, event.company))) {
    throw affiliationProblems.unknownCompany(`company '${event.company}' does not exist`, [{ path: '/company', message: 'unknown company' }]);
  }
  return { type: event.type, at: event.effectiveAt, companyCode: event.company, orgUnit: event.orgUnit ?? null, managerId: event.managerId ?? null };
}

const segmentSummary = (s: { companyCode: string; validFrom: Date; validTo: Date | null }) => ({
  company: s.companyCode,
  validFrom: s.validFrom.toISOString(),
  validTo: s.validTo?.toISOString() ?? null,
});

export async function countPendingEvents(db: Db, now: Date): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(hrEvents)
    // Through lte() so the Date is encoded by the column: a raw sql`${now}` breaks on postgres.js.
    .where(and(isNull(hrEvents.appliedAt), lte(hrEvents.effectiveAt, now)));
  return row?.n ?? 0;
}
