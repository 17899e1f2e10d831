import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putTerminal } from '../../src/access/catalog.js';
import { decide, type DecisionRequest } from '../../src/access/decide.js';
import { createGrant, revokeGrant } from '../../src/access/grants.js';
import { grants } from '../../src/access/schema.js';
import { loadSnapshot } from '../../src/access/snapshot.js';
import { makeTakuso } from '../support/access.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { at, hire, makeCompany, makeUtilityGroup, T0, transfer } from '../support/factories.js';

const ALL = ['supplyPoint', 'supplyAddress', 'holderName', 'phone', 'usage', 'loadEquipment', 'retailerName'];
const NOW = at('2026-10-01T10:00:00+09:00');

describe('the firewall decides field by field from affiliation, terminal and the record', () => {
  let database: TestDatabase;
  const people: Record<string, string> = {};

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    await makeUtilityGroup(db);
    await makeTakuso(db);
    await makeCompany(db, 'ep-call', 'contractor', 'ep');
    await putTerminal({ db, now: T0, actor: 'test', id: 'T-CALL-01', company: 'ep-call', site: 'コールセンター' });
    const grant = async (name: string, company: string, entitlement: string) => {
      people[name] = await hire(db, { company, at: T0 });
      await createGrant({ db, now: T0, actor: 'test', personId: people[name]!, entitlement, reason: 'test' });
    };
    await grant('nwOperator', 'nw', 'takuso-operator');
    await grant('epClerk', 'ep', 'takuso-switching');
    await grant('callAgent', 'ep-call', 'takuso-switching');
    await grant('nwSysAdmin', 'nw-sys', 'takuso-operator');
    people.noGrant = await hire(db, { company: 'ep', at: T0 });
  });
  afterAll(() => database.close());

  const ask = async (person: string, terminalId: string, record: DecisionRequest['record'], fields = ALL) =>
    decide(await loadSnapshot(database.db), { personId: people[person]!, terminalId, system: 'takuso', record, fields }, NOW.getTime());
  const allowed = (d: { fields: Record<string, string> }) => Object.keys(d.fields).filter((f) => d.fields[f] === 'allow').sort();

  it('denies a retail employee on a network terminal and names the terminal mismatch', async () => {
    const d = await ask('epClerk', 'T-NW-01', { customerId: 'C1', retailer: 'shinden-a', area: 'aomori' });
    expect(d.decision).toBe('deny');
    expect(d.reasons).toEqual(['terminal-company-mismatch']);
    expect(allowed(d)).toEqual([]);
  });

  it("shows a retail employee on a retail terminal only the public fields of a new entrant's customer", async () => {
    const d = await ask('epClerk', 'T-EP-01', { customerId: 'C1', retailer: 'shinden-a', area: 'aomori' });
    expect(d.decision).toBe('permit');
    expect(allowed(d)).toEqual(['supplyAddress', 'supplyPoint']);
    expect(d.fields).toMatchObject({ holderName: 'mask', phone: 'mask', usage: 'mask' });
  });

  it("shows the same employee their own company's customer's holder name, never network-internal fields", async () => {
    const d = await ask('epClerk', 'T-EP-01', { customerId: 'C2', retailer: 'ep', area: 'aomori' });
    expect(allowed(d)).toEqual(['holderName', 'phone', 'supplyAddress', 'supplyPoint', 'usage']);
    expect(d.fields).toMatchObject({ loadEquipment: 'mask', retailerName: 'mask' });
  });

  it('masks retailer-only fields of a new-connection record with no retailer yet for everyone outside the wheeling company', async () => {
    for (const retailer of [undefined, null]) {
      const d = await ask('epClerk', 'T-EP-01', { customerId: 'C3', retailer, area: 'aomori' });
      expect(allowed(d)).toEqual(['supplyAddress', 'supplyPoint']);
    }
    const nw = await ask('nwOperator', 'T-NW-01', { customerId: 'C3', retailer: null, area: 'aomori' });
    expect(allowed(nw)).toEqual([...ALL].sort());
  });

  it('allows a wheeling employee every declared field and masks an undeclared one', async () => {
    const d = await ask('nwOperator', 'T-NW-01', { customerId: 'C1', retailer: 'shinden-a' }, [...ALL, 'myNumber']);
    expect(allowed(d)).toEqual([...ALL].sort());
    expect(d.fields.myNumber).toBe('mask');
  });

  it('judges a contractor acting for retail as retail, and one acting for the wheeling company as wheeling', async () => {
    const call = await ask('callAgent', 'T-CALL-01', { customerId: 'C1', retailer: 'shinden-a' });
    expect(allowed(call)).toEqual(['supplyAddress', 'supplyPoint']);
    const own = await ask('callAgent', 'T-EP-01', { customerId: 'C2', retailer: 'ep' });
    expect(own.decision).toBe('permit');
    expect(own.fields.holderName).toBe('allow');
    const sys = await ask('nwSysAdmin', 'T-NW-01', { customerId: 'C1', retailer: 'shinden-a' });
    expect(allowed(sys)).toEqual([...ALL].sort());
  });

  it('denies without a grant, without a terminal, and on an unknown terminal', async () => {
    expect((await ask('noGrant', 'T-EP-01', { retailer: 'ep' })).reasons).toEqual(['no-grant']);
    const noTerminal = decide(await loadSnapshot(database.db), { personId: people.epClerk!, system: 'takuso', record: {}, fields: ALL }, NOW.getTime());
    expect(noTerminal.reasons).toEqual(['terminal-required']);
    expect((await ask('epClerk', 'T-NOWHERE', { retailer: 'ep' })).reasons).toEqual(['terminal-unknown']);
  });

  it('stops permitting the instant a transfer takes effect, before any job runs', async () => {
    const { db } = database;
    const mover = await hire(db, { company: 'nw', at: T0 });
    await createGrant({ db, now: T0, actor: 'test', personId: mover, entitlement: 'takuso-operator', reason: 'test' });
    const T = at('2026-10-01T12:00:00+09:00');
    await transfer(db, { personId: mover, company: 'ep', at: T, now: NOW });
    const snapshot = await loadSnapshot(db);
    const req = { personId: mover, terminalId: 'T-NW-01', system: 'takuso', record: { retailer: 'shinden-a' }, fields: ['holderName'] };
    expect(decide(snapshot, req, T.getTime() - 1).fields.holderName).toBe('allow');
    expect(decide(snapshot, req, T.getTime()).decision).toBe('deny');
  });

  it('stops permitting the instant a grant is revoked', async () => {
    const { db } = database;
    const person = await hire(db, { company: 'nw', at: T0 });
    const grant = await createGrant({ db, now: T0, actor: 'test', personId: person, entitlement: 'takuso-operator', reason: 'test' });
    await revokeGrant({ db, now: NOW, actor: 'test', grantId: grant.id, reason: 'test' });
    const snapshot = await loadSnapshot(db);
    const req = { personId: person, terminalId: 'T-NW-01', system: 'takuso', record: {}, fields: ['supplyPoint'] };
    expect(decide(snapshot, req, NOW.getTime() - 1).decision).toBe('permit');
    expect(decide(snapshot, req, NOW.getTime()).reasons).toEqual(['no-grant']);
  });
  it('gives nothing for a grant the person’s company may not hold, such as one that raced their transfer', async () => {
    const { db } = database;
    people.raced = await hire(db, { company: 'ep', at: T0 });
    await db.insert(grants).values({ personId: people.raced, entitlementCode: 'takuso-operator', validFrom: T0, reason: 'raced a transfer', grantedBy: 'test', createdAt: T0 });
    const d = await ask('raced', 'T-EP-01', { customerId: 'C2', retailer: 'ep', area: 'aomori' });
    expect(d).toMatchObject({ decision: 'deny', reasons: ['no-grant'] });
  });
});
