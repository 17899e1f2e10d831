import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import type { PolicySnapshot } from './decide.js';
import { accessProblems } from './errors.js';
import { latestSeq, loadSnapshot, patchSnapshot } from './snapshot.js';

/** A decision may rely on a snapshot synced at most this long ago; older → refuse (fail closed). */
export const MAX_STALENESS_MS = 1000;

/**
 * The policy snapshot held in memory by each process. It follows the audit chain: woken by
 * PostgreSQL NOTIFY at commit (on a real server), and polling as a fallback, so a change
 * committed anywhere reaches every replica within the poll interval at worst. If syncing
 * stalls (database unreachable), decisions are refused rather than made on old policy.
 */
export class PolicyCache {
  private seq = 0;
  private syncedAt = 0;
  private syncing: Promise<void> | undefined;
  /** The sync that follows the one in flight, shared by everyone who asked meanwhile. */
  private next: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;

  private constructor(
    private readonly database: Database,
    private snapshot: PolicySnapshot,
    private readonly clock: () => number,
    private readonly logger: Logger,
  ) {}

  static async start(database: Database, opts: { logger: Logger; clock?: () => number; pollMs?: number }): Promise<PolicyCache> {
    const clock = opts.clock ?? Date.now;
    const startedAt = clock();
    const seq = await latestSeq(database.db);
    const cache = new PolicyCache(database, await loadSnapshot(database.db), clock, opts.logger);
    cache.seq = seq;
    cache.syncedAt = startedAt;
    // The poll only needs some recent sync: it joins one in flight rather than queueing another.
    cache.timer = setInterval(() => void (cache.syncing ?? cache.sync()).catch(() => {}), opts.pollMs ?? 200);
    cache.timer.unref();
    if (database.pg) {
      const sub = await database.pg.listen('sekisho_changes', () => void cache.sync().catch(() => {}));
      cache.unlisten = () => sub.unlisten();
    }
    return cache;
  }

  /**
   * Brings the snapshot up to at least every change committed before the call. A sync already
   * in flight may have read before that commit, so a caller never just joins it: it waits for
   * the next one, which everyone asking meanwhile shares. Syncs run one at a time.
   */
  sync(): Promise<void> {
    if (!this.syncing) return (this.syncing = this.run());
    this.next ??= this.syncing
      .catch(() => {})
      .then(() => {
        this.next = undefined;
        return this.sync();
      });
    return this.next;
  }

  private async run(): Promise<void> {
    const startedAt = this.clock();
    try {
      this.seq = await patchSnapshot(this.database.db, this.snapshot, this.seq);
      this.syncedAt = startedAt;
    } catch (err) {
      this.logger.warn({ err }, 'policy snapshot sync failed');
      throw err;
    } finally {
      this.syncing = undefined;
    }
  }

  /** The snapshot once it includes every change committed before the call, however long that took. */
  async synced(): Promise<PolicySnapshot> {
    await this.sync();
    return this.snapshot;
  }

  /** The snapshot, if fresh enough to decide on. */
  current(): PolicySnapshot {
    if (this.clock() - this.syncedAt > MAX_STALENESS_MS) {
      throw accessProblems.policyStale('the policy snapshot could not be refreshed; refusing to decide on stale policy');
    }
    return this.snapshot;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.unlisten?.();
  }
}
