import type { Express } from 'express';
import type { Logger } from 'pino';
import { DecisionRecorder } from './access/decision-log.js';
import { PolicyCache } from './access/policy-cache.js';
import type { Config } from './config.js';
import type { Keyring } from './credentials/encryption.js';
import type { Database } from './db/client.js';
import { createApp } from './http/app.js';
import { createMetrics, type Metrics } from './http/metrics.js';

/** The HTTP service with what it holds in memory: one wiring for the process, tests and benches. */
export interface Service {
  app: Express;
  metrics: Metrics;
  policy: PolicyCache;
  decisions: DecisionRecorder;
  /** Writes the decisions still queued, then stops listening for policy changes. */
  close(): Promise<void>;
}

export async function startService(opts: {
  database: Database;
  config: Config;
  logger: Logger;
  clock: () => Date;
  hrWebhookKey?: Buffer;
  keyring?: Keyring;
}): Promise<Service> {
  const { database, logger } = opts;
  const metrics = createMetrics();
  const policy = await PolicyCache.start(database, { logger });
  const decisions = new DecisionRecorder(database.db, logger);
  const app = createApp({
    db: database.db,
    database,
    config: opts.config,
    logger,
    metrics,
    clock: opts.clock,
    hrWebhookKey: opts.hrWebhookKey,
    keyring: opts.keyring,
    policy,
    decisions,
  });
  return {
    app,
    metrics,
    policy,
    decisions,
    async close() {
      await decisions.flush();
      await policy.stop();
    },
  };
}
