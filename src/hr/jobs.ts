import { and, asc, inArray, isNull, lte } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { applyEventEffects } from './effects.js';
import { hrEvents } from './schema.js';

/**
 * hr.apply-due-events: runs the side effects of every event whose instant has come.
 * Each batch is claimed with FOR UPDATE SKIP LOCKED, so any number of replicas can run it at
 * once and each event is applied exactly once; after a restart it simply catches up.
 */
export async function applyDueEvents(args: { db: Db; now: Date; batchSize?: number }): Promise<{ applied: number }> {
  const batchSize = args.batchSize ?? 500;
  let applied = 0;
  for (;;) {
    const n = await withTx(args.db, async (tx) => {
      const due = await tx
        .select({ id: hrEvents.id, type: hrEvents.type, personId: hrEvents.personId, effectiveAt: hrEvents.effectiveAt })
        .from(hrEvents)
        .where(and(isNull(hrEvents.appliedAt), lte(hrEvents.effectiveAt, args.now)))
        .orderBy(asc(hrEvents.effectiveAt), asc(hrEvents.receivedAt))
        .limit(batchSize)
        .for('update', { skipLocked: true });
      if (due.length === 0) return 0;
      await applyEventEffects(tx, due.map((e) => ({ eventId: e.id, type: e.type, personId: e.personId, effectiveAt: e.effectiveAt })), args.now);
      await tx.update(hrEvents).set({ appliedAt: args.now }).where(inArray(hrEvents.id, due.map((e) => e.id)));
      return due.length;
    });
    applied += n;
    if (n < batchSize) return { applied };
  }
}
