import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putTerminal } from '../../src/access/catalog.js';
import { decide } from '../../src/access/decide.js';
import { PolicyCache } from '../../src/access/policy-cache.js';
import { latestSeq, loadSnapshot, patchSnapshot } from '../../src/access/snapshot.js';
import { appendAudit } from '../../src/audit/chain.js';
import { withTx } from '../../src/db/tx.js';
import { declareEmergency } from '../../src/emergency/declarations.js';
import { putRosterMember } from '../../src/emergency/roster.js';
import { createLogger } from '../../src/logger.js';
import { makeTakuso } from '../support/access.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../support/db.js';
import { at, hire, makeUtilityGroup, plusMs, T0 } from '../support/factories.js';

const NOW = at('2026-10-01T03:00:00+09:00');
const policy = { approval: 'single', maxMinutes: 72 * 60, maxTotalMinutes: 7 * 24 * 60 } as const;

describe('the policy snapshot follows the audit chain', () => {
  let database: TestDatabase;
  let member: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    await makeUtilityGroup(db);
    await makeTakuso(db);
    member = await hire(db, { company: 'ep', at: T0 });
    await putRosterMember({ db, now: T0, actor: 'test', personId: member, areas: ['aomori'] });
  });
  afterAll(async () => {
    await database.close();
  });

  const noise = (action: string, n: number) =>
    withTx(database.db, (tx) =>
      appendAudit(tx, NOW, Array.from({ length: n }, (_, i) => ({ actor: 'system:decisions', action, subjectType: 'decisions', subjectId: `noise-${i}` }))),
    );

  it('moves its mark past decision batches and authentications, so later syncs never rescan them', async () => {
    const { db } = database;
    const s = await loadSnapshot(db);
    const start = await latestSeq(db);

    await noise('decision.batch', 200);
    const afterNoise = await patchSnapshot(db, s, start);
    expect(afterNoise).toBe(start + 200);
    expect(await patchSnapshot(db, s, afterNoise)).toBe(afterNoise);

    // A policy change among the noise is applied, and the mark ends at the newest record.
    await putTerminal({ db, now: NOW, actor: 'test', id: 'T-EP-SYNC', company: 'ep', site: '弘前営業所' });
    await noise('authn.password.ok', 3);
    const afterChange = await patchSnapshot(db, s, afterNoise);
    expect(afterChange).toBe(await latestSeq(db));
    expect(s.terminals.get('T-EP-SYNC')).toEqual({ company: 'ep', active: true });
  });

  // Needs a second connection holding a lock while the cache syncs: PostgreSQL only.
  it.skipIf(!onPostgres)('a sync asked for after a commit sees it, even while an earlier sync that read before the commit is still running', async () => {
    const { db } = database;
    // No LISTEN and no poll: only the syncs this test asks for.
    const cache = await PolicyCache.start({ ...database, pg: undefined }, { logger: createLogger('silent'), pollMs: 3_600_000 });
    try {
      // A committed terminal change makes the next sync reload terminals; a lock holds that reload.
      await putTerminal({ db, now: NOW, actor: 'test', id: 'T-EP-HELD', company: 'ep', site: '八戸営業所' });
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const locker = database.pg!.begin(async (c) => {
        await c`lock table terminals in access exclusive mode`;
        locked();
        await released;
      });
      await isLocked;

      const early = cache.sync();
      // Wait until the early sync has read the chain and is stuck reloading terminals.
      for (let i = 0; ; i++) {
        const [row] = await database.pg!`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
        if (row!.n > 0) break;
        if (i > 500) throw new Error('the early sync never waited on the lock');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }

      // Committed after the early sync read the chain, before the decision's sync is asked for.
      const emergency = await declareEmergency({ db, now: NOW, actor: 'desk', policy, areas: ['aomori'], reason: '豪雨災害', durationMinutes: 60 });
      const forDecision = cache.sync();
      release();
      await locker;
      await early;
      await forDecision;

      const d = decide(
        cache.current(),
        { personId: member, terminalId: 'T-EP-01', system: 'takuso', record: { customerId: 'C1', retailer: 'shinden-a', area: 'aomori' }, fields: ['holderName', 'usage'] },
        plusMs(NOW, 60_000).getTime(),
      );
      expect(d).toMatchObject({ decision: 'permit', emergencyId: emergency.id, fields: { holderName: 'allow', usage: 'mask' } });
    } finally {
      await cache.stop();
    }
  });
});
