/**
 * Access certification at scale (npm run bench:reviews). Needs PostgreSQL: DATABASE_URL
 * (default postgres://root@127.0.0.1:5432/test) whose user may create databases; the bench
 * works in a scratch database sekisho_bench_<random> and drops it at the end.
 *
 * Setup (set-based, not measured): BENCH_REVIEWS_GRANTS grants (1,000,000) over people of the
 * wheeling and retail companies, 5 grants each on one system, a webhook subscriber registered
 * (so every revocation is fanned out to a delivery), and the service's policy snapshot loaded.
 *
 * Measured, through the same functions the API calls:
 *   createSeconds — POST /v1/review-campaigns' work: one item per grant, with reviewer and
 *                   recommendations;
 *   closeSeconds  — POST /v1/review-campaigns/{id}/close' work with onNoResponse = revoke and
 *                   no decisions: every grant revoked, an event and a delivery per revocation,
 *                   the audit record, then the decision engine's snapshot synced and each
 *                   revocation verified.
 *
 * Prints one JSON line on stdout; progress on stderr. Target: < 60 s each.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { putEntitlement, putSystem } from '../../src/access/catalog.js';
import { PolicyCache } from '../../src/access/policy-cache.js';
import { putCompany } from '../../src/affiliation/companies.js';
import { Keyring } from '../../src/credentials/encryption.js';
import { queryRows } from '../../src/db/client.js';
import { createLogger } from '../../src/logger.js';
import { createSubscriber } from '../../src/outbox/subscribers.js';
import { closeCampaign, createCampaign } from '../../src/reviews/campaigns.js';
import { intEnv, logger, round2, seconds, withScratchDatabase } from './support.js';

const GRANTS = intEnv('BENCH_REVIEWS_GRANTS', 1_000_000);
const TIME_LIMIT_SECONDS = intEnv('BENCH_TIME_LIMIT_SECONDS', 900);
const PER_PERSON = 5;
const log = logger('reviews');

const result = await withScratchDatabase('reviews', { poolSize: 4, timeLimitSeconds: TIME_LIMIT_SECONDS }, async (database) => {
  const { db } = database;
  const setupAt = new Date(Date.now() - 86_400_000);
  const actor = 'bench';
  await putCompany({ db, now: setupAt, actor, code: 'nw', name: 'Bench Network Co.', kind: 'wheeling' });
  await putCompany({ db, now: setupAt, actor, code: 'ep', name: 'Bench Retail Co.', kind: 'retail' });
  await putSystem({ db, now: setupAt, actor, code: 'takuso', name: 'Bench customer system', fields: { supplyPoint: 'network.public', holderName: 'customer.retailer-only' } });
  for (let e = 0; e < PER_PERSON; e++) {
    await putEntitlement({ db, now: setupAt, actor, code: `ent-${e}`, system: 'takuso', name: `Entitlement ${e}`, allowedCompanyKinds: ['wheeling', 'retail'] });
  }
  await createSubscriber({
    db,
    now: setupAt,
    actor,
    keyring: new Keyring([{ id: 'bench', key: randomBytes(32) }]),
    name: 'bench-subscriber',
    url: 'http://127.0.0.1:9/unused',
    format: 'webhook',
    eventTypes: ['grant.revoked'],
  });

  const people = Math.ceil(GRANTS / PER_PERSON);
  let t = performance.now();
  const at = setupAt.toISOString();
  await db.execute(sql`
    insert into persons (id, name, created_at, updated_at)
    select 'P' || lpad(g::text, 7, '0'), 'Bench ' || g, ${at}::timestamptz, ${at}::timestamptz from generate_series(1, ${people}::int) g`);
  await db.execute(sql`
    insert into affiliations (person_id, company_code, org_unit, manager_id, valid_from, recorded_at)
    select 'P' || lpad(g::text, 7, '0'), case when g % 4 = 0 then 'ep' else 'nw' end, 'bench',
           'P' || lpad((((g - 1) / 50) * 50 + 1)::text, 7, '0'), ${at}::timestamptz, ${at}::timestamptz
    from generate_series(1, ${people}::int) g`);
  await db.execute(sql`
    insert into grants (person_id, entitlement_code, valid_from, reason, granted_by, created_at)
    select 'P' || lpad((((n - 1) / ${PER_PERSON}) + 1)::text, 7, '0'), 'ent-' || ((n - 1) % ${PER_PERSON}), ${at}::timestamptz, 'bench', 'bench', ${at}::timestamptz
    from generate_series(1, ${GRANTS}::int) n`);
  await db.execute(sql`analyze`);
  log(`setup: ${people} people, ${GRANTS} grants in ${seconds(performance.now() - t)}s`);

  t = performance.now();
  const policy = await PolicyCache.start(database, { logger: createLogger('silent') });
  log(`policy snapshot loaded in ${seconds(performance.now() - t)}s`);
  try {
    const now = new Date();
    t = performance.now();
    const campaign = await createCampaign({
      db,
      now,
      actor,
      spec: { name: 'bench', scope: { system: 'takuso' }, dueAt: new Date(now.getTime() + 14 * 86_400_000), onNoResponse: 'revoke' },
    });
    const createMs = performance.now() - t;
    if (campaign?.itemCount !== GRANTS) throw new Error(`campaign has ${campaign?.itemCount} items, expected ${GRANTS}`);
    log(`create: ${campaign.itemCount} items in ${seconds(createMs)}s`);

    t = performance.now();
    const closed = await closeCampaign({ db, now: new Date(now.getTime() + 1000), actor, campaignId: campaign.id, policy });
    const closeMs = performance.now() - t;
    const report = closed.closeReport as { revoked: number; verified: number; events: number };
    const [active] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from grants where revoked_at is null`);
    const [deliveries] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from deliveries`);
    if (report.revoked !== GRANTS || report.verified !== GRANTS || active!.n !== 0 || deliveries!.n !== GRANTS) {
      throw new Error(`close incomplete: ${JSON.stringify(report)}, ${active!.n} grants still active, ${deliveries!.n} deliveries`);
    }
    log(`close: ${report.revoked} revoked, ${report.verified} verified, ${report.events} events, ${deliveries!.n} deliveries in ${seconds(closeMs)}s`);
    return { bench: 'reviews', grants: GRANTS, createSeconds: round2(createMs / 1000), closeSeconds: round2(closeMs / 1000) };
  } finally {
    await policy.stop();
  }
});
console.log(JSON.stringify(result));
