import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putSystem } from '../../src/access/catalog.js';
import { createGrant, listPersonGrants, revokeGrant } from '../../src/access/grants.js';
import { decisionLog, grants } from '../../src/access/schema.js';
import { verifyAudit } from '../../src/audit/chain.js';
import { issuePassword, listPersonCredentials } from '../../src/credentials/issue.js';
import { outboxEvents } from '../../src/outbox/schema.js';
import { sendReviewNotices } from '../../src/reviews/notices.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeTakuso } from '../support/access.js';
import { at, hire, leave, makeUtilityGroup, plusMs, T0, transfer } from '../support/factories.js';
import { startTestServer, type TestServer } from '../support/http.js';

const NOW = at('2026-10-01T09:00:00+09:00');
const DAY = 86_400_000;

interface CampaignView {
  id: string;
  status: string;
  itemCount: number;
  closeReport: Record<string, unknown> | null;
}
interface ItemView {
  id: string;
  grantId: string;
  personId: string;
  entitlement: string;
  reviewerId: string | null;
  recommendation: string[];
  decision: string | null;
  outcome: string | null;
  verified: boolean | null;
}

describe('access certification campaigns', () => {
  let database: TestDatabase;
  let server: TestServer;
  let reviews: string;
  const people: Record<string, string> = {};
  const grantOf: Record<string, string> = {};

  const call = async (method: string, path: string, body?: unknown, token = reviews) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
  };
  const open = async (body: Record<string, unknown>) => {
    const res = await call('POST', '/v1/review-campaigns', { dueAt: plusMs(NOW, 14 * DAY).toISOString(), ...body });
    expect(res.status).toBe(201);
    return res.body as CampaignView;
  };
  const itemsOf = async (id: string) => ((await call('GET', `/v1/review-campaigns/${id}/items`)).body as { items: ItemView[] }).items;
  const decideFor = async (person: string, terminalId: string) =>
    (
      await call(
        'POST',
        '/v1/decisions',
        { personId: people[person], terminalId, system: 'takuso', record: { customerId: 'C1', retailer: 'shinden-a', area: 'aomori' }, fields: ['supplyPoint'] },
        await server.token('decide'),
      )
    ).body as { decision: string; reasons: string[] };

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    await makeUtilityGroup(db);
    await makeTakuso(db);
    people.owner = await hire(db, { company: 'nw', at: T0 });
    await putSystem({ db, now: T0, actor: 'test', code: 'billing', name: '料金システム', ownerCompany: 'nw', ownerPersonId: people.owner, fields: { amount: 'network.internal' } });
    await db.execute(`update systems set owner_person_id = '${people.owner}' where code = 'takuso'`);
    people.manager = await hire(db, { company: 'nw', at: T0 });
    people.operator = await hire(db, { company: 'nw', at: T0, managerId: people.manager });
    people.idle = await hire(db, { company: 'nw', at: T0, managerId: people.manager });
    people.mover = await hire(db, { company: 'nw', at: T0 });
    people.leaver = await hire(db, { company: 'nw', at: T0 });
    people.clerk = await hire(db, { company: 'ep', at: T0 });
    const grant = async (person: string, entitlement: string) => {
      grantOf[person] = (await createGrant({ db, now: T0, actor: 'test', personId: people[person]!, entitlement, reason: 'test' })).id;
    };
    for (const p of ['operator', 'idle', 'mover', 'leaver']) await grant(p, 'takuso-operator');
    await grant('clerk', 'takuso-switching');
    // The mover keeps a retail-allowed grant through the transfer; the transfer happened after the grant.
    grantOf.moverSwitching = (await createGrant({ db, now: T0, actor: 'test', personId: people.mover!, entitlement: 'takuso-switching', reason: 'test' })).id;
    await transfer(db, { personId: people.mover!, company: 'ep', at: plusMs(NOW, -30 * DAY), now: T0 });
    // A grant that raced a transfer: held by retail though only the wheeling company may hold it.
    await db.insert(grants).values({ personId: people.clerk!, entitlementCode: 'takuso-operator', validFrom: T0, reason: 'raced a transfer', grantedBy: 'test', createdAt: T0 });
    // The leaver's leaving is recorded, effective before the campaign, its side effects not yet run.
    await leave(db, { personId: people.leaver!, at: plusMs(NOW, -DAY), now: T0 });
    // Revoked and expired grants are not reviewed.
    const gone = await hire(db, { company: 'nw', at: T0 });
    await revokeGrant({ db, now: T0, actor: 'test', grantId: (await createGrant({ db, now: T0, actor: 'test', personId: gone, entitlement: 'takuso-operator', reason: 'x' })).id, reason: 'x' });
    // The operator used the system last week; nobody else did in 90 days.
    await db.insert(decisionLog).values({ id: randomUUID(), at: plusMs(NOW, -7 * DAY), personId: people.operator!, system: 'takuso', decision: 'permit', allowed: [], masked: [], reasons: ['grant'], caller: 'test' });
    await issuePassword({ db, now: T0, actor: 'test', personId: people.idle!, system: 'takuso', loginId: 'idle-login' });

    server = await startTestServer(database, { now: NOW });
    reviews = await server.token('reviews');
  });
  afterAll(async () => {
    await server.close();
    await database.close();
  });

  it('takes one item per active grant in scope, each with its reviewer and the reasons to look twice', async () => {
    const campaign = await open({ name: 'takuso Q3', scope: { system: 'takuso' }, onNoResponse: 'revoke' });
    const items = await itemsOf(campaign.id);
    expect(campaign.itemCount).toBe(7);
    expect(items).toHaveLength(7);
    const byGrant = Object.fromEntries(items.map((i) => [i.grantId, i]));
    expect(byGrant[grantOf.operator!]).toMatchObject({ reviewerId: people.manager, recommendation: [] });
    expect(byGrant[grantOf.idle!]).toMatchObject({ reviewerId: people.manager, recommendation: ['unused-90-days'] });
    // No manager: the system's owner reviews.
    expect(byGrant[grantOf.clerk!]).toMatchObject({ reviewerId: people.owner, recommendation: ['unused-90-days'] });
    expect(byGrant[grantOf.moverSwitching!]!.recommendation).toEqual(['holder-changed-company', 'unused-90-days']);
    expect(byGrant[grantOf.mover!]!.recommendation).toEqual(['holder-changed-company', 'crosses-firewall', 'unused-90-days']);
    expect(byGrant[grantOf.leaver!]!.recommendation).toEqual(['holder-left', 'unused-90-days']);
    const raced = items.find((i) => i.personId === people.clerk && i.entitlement === 'takuso-operator')!;
    expect(raced.recommendation).toEqual(['crosses-firewall', 'unused-90-days']);
  });

  it('never makes a holder their own reviewer, even when named', async () => {
    const campaign = await open({ name: 'named', scope: { entitlement: 'takuso-operator' }, reviewerId: people.operator, onNoResponse: 'keep' });
    const items = await itemsOf(campaign.id);
    expect(items.find((i) => i.personId === people.operator)!.reviewerId).toBe(people.manager);
    expect(items.filter((i) => i.personId !== people.operator).every((i) => i.reviewerId === people.operator)).toBe(true);
    expect((await call('POST', `/v1/review-campaigns/${campaign.id}/close`)).status).toBe(200);
  });

  it('scopes by company kind: a retail-only campaign holds only retail holders', async () => {
    const campaign = await open({ name: 'retail holders', scope: { companyKind: 'retail' }, onNoResponse: 'keep' });
    const items = await itemsOf(campaign.id);
    expect(new Set(items.map((i) => i.personId))).toEqual(new Set([people.clerk, people.mover]));
    await call('POST', `/v1/review-campaigns/${campaign.id}/close`);
  });

  it('on close revokes what was revoked or left unanswered, keeps what was certified, and the grants deny at once, verified', async () => {
    const campaign = await open({ name: 'takuso close', scope: { system: 'takuso' }, onNoResponse: 'revoke' });
    const items = await itemsOf(campaign.id);
    const item = (grantId: string) => items.find((i) => i.grantId === grantId)!;
    expect((await call('POST', `/v1/review-items/${item(grantOf.operator!).id}/decision`, { decision: 'certify', comment: 'daily work' })).status).toBe(200);
    expect((await call('POST', `/v1/review-items/${item(grantOf.clerk!).id}/decision`, { decision: 'revoke', comment: 'no longer on switching' })).status).toBe(200);
    expect((await decideFor('clerk', 'T-EP-01')).decision).toBe('permit'); // still holds the raced grant until close

    const closed = await call('POST', `/v1/review-campaigns/${campaign.id}/close`);
    expect(closed.status).toBe(200);
    const report = (closed.body as CampaignView).closeReport!;
    expect(report).toMatchObject({ items: 7, certified: 1, revoked: 6, revokedByNoResponse: 5, keptByNoResponse: 0, notVerified: [] });
    expect(report.verified).toBe(6);

    expect((await decideFor('clerk', 'T-EP-01')).reasons).toEqual(['no-grant']);
    expect((await decideFor('idle', 'T-NW-01')).reasons).toEqual(['no-grant']);
    expect((await decideFor('operator', 'T-NW-01')).decision).toBe('permit');
    const after = await itemsOf(campaign.id);
    expect(after.filter((i) => i.outcome === 'revoked').map((i) => i.verified)).toEqual(Array(6).fill(true));
    expect(after.filter((i) => i.outcome === 'kept').map((i) => i.verified)).toEqual([null]);
    const operatorGrants = await listPersonGrants(database.db, people.operator!, NOW);
    expect(operatorGrants.find((g) => g.id === grantOf.operator)!.status).toBe('active');
    const idleGrant = (await listPersonGrants(database.db, people.idle!, NOW)).find((g) => g.id === grantOf.idle)!;
    expect(idleGrant).toMatchObject({ status: 'revoked', revokedReason: `review:${campaign.id}` });
    // The idle person's password account on takuso goes with their last grant on it.
    expect((await listPersonCredentials(database.db, people.idle!)).map((c) => [c.type, c.revokedReason])).toEqual([['password', 'review']]);
    const events = await database.db.select().from(outboxEvents).where(eq(outboxEvents.subjectId, people.idle!));
    expect(events.map((e) => e.type).sort()).toEqual(expect.arrayContaining(['credential.revoked', 'grant.revoked']));

    // Closed is final.
    expect((await call('POST', `/v1/review-items/${item(grantOf.operator!).id}/decision`, { decision: 'revoke' })).status).toBe(409);
    expect((await call('POST', `/v1/review-campaigns/${campaign.id}/close`)).status).toBe(409);
    const csv = (await call('GET', `/v1/review-campaigns/${campaign.id}/report?format=csv`)).body as string;
    expect(csv.split('\r\n')[0]).toContain('decided_by');
    expect(csv).toContain('no longer on switching');
    expect(await verifyAudit(database.db)).toMatchObject({ ok: true });
  });

  it('keeps unanswered items when the campaign says keep', async () => {
    const campaign = await open({ name: 'keep', scope: { system: 'takuso' }, onNoResponse: 'keep' });
    const closed = (await call('POST', `/v1/review-campaigns/${campaign.id}/close`)).body as CampaignView;
    expect(closed.closeReport).toMatchObject({ revoked: 0, keptByNoResponse: closed.itemCount });
    expect((await decideFor('operator', 'T-NW-01')).decision).toBe('permit');
  });

  it('refuses bad requests with problems and stores nothing', async () => {
    const before = (await call('GET', '/v1/review-campaigns/00000000-0000-4000-8000-000000000000')).status;
    expect(before).toBe(404);
    const bad = [
      { name: 'x', scope: {}, onNoResponse: 'revoke' },
      { name: 'x', scope: { system: 'nowhere' }, onNoResponse: 'revoke' },
      { name: 'x', scope: { system: 'takuso' }, onNoResponse: 'maybe' },
      { name: 'x', scope: { system: 'takuso' }, onNoResponse: 'revoke', extra: true },
      { name: 'x', scope: { system: 'takuso' }, onNoResponse: 'revoke', dueAt: plusMs(NOW, -DAY).toISOString() },
    ];
    const statuses = [];
    for (const body of bad) statuses.push((await call('POST', '/v1/review-campaigns', { dueAt: plusMs(NOW, DAY).toISOString(), ...body })).status);
    expect(statuses).toEqual([400, 422, 400, 400, 422]);
    expect((await call('POST', '/v1/review-campaigns', { name: 'x', scope: { system: 'takuso' }, onNoResponse: 'revoke', dueAt: plusMs(NOW, DAY).toISOString() }, await server.token('decide'))).status).toBe(403);
  });

  it('reminds reviewers at the midpoint and a day before, once each, and escalates overdue items to their manager', async () => {
    const { db } = database;
    await createGrant({ db, now: NOW, actor: 'test', personId: people.clerk!, entitlement: 'takuso-switching', reason: 'switching again' });
    const campaign = await open({ name: 'notices', scope: { entitlement: 'takuso-switching' }, reviewerId: people.operator, onNoResponse: 'keep', dueAt: plusMs(NOW, 10 * DAY).toISOString() });
    const noticesFor = async () =>
      (await db.select().from(outboxEvents)).filter((e) => (e.payload as { campaignId?: string }).campaignId === campaign.id).map((e) => [e.type, e.subjectId, (e.payload as { notice: string }).notice]);
    expect(campaign.itemCount).toBe(1);
    await sendReviewNotices({ db, now: plusMs(NOW, 4 * DAY) });
    expect(await noticesFor()).toEqual([]);
    await sendReviewNotices({ db, now: plusMs(NOW, 5 * DAY) });
    await sendReviewNotices({ db, now: plusMs(NOW, 5 * DAY + 60_000) });
    expect(await noticesFor()).toEqual([['review.reminder', people.operator, 'midpoint']]);
    await sendReviewNotices({ db, now: plusMs(NOW, 9 * DAY + 1) });
    await sendReviewNotices({ db, now: plusMs(NOW, 10 * DAY) });
    await sendReviewNotices({ db, now: plusMs(NOW, 11 * DAY) });
    expect(await noticesFor()).toEqual([
      ['review.reminder', people.operator, 'midpoint'],
      ['review.reminder', people.operator, 'day-before'],
      ['review.escalated', people.manager, 'escalated'],
    ]);
  });
});
