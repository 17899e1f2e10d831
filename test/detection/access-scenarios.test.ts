import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putTerminal } from '../../src/access/catalog.js';
import { createGrant } from '../../src/access/grants.js';
import { verifyAudit } from '../../src/audit/chain.js';
import { issuePassword } from '../../src/credentials/issue.js';
import { createSharedSecret, rotateSharedSecret } from '../../src/credentials/shared-secrets.js';
import { declareEmergency, endEmergency } from '../../src/emergency/declarations.js';
import { putRosterMember } from '../../src/emergency/roster.js';
import { makeTakuso } from '../support/access.js';
import { at, hire, makeCompany, makeUtilityGroup, T0, transfer } from '../support/factories.js';
import { testKeyring } from '../support/http.js';
import { logged, reportPath, startHarness, type Harness } from './access-support.js';

/**
 * The regulator's cases replayed as access logs through POST /v1/access-logs, scanned by the
 * rules job, and read back through GET /v1/findings and the reports. Every expected number is
 * counted by hand from the events listed in the test.
 */

const NOW = at('2026-11-01T09:00:00+09:00');
const jst = (s: string) => `2026-10-${s}+09:00`;

describe('a network terminal in a retail office, used by retail staff with their own ID card (Tohoku 2023)', () => {
  let h: Harness;
  const p: Record<string, string> = {};

  beforeAll(async () => {
    h = await startHarness(NOW, async ({ db }) => {
      await makeUtilityGroup(db);
      await makeCompany(db, 'shinden-b', 'retail');
      await makeTakuso(db);
      // The wheeling company's terminal sits in the retail company's Hachinohe office.
      await putTerminal({ db, now: T0, actor: 'test', id: 'T-NW-HACHINOHE', company: 'nw', site: '八戸営業所' });
      p.ep1 = await hire(db, { company: 'ep', at: T0 });
      p.ep2 = await hire(db, { company: 'ep', at: T0 });
      p.nw1 = await hire(db, { company: 'nw', at: T0 });
      for (const person of [p.ep1, p.ep2]) await createGrant({ db, now: T0, actor: 'test', personId: person!, entitlement: 'takuso-switching', reason: 'switching' });
      await createGrant({ db, now: T0, actor: 'test', personId: p.nw1!, entitlement: 'takuso-operator', reason: 'operator' });
    });
    const events = [
      // ep1 on the network terminal: other retailers' customers' names and usage, and one of ep's own customers.
      logged({ at: jst('05T10:00:00'), personId: p.ep1, terminalId: 'T-NW-HACHINOHE', customerId: 'C-A1', retailer: 'shinden-a', fields: ['supplyPoint', 'holderName', 'phone'] }),
      logged({ at: jst('05T10:05:00'), personId: p.ep1, terminalId: 'T-NW-HACHINOHE', customerId: 'C-A2', retailer: 'shinden-a', fields: ['supplyPoint', 'usage'] }),
      logged({ at: jst('05T10:10:00'), personId: p.ep1, terminalId: 'T-NW-HACHINOHE', customerId: 'C-E1', retailer: 'ep', fields: ['supplyPoint', 'holderName'] }),
      logged({ at: jst('05T10:15:00'), personId: p.ep1, terminalId: 'T-NW-HACHINOHE', customerId: 'C-A1', retailer: 'shinden-a', fields: ['holderName'] }),
      // ep2 on the same terminal: network-internal load equipment, and a customer whose retailer was not logged.
      logged({ at: jst('05T11:00:00'), personId: p.ep2, terminalId: 'T-NW-HACHINOHE', customerId: 'C-B1', retailer: 'shinden-b', fields: ['supplyPoint', 'loadEquipment'] }),
      logged({ at: jst('05T11:05:00'), personId: p.ep2, terminalId: 'T-NW-HACHINOHE', customerId: 'C-X1', fields: ['holderName'] }),
      // ep2 back at their own terminal, public fields only: nothing to say.
      logged({ at: jst('05T11:30:00'), personId: p.ep2, terminalId: 'T-EP-01', customerId: 'C-B2', retailer: 'shinden-b', fields: ['supplyPoint'] }),
      // Wheeling staff see everything on their own terminal; on a retail terminal they are out of place.
      logged({ at: jst('05T09:00:00'), personId: p.nw1, terminalId: 'T-NW-01', customerId: 'C-A1', retailer: 'shinden-a', fields: ['holderName', 'loadEquipment'] }),
      logged({ at: jst('05T13:00:00'), personId: p.nw1, terminalId: 'T-EP-01', customerId: 'C-E2', retailer: 'ep', fields: ['supplyPoint'] }),
    ];
    expect((await h.post(events)).status).toBe(202);
    await h.scan(NOW);
  });
  afterAll(() => h.close());

  it('raises exactly a terminal mismatch per person and terminal, and a non-public finding per retail viewer', async () => {
    expect(await h.findingList()).toEqual(
      [
        ['nonpublic-viewed-by-non-wheeling', p.ep1, 3],
        ['nonpublic-viewed-by-non-wheeling', p.ep2, 2],
        ['terminal-company-mismatch', `${p.ep1}|T-NW-HACHINOHE`, 4],
        ['terminal-company-mismatch', `${p.ep2}|T-NW-HACHINOHE`, 2],
        ['terminal-company-mismatch', `${p.nw1}|T-EP-01`, 1],
      ].sort(),
    );
    const { body } = await h.get(`/v1/findings?personId=${p.ep1}&rule=terminal-company-mismatch`);
    expect(body.items).toEqual([
      expect.objectContaining({
        personId: p.ep1,
        terminalId: 'T-NW-HACHINOHE',
        severity: 'high',
        count: 4,
        status: 'open',
        firstSeen: at(jst('05T10:00:00')).toISOString(),
        lastSeen: at(jst('05T10:15:00')).toISOString(),
        details: expect.objectContaining({ source: 'access-log', company: 'ep', terminalCompany: 'nw', site: '八戸営業所' }),
      }),
    ]);
  });

  it("reports the day's non-public views by viewer, company and site, customers, records and retailers", async () => {
    const { status, body } = await h.get(reportPath(jst('05T00:00:00'), jst('06T00:00:00')));
    expect(status).toBe(200);
    // ep1: e1, e2, e4 (C-A1 twice, C-A2), all shinden-a; ep2: C-B1 (shinden-b) and C-X1 (retailer not logged).
    expect(body.totals).toEqual({
      viewers: 2,
      companies: 1,
      customers: 4,
      records: 5,
      retailers: 2,
      emergencyRecords: 0,
      firstAccess: at(jst('05T10:00:00')).toISOString(),
      lastAccess: at(jst('05T11:05:00')).toISOString(),
    });
    expect(body.viewers).toEqual([
      {
        personId: p.ep1,
        loginId: null,
        company: 'ep',
        rulesCompany: 'ep',
        rulesKind: 'retail',
        site: '八戸営業所',
        records: 3,
        customers: 2,
        retailers: ['shinden-a'],
        emergencyRecords: 0,
        firstAccess: at(jst('05T10:00:00')).toISOString(),
        lastAccess: at(jst('05T10:15:00')).toISOString(),
      },
      expect.objectContaining({ personId: p.ep2, site: '八戸営業所', records: 2, customers: 2, retailers: ['shinden-b', null] }),
    ]);
    expect(body.companies).toEqual([expect.objectContaining({ company: 'ep', site: '八戸営業所', viewers: 2, records: 5, customers: 4 })]);
    expect(body.retailers).toEqual([
      expect.objectContaining({ retailer: 'shinden-a', customers: 2, records: 3, viewers: 1 }),
      expect.objectContaining({ retailer: 'shinden-b', customers: 1, records: 1, viewers: 1 }),
      expect.objectContaining({ retailer: null, customers: 1, records: 1, viewers: 1 }),
    ]);
  });

  it('gives the same viewers as CSV for the regulator', async () => {
    const { status, text } = await h.get(reportPath(jst('05T00:00:00'), jst('06T00:00:00'), '&format=csv'));
    expect(status).toBe(200);
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('person_id,login_id,company,rules_company,rules_kind,site,records,customers,retailers,emergency_records,first_access,last_access');
    expect(lines.slice(1)).toEqual([
      `${p.ep1},,ep,ep,retail,八戸営業所,3,2,shinden-a,0,${at(jst('05T10:00:00')).toISOString()},${at(jst('05T10:15:00')).toISOString()}`,
      `${p.ep2},,ep,ep,retail,八戸営業所,2,2,shinden-b;(not logged),0,${at(jst('05T11:00:00')).toISOString()},${at(jst('05T11:05:00')).toISOString()}`,
    ]);
  });

  it('answers who could have seen a customer (grants, the misplaced terminal) and who did', async () => {
    const { status, body } = await h.get(`/v1/reports/exposure?customerId=C-A1&from=${encodeURIComponent(jst('05T00:00:00'))}&to=${encodeURIComponent(jst('06T00:00:00'))}`);
    expect(status).toBe(200);
    expect(body.retailer).toBe('shinden-a');
    // The retail staff's switching grants reach takuso's non-public fields of a shinden-a customer; the operator is wheeling.
    expect(body.couldHaveSeen.byGrant.map((g: { personId: string }) => g.personId).sort()).toEqual([p.ep1, p.ep2].sort());
    expect(body.couldHaveSeen.byGrant[0]).toMatchObject({
      system: 'takuso',
      entitlement: 'takuso-switching',
      fields: ['loadEquipment', 'retailerName', 'holderName', 'phone', 'usage'],
      from: at(jst('05T00:00:00')).toISOString(),
      to: at(jst('06T00:00:00')).toISOString(),
    });
    expect(body.couldHaveSeen.terminalsAtRetailSites).toEqual([{ terminalId: 'T-NW-HACHINOHE', company: 'nw', site: '八戸営業所', retailCompaniesAtSite: ['ep'] }]);
    expect(body.didSee).toEqual([
      expect.objectContaining({ personId: p.ep1, company: 'ep', site: '八戸営業所', system: 'takuso', records: 2, customers: 1, fields: ['holderName', 'phone'] }),
    ]);
  });
});

describe("one person's mass viewing during a switching surge (call centre, 8 retailers' customers)", () => {
  let h: Harness;
  const p: Record<string, string> = {};
  const THRESHOLD = 100;
  const customer = (i: number) => `C-S${String(i).padStart(3, '0')}`;
  const retailerOf = (i: number) => (i % 2 === 0 ? 'shinden-a' : 'shinden-b');
  /** a1 views customers [from, to) one minute apart from `start`. */
  const views = (person: string, from: number, to: number, start: string, retailer?: (i: number) => string) =>
    Array.from({ length: to - from }, (_, k) =>
      logged({
        at: new Date(at(start).getTime() + k * 60_000).toISOString(),
        personId: person,
        terminalId: 'T-CALL-01',
        customerId: customer(from + k),
        retailer: (retailer ?? retailerOf)(from + k),
        fields: ['supplyPoint', 'holderName'],
      }),
    );

  beforeAll(async () => {
    h = await startHarness(NOW, async ({ db }) => {
      await makeUtilityGroup(db);
      await makeCompany(db, 'shinden-b', 'retail');
      await makeCompany(db, 'ep-call', 'contractor', 'ep');
      await makeTakuso(db);
      await putTerminal({ db, now: T0, actor: 'test', id: 'T-CALL-01', company: 'ep-call', site: 'コールセンター' });
      p.a1 = await hire(db, { company: 'ep-call', at: T0 });
      p.a2 = await hire(db, { company: 'ep-call', at: T0 });
    });
  });
  afterAll(() => h.close());

  it('raises bulk-access once the day passes the threshold, counting every view of that day (Asia/Tokyo), and keeps counting', async () => {
    // Batch 1: 90 distinct customers on 6 October; a colleague looks at 30 of the retail company's own.
    const first = [...views(p.a1!, 0, 90, jst('06T09:00:00')), ...views(p.a2!, 200, 230, jst('06T09:00:00'), () => 'ep')];
    expect((await h.post(first, { key: 'surge-1', ndjson: true })).body).toEqual({ accepted: 120, batchId: 'surge-1' });
    await h.scan(NOW, { bulkAccessThreshold: THRESHOLD });
    expect((await h.findingList()).filter(([rule]) => rule === 'bulk-access')).toEqual([]);

    // Batch 2: 20 of them again and 30 new ones that day (120 distinct), then 10 more just after midnight JST,
    // which is still 6 October in UTC: a new day, under the threshold.
    const second = [...views(p.a1!, 0, 20, jst('06T12:00:00')), ...views(p.a1!, 90, 120, jst('06T13:00:00')), ...views(p.a1!, 120, 130, jst('07T00:05:00'))];
    expect((await h.post(second, { key: 'surge-2' })).status).toBe(202);
    await h.scan(NOW, { bulkAccessThreshold: THRESHOLD });
    // The same batch delivered again (a retry after a lost answer): same answer, nothing stored or counted twice.
    const again = await h.post(second, { key: 'surge-2' });
    expect(again).toMatchObject({ status: 202, body: { accepted: 60, batchId: 'surge-2' } });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await h.scan(NOW, { bulkAccessThreshold: THRESHOLD });

    // 6 October: 90 + 20 + 30 = 140 views of 120 customers. a1's non-public views: all 150 (other retailers' names).
    expect(await h.findingList()).toEqual([
      ['bulk-access', `${p.a1}|2026-10-06`, 140],
      ['nonpublic-viewed-by-non-wheeling', p.a1!, 150],
    ]);
    const bulk = (await h.get(`/v1/findings?rule=bulk-access`)).body.items[0];
    expect(bulk).toMatchObject({
      personId: p.a1,
      severity: 'medium',
      firstSeen: at(jst('06T09:00:00')).toISOString(),
      lastSeen: at(jst('06T13:29:00')).toISOString(),
      details: { day: '2026-10-06', timeZone: 'Asia/Tokyo', distinctCustomers: 120, threshold: THRESHOLD },
    });

    // Batch 3: five more customers that afternoon: the same finding counts them and its total moves.
    expect((await h.post(views(p.a1!, 130, 135, jst('06T15:00:00')), { key: 'surge-3' })).status).toBe(202);
    await h.scan(NOW, { bulkAccessThreshold: THRESHOLD });
    expect(await h.findingList()).toEqual([
      ['bulk-access', `${p.a1}|2026-10-06`, 145],
      ['nonpublic-viewed-by-non-wheeling', p.a1!, 155],
    ]);
    const after = (await h.get(`/v1/findings?rule=bulk-access`)).body.items;
    expect(after).toEqual([expect.objectContaining({ id: bulk.id, details: expect.objectContaining({ distinctCustomers: 125 }) })]);
  });

  it("reports the surge day: one viewer, judged as the retail company the call centre works for, 145 records of 125 customers", async () => {
    const { body } = await h.get(reportPath(jst('06T00:00:00'), jst('07T00:00:00')));
    expect(body.totals).toMatchObject({ viewers: 1, companies: 1, customers: 125, records: 145, retailers: 2 });
    expect(body.viewers).toEqual([
      expect.objectContaining({ personId: p.a1, company: 'ep-call', rulesCompany: 'ep', rulesKind: 'retail', site: 'コールセンター', records: 145, customers: 125, retailers: ['shinden-a', 'shinden-b'] }),
    ]);
    expect(body.retailers).toEqual([
      expect.objectContaining({ retailer: 'shinden-a', customers: 63, records: 73 }),
      expect.objectContaining({ retailer: 'shinden-b', customers: 62, records: 72 }),
    ]);
  });
});

describe('disaster accounts used on an ordinary day (Shikoku, Kansai)', () => {
  let h: Harness;
  const p: Record<string, string> = {};

  beforeAll(async () => {
    h = await startHarness(NOW, async ({ db }) => {
      await makeUtilityGroup(db);
      await makeCompany(db, 'shinden-b', 'retail');
      await makeTakuso(db);
      p.r1 = await hire(db, { company: 'ep', at: T0 });
      p.r2 = await hire(db, { company: 'ep', at: T0 });
      for (const person of [p.r1, p.r2]) await putRosterMember({ db, now: T0, actor: 'test', personId: person!, areas: ['aomori'], contractRef: 'DS-2026-01' });
      // A storm over Aomori on 10 October, 10:00 to 14:00.
      const policy = { approval: 'single' as const, maxMinutes: 4320, maxTotalMinutes: 10080 };
      const storm = await declareEmergency({ db, now: at(jst('10T10:00:00')), actor: 'test', policy, areas: ['aomori'], reason: 'storm', durationMinutes: 360 });
      await endEmergency({ db, now: at(jst('10T14:00:00')), actor: 'test', id: storm.id, reason: 'restored' });
    });
    const r = (person: string, time: string, customerId: string, retailer: string, area: string, fields: string[]) =>
      logged({ at: jst(time), personId: person, terminalId: 'T-EP-01', customerId, retailer, area, fields });
    const events = [
      r(p.r1!, '10T11:00:00', 'C-D1', 'shinden-a', 'aomori', ['supplyPoint', 'holderName', 'phone']), // the emergency set, during the emergency
      r(p.r1!, '10T11:30:00', 'C-D2', 'shinden-a', 'aomori', ['holderName', 'usage']), // usage is beyond the emergency set
      r(p.r1!, '10T12:00:00', 'C-D3', 'shinden-b', 'iwate', ['holderName']), // no emergency in Iwate
      r(p.r2!, '10T15:00:00', 'C-D1', 'shinden-a', 'aomori', ['phone']), // after the emergency ended
      r(p.r2!, '20T09:00:00', 'C-D4', 'shinden-a', 'aomori', ['supplyPoint', 'holderName']), // an ordinary day
      r(p.r2!, '20T09:10:00', 'C-D5', 'ep', 'aomori', ['holderName']), // their own company's customer
    ];
    expect((await h.post(events, { ndjson: true })).status).toBe(202);
    await h.scan(NOW);
  });
  afterAll(() => h.close());

  it('flags roster members seeing emergency fields with no emergency covering the area, and anything beyond the emergency set', async () => {
    expect(await h.findingList()).toEqual(
      [
        ['emergency-access-outside-emergency', p.r1, 1],
        ['emergency-access-outside-emergency', p.r2, 2],
        ['nonpublic-viewed-by-non-wheeling', p.r1, 2],
        ['nonpublic-viewed-by-non-wheeling', p.r2, 2],
      ].sort(),
    );
  });

  it('reports the emergency views apart: lawful, and still disclosures', async () => {
    const { body } = await h.get(reportPath(jst('10T00:00:00'), jst('21T00:00:00')));
    expect(body.totals).toMatchObject({ viewers: 2, customers: 4, records: 5, retailers: 2, emergencyRecords: 2 });
    expect(body.viewers).toEqual([
      expect.objectContaining({ personId: p.r1, records: 3, customers: 3, emergencyRecords: 2 }),
      expect.objectContaining({ personId: p.r2, records: 2, customers: 2, emergencyRecords: 0 }),
    ]);
  });

  it('lists the roster as able to see the emergency fields of an Aomori customer during the emergency', async () => {
    const { body } = await h.get(`/v1/reports/exposure?customerId=C-D1&from=${encodeURIComponent(jst('10T00:00:00'))}&to=${encodeURIComponent(jst('11T00:00:00'))}`);
    expect(body.couldHaveSeen.byGrant).toEqual([]);
    const byPerson = (a: { personId: string }, b: { personId: string }) => a.personId.localeCompare(b.personId);
    expect(body.couldHaveSeen.byEmergency.sort(byPerson).map((e: { personId: string; fields: string[]; from: string; to: string }) => [e.personId, e.fields, e.from, e.to])).toEqual(
      [p.r1!, p.r2!].sort((a, b) => a.localeCompare(b)).map((id) => [id, ['holderName', 'phone'], at(jst('10T10:00:00')).toISOString(), at(jst('10T14:00:00')).toISOString()]),
    );
    const saw = Object.fromEntries(body.didSee.map((d: { personId: string }) => [d.personId, d]));
    expect(Object.keys(saw)).toHaveLength(2);
    expect(saw[p.r1!]).toMatchObject({ records: 1, fields: ['holderName', 'phone'], emergencyRecords: 1 });
    expect(saw[p.r2!]).toMatchObject({ records: 1, fields: ['phone'], emergencyRecords: 0 });
  });
});

describe("an old colleague's password used after a transfer (Kyushu, Tohoku)", () => {
  let h: Harness;
  const p: Record<string, string> = {};
  const cred: Record<string, string> = {};
  let secretId: string;
  const T1 = at(jst('15T00:00:00'));

  beforeAll(async () => {
    h = await startHarness(NOW, async ({ db }) => {
      await makeUtilityGroup(db);
      await makeCompany(db, 'shinden-b', 'retail');
      await makeTakuso(db);
      p.mover = await hire(db, { company: 'nw', at: T0 });
      p.colleague = await hire(db, { company: 'nw', at: T0 });
      cred.mover = (await issuePassword({ db, now: T0, actor: 'test', personId: p.mover, system: 'takuso', loginId: 'mover-takuso' })).credential.id;
      cred.colleague = (await issuePassword({ db, now: T0, actor: 'test', personId: p.colleague, system: 'takuso', loginId: 'colleague-takuso' })).credential.id;
      // The system's common administrator account, known to both.
      secretId = (await createSharedSecret({ db, now: T0, actor: 'test', keyring: testKeyring, system: 'takuso', name: 'takuso-admin', knownBy: [p.mover, p.colleague], value: 'admin-pass' })).id;
      // The move to retail takes effect on 15 October: the mover's own account is revoked, the shared secret exposed.
      await transfer(db, { personId: p.mover, company: 'ep', at: T1 });
    });
    const events = [
      // Before the move: the mover is wheeling staff, everything is theirs to see.
      logged({ at: jst('14T10:00:00'), loginId: 'mover-takuso', terminalId: 'T-NW-01', customerId: 'C-O1', retailer: 'shinden-a', fields: ['holderName', 'loadEquipment'] }),
      logged({ at: jst('14T10:05:00'), personId: p.mover, loginId: 'takuso-admin', terminalId: 'T-NW-01', customerId: 'C-O1', retailer: 'shinden-a', fields: ['supplyPoint'] }),
      // After: at a retail terminal, badged in as themselves, signed in to takuso as the old colleague.
      logged({ at: jst('16T09:00:00'), personId: p.mover, loginId: 'colleague-takuso', terminalId: 'T-EP-01', customerId: 'C-O2', retailer: 'shinden-a', fields: ['holderName', 'phone'] }),
      logged({ at: jst('16T09:10:00'), personId: p.mover, loginId: 'colleague-takuso', terminalId: 'T-EP-01', customerId: 'C-O3', retailer: 'ep', fields: ['holderName'] }),
      // Their own old account, revoked at the move, still accepted by the system.
      logged({ at: jst('16T09:20:00'), loginId: 'mover-takuso', terminalId: 'T-EP-01', customerId: 'C-O4', retailer: 'shinden-b', fields: ['usage'] }),
      // The shared administrator account, not rotated since.
      logged({ at: jst('16T09:30:00'), loginId: 'takuso-admin', terminalId: 'T-EP-01', customerId: 'C-O5', retailer: 'shinden-a', fields: ['supplyPoint'] }),
      // The colleague, still at the wheeling company, on their own account.
      logged({ at: jst('16T09:00:00'), personId: p.colleague, loginId: 'colleague-takuso', terminalId: 'T-NW-01', customerId: 'C-O2', retailer: 'shinden-a', fields: ['holderName'] }),
    ];
    expect((await h.post(events)).status).toBe(202);
    await h.scan(NOW);
  });
  afterAll(() => h.close());

  it("flags the colleague's password, the revoked own account and the exposed shared account — and nothing before the move", async () => {
    expect(await h.findingList()).toEqual(
      [
        ['credential-used-after-transfer', `${p.mover}|${cred.colleague}`, 2],
        ['credential-used-after-transfer', `${p.mover}|${cred.mover}`, 1],
        ['nonpublic-viewed-by-non-wheeling', p.mover, 2],
        ['revoked-credential-used', cred.mover, 1],
        ['shared-secret-exposed', secretId, 1],
      ].sort(),
    );
    const items = (await h.get(`/v1/findings?personId=${p.mover}&rule=credential-used-after-transfer`)).body.items as { subjectKey?: string; details: Record<string, unknown> }[];
    expect(items.map((f) => f.details).sort((a, b) => String(a.loginId).localeCompare(String(b.loginId)))).toEqual([
      expect.objectContaining({ loginId: 'colleague-takuso', holder: p.colleague, issuedUnder: 'nw', userCompany: 'ep' }),
      expect.objectContaining({ loginId: 'mover-takuso', holder: p.mover, issuedUnder: 'nw', userCompany: 'ep' }),
    ]);
  });

  it('resolves events as of their instant: the same person before the move saw nothing non-public', async () => {
    expect((await h.get(reportPath(jst('14T00:00:00'), jst('15T00:00:00')))).body.totals).toMatchObject({ viewers: 0, records: 0, customers: 0 });
    const after = (await h.get(reportPath(jst('16T00:00:00'), jst('17T00:00:00')))).body;
    expect(after.totals).toMatchObject({ viewers: 1, records: 2, customers: 2, retailers: 2 });
    expect(after.viewers).toEqual([expect.objectContaining({ personId: p.mover, company: 'ep', site: '八戸営業所', records: 2, retailers: ['shinden-a', 'shinden-b'] })]);
  });

  it('stops flagging the shared account once it is rotated', async () => {
    await rotateSharedSecret({ db: h.database.db, now: at(jst('17T00:00:00')), actor: 'test', keyring: testKeyring, id: secretId });
    const later = logged({ at: jst('18T09:00:00'), loginId: 'takuso-admin', terminalId: 'T-NW-01', customerId: 'C-O6', retailer: 'shinden-a', fields: ['supplyPoint'] });
    expect((await h.post([later])).status).toBe(202);
    await h.scan(NOW);
    expect((await h.findingList()).filter(([rule]) => rule === 'shared-secret-exposed')).toEqual([['shared-secret-exposed', secretId, 1]]);
    expect(await verifyAudit(h.database.db)).toMatchObject({ ok: true });
  });
});
