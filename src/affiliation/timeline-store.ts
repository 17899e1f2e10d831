import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { PG_EXCLUSION_VIOLATION, pgErrorInfo } from '../db/errors.js';
import { affiliationProblems } from './errors.js';
import { affiliations } from './schema.js';
import { planTimelineChange, type Segment, type TimelineEvent } from './timeline.js';

type StoredSegment = Segment & { id: string };

/** The person's current timeline, locked for the rest of the transaction. */
export async function lockTimeline(tx: Db, personId: string): Promise<StoredSegment[]> {
  return tx
    .select({
      id: affiliations.id,
      companyCode: affiliations.companyCode,
      orgUnit: affiliations.orgUnit,
      managerId: affiliations.managerId,
      validFrom: affiliations.validFrom,
      validTo: affiliations.validTo,
    })
    .from(affiliations)
    .where(and(eq(affiliations.personId, personId), isNull(affiliations.supersededAt)))
    .orderBy(asc(affiliations.validFrom))
    .for('update');
}

export interface TimelineWrite {
  removed: Segment[];
  added: Segment[];
}

/**
 * Applies an event to the person's timeline inside tx. The caller must hold the person's row
 * lock. Replaced rows are superseded, not deleted, so earlier knowledge stays queryable.
 */
export async function recordTimelineEvent(
  tx: Db,
  args: { personId: string; event: TimelineEvent; now: Date; sourceEventId: string | null },
): Promise<TimelineWrite> {
  const segments = await lockTimeline(tx, args.personId);
  const plan = planTimelineChange(segments, args.event);
  if (!plan.ok) throw affiliationProblems.contradiction(plan.reason);
  const removedIds = (plan.remove as StoredSegment[]).map((s) => s.id);
  if (removedIds.length > 0) {
    // greatest(): a replica whose clock lags the one that recorded the row must not break recorded ≤ superseded.
    await tx
      .update(affiliations)
      .set({ supersededAt: sql`greatest(${affiliations.recordedAt}, ${args.now.toISOString()}::timestamptz)` })
      .where(inArray(affiliations.id, removedIds));
  }
  try {
    await tx.insert(affiliations).values(
      plan.add.map((s) => ({
        personId: args.personId,
        companyCode: s.companyCode,
        orgUnit: s.orgUnit,
        managerId: s.managerId,
        validFrom: s.validFrom,
        validTo: s.validTo,
        recordedAt: args.now,
        sourceEventId: args.sourceEventId,
      })),
    );
  } catch (err) {
    // The plan is computed under the person's lock, so this only fires on a bug: say so clearly.
    if (pgErrorInfo(err).code === PG_EXCLUSION_VIOLATION) throw affiliationProblems.overlap('the change would give the person two affiliations at once');
    throw err;
  }
  return { removed: plan.remove, added: plan.add };
}
