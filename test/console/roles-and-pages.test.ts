import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { applyDueEvents } from '../../src/hr/jobs.js';
import { at, leave, plusMs } from '../support/factories.js';
import type { TestDatabase } from '../support/db.js';
import type { TestServer } from '../support/http.js';
import { Browser, sessionFor, startConsoleServer } from './support.js';

const NOW = at('2026-06-01T09:00:00+09:00');

describe('console roles and pages', () => {
  let database: TestDatabase;
  let server: TestServer;
  let nwCampaign: string;
  let retailCampaign: string;

  beforeAll(async () => {
    // R2001 (retail) is named admin here on purpose: the firewall must win over the assignment.
    ({ database, server } = await startConsoleServer(NOW, { SEKISHO_CONSOLE_ROLES: 'E1001=admin,compliance,review-admin;E1002=emergency-officer;R2001=admin,reviewer' }));
    const post = async (body: unknown) => {
      const res = await fetch(`${server.url}/v1/review-campaigns`, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    // Everyone's takuso grants, reviewed by R2001: retail staff's and the wheeling company's alike.
    nwCampaign = await post({ name: 'takuso operators', scope: { entitlement: 'takuso-operator' }, reviewerId: 'R2001', dueAt: '2026-06-30T00:00:00+09:00', onNoResponse: 'keep' });
    retailCampaign = await post({ name: 'switching support', scope: { entitlement: 'takuso-switching' }, reviewerId: 'R2001', dueAt: '2026-06-30T00:00:00+09:00', onNoResponse: 'keep' });
  });
  afterAll(async () => {
    await server?.close();
    await database?.close();
  });

  it('a person of the retail company never sees a non-public page, whatever role they were assigned', async () => {
    const retail = await sessionFor(server, database.db, 'R2001', NOW);
    for (const path of ['/console/emergencies', '/console/findings', '/console/people', '/console/people/E1001', '/console/reports', '/console/secrets', '/console/campaigns', '/console/reports/findings.csv']) {
      const res = await retail.get(path);
      expect(res.status, path).toBe(403);
      expect(res.text, path).not.toContain('E1001 佐藤');
    }
    // The dashboard sends them to what they may see: their own review inbox.
    const home = await retail.request('/console', { follow: false });
    expect(home.location).toBe('/console/reviews');
    // Nor through the API with the session.
    expect((await retail.get('/v1/emergencies')).status).toBe(403);
    expect((await retail.get('/v1/findings')).status).toBe(403);
  });

  it('a retail reviewer sees only the items about people of their own company', async () => {
    const retail = await sessionFor(server, database.db, 'R2001', NOW);
    const inbox = await retail.get('/console/reviews');
    expect(inbox.status).toBe(200);
    expect(inbox.text).toContain('R2002');
    expect(inbox.text).not.toMatch(/E10\d\d/);
    // Acting on a wheeling person's item by id is refused as well.
    const [item] = await queryRows<{ id: string }>(database.db, sql`select id from review_items where campaign_id = ${nwCampaign}::uuid and person_id = 'E1003'`);
    const csrf = await retail.csrf('/console/reviews');
    const res = await retail.postForm(`/console/reviews/items/${item!.id}/decision`, { _csrf: csrf, decision: 'revoke' });
    expect(res.status).toBe(403);
    const [after] = await queryRows<{ decision: string | null }>(database.db, sql`select decision from review_items where id = ${item!.id}::uuid`);
    expect(after!.decision).toBeNull();
  });

  it('an emergency officer is not a reviewer by default', async () => {
    const officer = await sessionFor(server, database.db, 'E1002', NOW);
    expect((await officer.get('/console/reviews')).status).toBe(403);
    expect((await officer.get('/console/campaigns')).status).toBe(403);
    expect((await officer.get('/console/emergencies')).status).toBe(200);
    const nav = (await officer.get('/console')).text;
    expect(nav).not.toContain('href="/console/reviews"');
  });

  it('a reviewer certifies and revokes with one click each, and decides several at once after confirming', async () => {
    const reviewer = await sessionFor(server, database.db, 'R2001', NOW);
    const items = await queryRows<{ id: string; personId: string }>(
      database.db,
      sql`select id, person_id as "personId" from review_items where campaign_id = ${retailCampaign}::uuid and reviewer_id = 'R2001' order by person_id`,
    );
    expect(items.length).toBeGreaterThan(3);
    const csrf = await reviewer.csrf('/console/reviews');
    expect((await reviewer.postForm(`/console/reviews/items/${items[0]!.id}/decision`, { _csrf: csrf, decision: 'certify' })).status).toBe(303);
    expect((await reviewer.postForm(`/console/reviews/items/${items[1]!.id}/decision`, { _csrf: csrf, decision: 'revoke' })).status).toBe(303);

    const rest = items.slice(2).map((i) => i.id);
    const confirm = await reviewer.postForm('/console/reviews/bulk', { _csrf: csrf, decision: 'certify', item: rest });
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain(`${rest.length}`);
    // Nothing is decided until confirmed.
    const undecided = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from review_items where campaign_id = ${retailCampaign}::uuid and reviewer_id = 'R2001' and decision is null`);
    expect(undecided[0]!.n).toBe(rest.length);
    expect((await reviewer.postForm('/console/reviews/bulk/confirm', { _csrf: csrf, decision: 'certify', item: rest })).status).toBe(303);
    const decided = await queryRows<{ decision: string; n: number }>(
      database.db,
      sql`select decision, count(*)::int as n from review_items where campaign_id = ${retailCampaign}::uuid and reviewer_id = 'R2001' group by decision order by decision`,
    );
    expect(decided).toEqual([
      { decision: 'certify', n: items.length - 1 },
      { decision: 'revoke', n: 1 },
    ]);
  });

  it('pages are in Japanese by default and in English on ?lang=en or Accept-Language', async () => {
    const admin = await sessionFor(server, database.db, 'E1001', NOW);
    expect((await admin.get('/console')).text).toContain('<html lang="ja">');
    const english = await admin.get('/console?lang=en');
    expect(english.text).toContain('<html lang="en">');
    expect(english.text).toContain('Dashboard');
    // Remembered for the next page.
    expect((await admin.get('/console/findings')).text).toContain('Findings');
    const fresh = await sessionFor(server, database.db, 'E1001', NOW);
    const byHeader = await fresh.request('/console', { headers: { 'accept-language': 'en-US,en;q=0.9,ja;q=0.5' } });
    expect(byHeader.text).toContain('<html lang="en">');
  });

  it('every page an administrator has renders, with the person page’s affiliation timeline drawn as a picture', async () => {
    const admin = await sessionFor(server, database.db, 'E1001', NOW);
    for (const path of ['/console', '/console/emergencies', '/console/campaigns', '/console/people?q=R20', '/console/people/R2002', '/console/findings', '/console/reports', '/console/secrets', '/console/account']) {
      const res = await admin.get(path);
      expect(res.status, path).toBe(200);
      expect(res.text, path).toMatch(/<main id="main"/);
    }
    const person = await admin.get('/console/people/R2002');
    expect(person.text).toMatch(/<svg class="timeline"[^>]*role="img"/);
    expect(person.text).toContain('CARD-R2002');
    const csv = await admin.get('/console/reports/findings.csv?status=all');
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    // The non-public access report is the API's (detection), read through the session: the
    // console hands over with the days as Japan-time instants.
    const report = await admin.request('/console/reports/nonpublic-access.csv?from=2026-05-01&to=2026-06-02', { follow: false });
    expect(report.status).toBe(303);
    const target = new URL(report.location!, server.publicUrl);
    expect(target.pathname).toBe('/v1/reports/nonpublic-access');
    expect(Object.fromEntries(target.searchParams)).toEqual({ from: '2026-05-01T00:00:00+09:00', to: '2026-06-02T00:00:00+09:00', format: 'csv' });
  });

  it('a person who has left cannot sign in, and gets no session', async () => {
    await leave(database.db, { personId: 'E1012', at: plusMs(NOW, -1000), now: plusMs(NOW, -1000) });
    await applyDueEvents({ db: database.db, now: NOW });
    const b = new Browser(server);
    const start = await b.get('/console/login/start');
    const uid = /\/dev-idp\/interaction\/([^/"]+)\/login/.exec(start.text)![1]!;
    const res = await b.request(`/dev-idp/interaction/${uid}/login`, { method: 'POST', body: new URLSearchParams({ personId: 'E1012' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(403);
    expect(b.cookies.has('sekisho_session')).toBe(false);
  });
});
