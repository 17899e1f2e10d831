import { eq, sql } from 'drizzle-orm';
import cron from 'node-cron';
import { appendAudit } from '../audit/chain.js';
import { queryRows, type Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { createCampaign } from './campaigns.js';
import { reviewProblems } from './errors.js';
import { reviewSchedules, type ScheduledCampaign } from './schema.js';

export type Schedule = typeof reviewSchedules.$inferSelect;

/**
 * Catch-up policy: occurrences missed while no replica ran collapse into one — the most recent
 * within the last 7 days — created at the next run (every replica runs the job at start-up).
 * Older ones are skipped: a week-old review is not worth a pile of duplicates.
 */
export const CATCH_UP_WINDOW_MS = 7 * 24 * 3600_000;
const MINUTE = 60_000;

export async function putSchedule(input: {
  db: Db;
  now: Date;
  actor: string;
  name: string;
  cron: string;
  timezone: string;
  campaign: ScheduledCampaign;
}): Promise<{ schedule: Schedule; created: boolean }> {
  const { db, now, actor, name } = input;
  return withTx(db, async (tx) => {
    const [existing] = await tx.select().from(reviewSchedules).where(eq(reviewSchedules.name, name)).for('update');
    const values = { cron: input.cron, timezone: input.timezone, campaign: input.campaign, updatedAt: now };
    // A changed rule starts afresh: occurrences are searched from now on.
    const [schedule] = existing
      ? await tx.update(reviewSchedules).set({ ...values, lastOccurrenceAt: null }).where(eq(reviewSchedules.name, name)).returning()
      : await tx.insert(reviewSchedules).values({ name, ...values, createdAt: now }).returning();
    await appendAudit(tx, now, {
      actor,
      action: existing ? 'review-schedule.updated' : 'review-schedule.created',
      subjectType: 'review-schedule',
      subjectId: name,
      data: { cron: input.cron, timezone: input.timezone, campaign: input.campaign },
    });
    return { schedule: schedule!, created: !existing };
  });
}

export async function getSchedule(db: Db, name: string): Promise<Schedule> {
  const [schedule] = await db.select().from(reviewSchedules).where(eq(reviewSchedules.name, name));
  if (!schedule) throw reviewProblems.scheduleNotFound(`review schedule '${name}' does not exist`);
  return schedule;
}

/** The newest instant in (after, now] that the schedule's cron matches in its time zone, if any. */
export function latestOccurrence(schedule: Pick<Schedule, 'cron' | 'timezone'>, after: Date, now: Date): Date | undefined {
  const matcher = cron.createTask(schedule.cron, () => {}, { timezone: schedule.timezone });
  try {
    for (let t = Math.floor(now.getTime() / MINUTE) * MINUTE; t > after.getTime(); t -= MINUTE) {
      if (matcher.match(new Date(t))) return new Date(t);
    }
    return undefined;
  } finally {
    void matcher.destroy();
  }
}

/**
 * reviews.create-due-occurrences: for each schedule, the campaign of its latest due
 * occurrence. Every replica may run this at the same moment: the occurrence key
 * (schedule@instant) is unique, so exactly one campaign exists per occurrence.
 */
export async function createDueOccurrences(ctx: { db: Db; now: Date }): Promise<{ created: string[]; failed: { schedule: string; error: string }[] }> {
  const { db, now } = ctx;
  const created: string[] = [];
  const failed: { schedule: string; error: string }[] = [];
  for (const schedule of await db.select().from(reviewSchedules)) {
    try {
      const id = await createOccurrence(db, schedule, now);
      if (id) created.push(id);
    } catch (err) {
      // One broken schedule (its system since removed, say) must not hold up the others.
      failed.push({ schedule: schedule.name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return { created, failed };
}

async function createOccurrence(db: Db, schedule: Schedule, now: Date): Promise<string | undefined> {
  const floor = Math.max(now.getTime() - CATCH_UP_WINDOW_MS, schedule.updatedAt.getTime(), schedule.lastOccurrenceAt?.getTime() ?? 0);
  const occurrence = latestOccurrence(schedule, new Date(floor), now);
  if (!occurrence) return undefined;
  const spec = schedule.campaign;
  const due = new Date(Math.max(occurrence.getTime() + spec.dueInDays * 86_400_000, now.getTime() + 3600_000));
  const campaign = await createCampaign({
    db,
    now,
    actor: `system:review-schedule:${schedule.name}`,
    spec: { name: `${spec.name} (${occurrence.toISOString()})`, scope: spec.scope, reviewerId: spec.reviewerId, dueAt: due, onNoResponse: spec.onNoResponse },
    occurrenceKey: `${schedule.name}@${occurrence.toISOString()}`,
  });
  await queryRows(
    db,
    sql`update review_schedules set last_occurrence_at = ${occurrence.toISOString()}::timestamptz
        where name = ${schedule.name} and (last_occurrence_at is null or last_occurrence_at < ${occurrence.toISOString()}::timestamptz) returning 1`,
  );
  return campaign?.id;
}
