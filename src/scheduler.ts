import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Keyring } from './credentials/encryption.js';
import { purgeExpiredChallenges } from './credentials/passkeys.js';
import { flagOverdueSecrets } from './credentials/shared-secrets.js';
import type { Db } from './db/client.js';
import { runContinuousChecks } from './detection/continuous-checks.js';
import { maintainAccessLogPartitions } from './detection/partitions.js';
import { scanAccessLogs, type DetectionSettings } from './detection/scan.js';
import { endExpiredEmergencies } from './emergency/declarations.js';
import { applyDueEvents } from './hr/jobs.js';
import type { Metrics } from './http/metrics.js';
import { deliverOutbox } from './outbox/jobs.js';
import { sendReviewNotices } from './reviews/notices.js';
import { createDueOccurrences } from './reviews/schedules.js';

/** What a job is called with: the database and the instant, plus services some jobs need. */
export interface JobContext {
  db: Db;
  now: Date;
  keyring?: Keyring;
  publicUrl?: string;
  metrics?: Metrics;
  detection?: DetectionSettings;
}

/** A scheduled job: a plain function of ({ db, now }), safe to run twice or on two replicas. */
export interface Job {
  name: string;
  cron: string;
  run(ctx: JobContext): Promise<unknown>;
}

export const jobs: Job[] = [
  { name: 'hr.apply-due-events', cron: '* * * * * *', run: applyDueEvents },
  { name: 'credentials.flag-overdue-secrets', cron: '0 * * * *', run: flagOverdueSecrets },
  { name: 'credentials.purge-expired-challenges', cron: '*/5 * * * *', run: purgeExpiredChallenges },
  { name: 'outbox.deliver', cron: '* * * * * *', run: deliverOutbox },
  { name: 'emergency.end-expired', cron: '*/10 * * * * *', run: endExpiredEmergencies },
  { name: 'reviews.create-due-occurrences', cron: '0 * * * * *', run: createDueOccurrences },
  { name: 'reviews.send-notices', cron: '30 * * * * *', run: sendReviewNotices },
  { name: 'detection.run-continuous-checks', cron: '*/5 * * * *', run: runContinuousChecks },
  { name: 'detection.scan-access-logs', cron: '*/5 * * * * *', run: scanAccessLogs },
  { name: 'detection.maintain-access-log-partitions', cron: '17 * * * *', run: maintainAccessLogPartitions },
];

/**
 * node-cron only triggers; coordination between replicas lives in each job's SQL
 * (SKIP LOCKED claims, advisory locks, unique occurrence keys). Every job also runs once at
 * start-up, so work that fell due while the service was down is caught up at once.
 */
export async function startScheduler(
  db: Db,
  logger: Logger,
  clock: () => Date,
  services: Omit<JobContext, 'db' | 'now'> = {},
): Promise<{ stop(): Promise<void> }> {
  const runJob = async (job: Job) => {
    try {
      const result = await job.run({ ...services, db, now: clock() });
      logger.debug({ job: job.name, result }, 'job finished');
    } catch (err) {
      logger.error({ err, job: job.name }, 'job failed');
    }
  };
  for (const job of jobs) await runJob(job);
  const tasks: ScheduledTask[] = jobs.map((job) => cron.schedule(job.cron, () => runJob(job), { name: job.name, noOverlap: true }));
  return {
    async stop() {
      await Promise.all(tasks.map((t) => t.destroy()));
    },
  };
}
