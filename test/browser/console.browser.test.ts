import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { startConsoleServer } from '../console/support.js';
import type { TestDatabase } from '../support/db.js';
import { at, plusMs, transfer } from '../support/factories.js';
import type { TestServer } from '../support/http.js';

const SHOTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const NOW = at('2026-06-01T09:00:00+09:00');

/**
 * The console end to end in headless Chromium: sign-in through the real OpenID Connect flow
 * against the development provider (oidc-provider, in process), passkeys through a CDP virtual
 * authenticator, an emergency declared and ended with step-up while a roster member's decision
 * shows up live, and a reviewer certifying and revoking. A screenshot of each page goes to
 * test-results/.
 */
describe('the console in a real browser', () => {
  let database: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let clock = NOW;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };
  const shot = (name: string) => page.screenshot({ path: `${SHOTS}console-${name}.png`, fullPage: true });
  const advance = (ms: number) => server.setNow((clock = plusMs(clock, ms)));
  const url = (path: string) => `${server.publicUrl}${path}`;

  const signIn = async (personId: string) => {
    await page.goto(url('/'));
    await page.waitForURL(/\/console\/login/);
    await page.click('#sign-in');
    await page.waitForURL(/\/dev-idp\/interaction\//);
    await page.selectOption('#person', personId);
    await page.click('button[type=submit].primary');
    await page.waitForURL((u) => u.pathname.startsWith('/console') && !u.pathname.startsWith('/console/login'));
  };
  const registerPasskey = async () => {
    await page.goto(url('/console/account'));
    await page.click('#register-passkey');
    await page.waitForURL(/done=passkey-registered/);
  };

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    ({ database, server } = await startConsoleServer(NOW));
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ja-JP' });
    page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await database?.close();
  });

  it('an emergency officer signs in through OpenID Connect, registers a passkey, declares an emergency with step-up, watches a roster member’s decision, and ends it', async () => {
    await page.goto(url('/console/login'));
    await shot('sign-in');
    await page.click('#sign-in');
    await page.waitForURL(/\/dev-idp\/interaction\//);
    expect(await page.textContent('.banner')).toContain('DEVELOPMENT ONLY');
    await shot('dev-idp');
    await page.selectOption('#person', 'E1002');
    await page.click('button[type=submit].primary');
    await page.waitForURL((u) => u.pathname === '/console');
    expect(await page.textContent('header')).toContain('E1002');

    await registerPasskey();
    expect(await page.textContent('#passkeys')).toContain('nw');
    await shot('account');

    // Ten minutes later the registration no longer counts: declaring asks for the passkey again.
    advance(10 * 60_000);
    await page.goto(url('/console/emergencies'));
    await page.check('input[name=areas][value=aomori]');
    await page.fill('#duration', '180');
    await page.fill('#reason', '台風10号による停電対応');
    await shot('emergencies');
    await page.click('form[action="/console/emergencies"] button[type=submit]');
    await page.waitForURL(/\/console\/emergencies\/[0-9a-f-]{36}\?done=declared/);
    const emergencyId = /emergencies\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    const [declared] = await queryRows<{ status: string; declared_by: string }>(database.db, sql`select status, declared_by from emergencies where id = ${emergencyId}::uuid`);
    expect(declared).toEqual({ status: 'active', declared_by: 'console:E1002' });
    const [stepUp] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from audit_records where action = 'authn.succeeded' and actor = 'console:E1002'`);
    expect(stepUp!.n).toBe(1);

    // A retail roster member at their own company's terminal, in the declared area.
    const decision = await api('POST', '/v1/decisions', {
      personId: 'R2002',
      terminalId: 'T-HACHINOHE-01',
      system: 'takuso',
      record: { customerId: 'C-AOMORI-0042', retailer: 'shinden-a', area: 'aomori' },
      fields: ['supplyPoint', 'holderName', 'phone', 'usage'],
    });
    expect(decision.json).toMatchObject({ decision: 'permit', fields: { supplyPoint: 'allow', holderName: 'allow', phone: 'allow', usage: 'mask' } });
    // The page's live list picks it up by itself.
    await page.waitForSelector('#decisions >> text=C-AOMORI-0042', { timeout: 20_000 });
    expect(await page.textContent('#decisions')).toContain('R2002');
    await shot('emergency');

    await page.click(`form[action="/console/emergencies/${emergencyId}/end"] button`);
    await page.waitForURL(/done=ended/);
    expect(await page.textContent('main')).toContain('解除済み');
    const after = await api('POST', '/v1/decisions', {
      personId: 'R2002',
      terminalId: 'T-HACHINOHE-01',
      system: 'takuso',
      record: { customerId: 'C-AOMORI-0042', retailer: 'shinden-a', area: 'aomori' },
      fields: ['holderName'],
    });
    expect(after.json).toMatchObject({ fields: { holderName: 'mask' } });
    await page.goto(url('/console?lang=en'));
    await shot('dashboard-officer-en');
    await page.goto(url('/console?lang=ja'));
    await page.click('.logout button');
    await page.waitForURL(/\/console\/login/);
  });

  it('a reviewer certifies and revokes items in the inbox, and every page has its picture', async () => {
    const campaign = await api('POST', '/v1/review-campaigns', { name: '2026年度 第1四半期 託送システム', scope: { entitlement: 'takuso-operator' }, dueAt: '2026-06-30T00:00:00+09:00', onNoResponse: 'keep' });
    expect(campaign.status).toBe(201);
    await api('POST', '/v1/shared-secrets', { system: 'takuso', name: '保守用共通パスワード', knownBy: ['E1003', 'E1004'] });
    // A finding for the dashboard: a wheeling employee on a retail office's terminal.
    await api('POST', '/v1/decisions', { personId: 'E1003', terminalId: 'T-HACHINOHE-01', system: 'takuso', record: { customerId: 'C-1', retailer: 'ep', area: 'aomori' }, fields: ['usage'] });

    // A person who moved to the retail company and back, for the timeline picture.
    await transfer(database.db, { personId: 'E1006', company: 'ep', orgUnit: '八戸営業所', at: at('2023-04-01T00:00:00+09:00'), now: NOW });
    await transfer(database.db, { personId: 'E1006', company: 'nw', orgUnit: '青森支社 配電課', at: at('2025-04-01T00:00:00+09:00'), now: NOW });
    // And one about to move: the dashboard lists scheduled transfers.
    await transfer(database.db, { personId: 'E1009', company: 'ep', orgUnit: '八戸営業所', at: at('2026-07-01T00:00:00+09:00'), now: NOW });

    await signIn('E1001');
    await shot('dashboard');
    await page.goto(url('/console/reviews'));
    const rows = page.locator('table.inbox tbody tr');
    expect(await rows.count()).toBeGreaterThan(4);
    await rows.nth(0).locator('button[value=certify]').click();
    await page.waitForURL(/done=certified/);
    await page.locator('table.inbox tbody tr').nth(1).locator('button[value=revoke]').click();
    await page.waitForURL(/done=revoked/);
    await page.locator('table.inbox tbody tr').nth(2).locator('input[type=checkbox]').check();
    await page.locator('table.inbox tbody tr').nth(3).locator('input[type=checkbox]').check();
    await page.click('.bulk-bar button[value=revoke]');
    await page.waitForURL(/\/console\/reviews\/bulk$/);
    await shot('reviews-bulk-confirm');
    await page.click('form[action="/console/reviews/bulk/confirm"] button[type=submit]');
    await page.waitForURL(/done=bulk-revoke/);
    await shot('reviews');
    const decided = await queryRows<{ decision: string; n: number }>(
      database.db,
      sql`select decision, count(*)::int as n from review_items where campaign_id = ${campaign.json.id}::uuid and decision is not null group by decision order by decision`,
    );
    expect(decided).toEqual([
      { decision: 'certify', n: 1 },
      { decision: 'revoke', n: 3 },
    ]);

    await page.goto(url('/console/campaigns'));
    await shot('campaigns');
    await page.goto(url('/console/people/E1006'));
    expect(await page.locator('svg.timeline rect').count()).toBe(3);
    await shot('person');
    await page.goto(url('/console/findings?status=all'));
    await shot('findings');
    await page.goto(url('/console/reports'));
    await shot('reports');
    await page.goto(url('/console/secrets'));
    await shot('secrets');

    // The phone-size screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(url('/console/reviews'));
    await shot('reviews-phone');
    await page.goto(url('/console'));
    await shot('dashboard-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('the retail company’s people see only their own account and reviews', async () => {
    await page.click('.logout button');
    await page.waitForURL(/\/console\/login/);
    await signIn('R2003');
    expect(new URL(page.url()).pathname).toBe('/console/account');
    const res = await page.goto(url('/console/emergencies'));
    expect(res!.status()).toBe(403);
    await shot('retail-forbidden');
  });
});
