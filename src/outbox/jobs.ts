import type { Keyring } from '../credentials/encryption.js';
import type { Db } from '../db/client.js';
import type { Metrics } from '../http/metrics.js';
import { deliverDue, type DeliverResult } from './deliver.js';

/**
 * outbox.deliver: the scheduler's entry point (every second, on every replica). Without a
 * keyring no subscriber can exist (their secrets are sealed with it), so there is nothing to do.
 */
export async function deliverOutbox(ctx: {
  db: Db;
  now: Date;
  keyring?: Keyring;
  publicUrl?: string;
  metrics?: Metrics;
}): Promise<DeliverResult | { skipped: 'encryption-not-configured' }> {
  if (!ctx.keyring || !ctx.publicUrl) return { skipped: 'encryption-not-configured' };
  const result = await deliverDue({ db: ctx.db, now: ctx.now, keyring: ctx.keyring, publicUrl: ctx.publicUrl });
  if (ctx.metrics) {
    for (const outcome of ['delivered', 'failed', 'dead', 'skipped'] as const) {
      if (result[outcome] > 0) ctx.metrics.outboxDeliveries.inc({ outcome }, result[outcome]);
    }
  }
  return result;
}
