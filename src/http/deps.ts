import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { DecisionRecorder } from '../access/decision-log.js';
import type { PolicyCache } from '../access/policy-cache.js';
import type { Keyring } from '../credentials/encryption.js';
import type { Database, Db } from '../db/client.js';
import type { Metrics } from './metrics.js';

/** What route modules get: the database, the clock, configuration, logging and metrics. */
export interface AppDeps {
  db: Db;
  database: Database;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** The only clock the HTTP layer reads; tests pin it. */
  clock: () => Date;
  /** Decoded HR webhook key, when configured. */
  hrWebhookKey: Buffer | undefined;
  /** Seals secrets at rest (shared secrets, subscriber secrets, signing keys), when configured. */
  keyring: Keyring | undefined;
  /** The in-memory policy snapshot decisions are made on. */
  policy: PolicyCache;
  /** Durable, batched log of every decision. */
  decisions: DecisionRecorder;
}
