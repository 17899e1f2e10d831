import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Db } from './db/client.js';
import { applyDueEvents } from './hr/jobs.js';

/** A scheduled job: a plain function of ({ db, now }), safe to run twice or on two replicas. */
export interface Job {
  name: string;
  cron: string;
  run(args: { db: Db; now: Date }): Promise<unknown>;
}

export const jobs: Job[] = [{ name: 'hr.apply-due-events', cron: '* * * * * *', run: applyDueEvents }];

/**
 * node-cron only triggers; coordination between replicas lives in each job's SQL
 * (SKIP LOCKED claims, advisory locks, unique occurrence keys). Every job also runs once at
 * start-up, so work that fell due while the service was down is caught up at once.
 */
export async function startScheduler(db: Db, logger: Logger, clock: () => Date): Promise<{ stop(): Promise<void> }> {
  const runJob = async (job: Job) => {
    try {
      const result = await job.run({ db, now: clock() });
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
