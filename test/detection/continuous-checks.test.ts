import { and, asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { putEntitlement, putTerminal } from '../../src/access/catalog.js';
import { createGrant } from '../../src/access/grants.js';
import { grants } from '../../src/access/schema.js';
import { auditRecords } from '../../src/audit/schema.js';
import { verifyAudit } from '../../src/audit/chain.js';
import {
  GRANT_CROSSES_FIREWALL,
  GRANT_HELD_AFTER_LEAVING,
  runContinuousChecks,
  TERMINAL_COMPANY_MISMATCH,
} from '../../src/detection/continuous-checks.js';
import { findings } from '../../src/detection/schema.js';
import { jobs } from '../../src/scheduler.js';
import { makeTakuso } from '../support/access.js';
import { withTx } from '../../src/db/tx.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../support/db.js';
import { at, hire, leave, makeCompany, makeUtilityGroup, plusMs, T0, transfer } from '../support/factories.js';

const T1 = at('2026-07-01T00:00:00+09:00');
const NOW = at('2026-10-01T10:00:00+09:00');
const minutes = (n: number) => plusMs(NOW, n * 60_000);

/**
 * A well-kept organisation: everyone holds what their company may hold (a contractor judged as
 * the company it acts for), a mover and a leaver whose HR side effects revoked what they had to,
 * and every terminal at a site of its own side.
 */
async function cleanOrganisation(database: TestDatabase) {
  const { db } = database;
  await makeUtilityGroup(db);
  await makeTakuso(db);
  await makeCompany(db, 'ep-call', 'contractor', 'ep');
  await putEntitlement({ db, now: T0, actor: 'test', code: 'takuso-nw-only', system: 'takuso', name: 'Network planning', allowedCompanyKinds: ['wheeling'] });
  await putTerminal({ db, now: T0, actor: 'test', id: 'T-NW-02', company: 'nw', site: '青森支社' });
  await putTerminal({ db, now: T0, actor: 'test', id: 'T-SYS-01', company: 'nw-sys', site: '青森支社' });
  await putTerminal({ db, now: T0, actor: 'test', id: 'T-CALL-01', company: 'ep-call', site: 'コールセンター' });
  const grant = (personId: string, entitlement: string, now = T0) => createGrant({ db, now, actor: 'test', personId, entitlement, reason: 'test' });

  const people = {
    nwOperator: await hire(db, { company: 'nw', at: T0 }),
    epClerk: await hire(db, { company: 'ep', at: T0 }),
    sysAdmin: await hire(db, { company: 'nw-sys', at: T0 }),
    callAgent: await hire(db, { company: 'ep-call', at: T0 }),
    mover: await hire(db, { company: 'nw', at: T0 }),
    leaver: await hire(db, { company: 'ep', at: T0 }),
  };
  await grant(people.nwOperator, 'takuso-operator');
  await grant(people.epClerk, 'takuso-switching');
  await grant(people.sysAdmin, 'takuso-operator');
  await grant(people.callAgent, 'takuso-switching');
  await grant(people.mover, 'takuso-operator');
  await grant(people.mover, 'takuso-switching');
  await grant(people.leaver, 'takuso-switching');
  // HR side effects applied at the effective instant: the operator grant and the leaver's grant go.
  await transfer(db, { personId: people.mover, company: 'ep', at: T1 });
  await leave(db, { personId: people.leaver, at: T1 });
  return people;
}

/** A grant written straight into the table: what a race, a migration or a hand fix can leave behind. */
async function insertGrant(database: TestDatabase, personId: string, entitlementCode: string, validFrom: Date, extra: Partial<typeof grants.$inferInsert> = {}) {
  const [row] = await database.db
    .insert(grants)
    .values({ personId, entitlementCode, validFrom, reason: 'inserted directly', grantedBy: 'test', createdAt: validFrom, ...extra })
    .returning();
  return row!.id;
}

const openFindings = (database: TestDatabase, rule?: string) =>
  database.db
    .select()
    .from(findings)
    .where(rule ? and(eq(findings.rule, rule), eq(findings.status, 'open')) : eq(findings.status, 'open'))
    .orderBy(asc(findings.subjectKey));

describe('continuous checks raise findings for standing state that should not exist', () => {
  let database: TestDatabase;
  let people: Awaited<ReturnType<typeof cleanOrganisation>>;

  beforeEach(async () => {
    database = await createTestDatabase();
    people = await cleanOrganisation(database);
  });
  afterEach(() => database.close());

  it('is scheduled as detection.run-continuous-checks', () => {
    expect(jobs.find((j) => j.name === 'detection.run-continuous-checks')?.run).toBe(runContinuousChecks);
  });

  it('raises nothing and writes nothing in a clean organisation', async () => {
    const auditBefore = await database.db.$count(auditRecords);
    const result = await runContinuousChecks({ db: database.db, now: NOW });
    expect(result).toEqual({ ran: true, observed: { [GRANT_CROSSES_FIREWALL]: 0, [GRANT_HELD_AFTER_LEAVING]: 0, [TERMINAL_COMPANY_MISMATCH]: 0 }, opened: [] });
    expect(await database.db.$count(findings)).toBe(0);
    expect(await database.db.$count(auditRecords)).toBe(auditBefore);
  });

  it('finds a network-only grant that raced a transfer to retail, and judges contractors as the company they act for', async () => {
    // The grant committed after the transfer's side effects had revoked what the mover held.
    const raced = await insertGrant(database, people.mover, 'takuso-nw-only', plusMs(T1, -1000));
    // Contractors: one acting for retail holding a network-only grant, one acting for the network company.
    const callCentre = await insertGrant(database, people.callAgent, 'takuso-nw-only', T0);
    await insertGrant(database, people.sysAdmin, 'takuso-nw-only', T0);

    const result = await runContinuousChecks({ db: database.db, now: NOW });
    expect(result.observed[GRANT_CROSSES_FIREWALL]).toBe(2);
    const rows = await openFindings(database, GRANT_CROSSES_FIREWALL);
    expect(rows.map((f) => f.subjectKey).sort()).toEqual([`grant:${raced}`, `grant:${callCentre}`].sort());
    expect(rows.map((f) => f.id).sort()).toEqual([...result.opened].sort());
    const moverFinding = rows.find((f) => f.subjectKey === `grant:${raced}`)!;
    expect(moverFinding).toMatchObject({ personId: people.mover, severity: 'high', count: 1, firstSeen: NOW, lastSeen: NOW });
    expect(moverFinding.details).toMatchObject({ entitlement: 'takuso-nw-only', company: 'ep', judgedKind: 'retail', allowedCompanyKinds: ['wheeling'] });
    const callFinding = rows.find((f) => f.subjectKey === `grant:${callCentre}`)!;
    expect(callFinding.details).toMatchObject({ company: 'ep-call', judgedAs: 'ep', judgedKind: 'retail' });
  });

  it('sees a transfer from the instant it takes effect, even while its side effects have not run', async () => {
    const later = at('2026-12-01T00:00:00+09:00');
    // Recorded now, effective later: the HR job that would revoke the operator grant has not run.
    const receipt = await transfer(db(), { personId: people.nwOperator, company: 'ep', at: later, now: NOW });
    expect(receipt.status).toBe('scheduled');
    expect((await runContinuousChecks({ db: db(), now: NOW })).observed[GRANT_CROSSES_FIREWALL]).toBe(0);
    const after = await runContinuousChecks({ db: db(), now: plusMs(later, 1000) });
    expect(after.observed[GRANT_CROSSES_FIREWALL]).toBe(1);
    expect((await openFindings(database, GRANT_CROSSES_FIREWALL))[0]).toMatchObject({ personId: people.nwOperator });
  });

  it("ignores crossing grants that are revoked, expired or not yet valid", async () => {
    await insertGrant(database, people.epClerk, 'takuso-nw-only', T0, { revokedAt: T1, revokedBy: 'test', revokedReason: 'test' });
    await insertGrant(database, people.epClerk, 'takuso-nw-only', T0, { validTo: T1 });
    await insertGrant(database, people.epClerk, 'takuso-nw-only', minutes(1));
    expect((await runContinuousChecks({ db: db(), now: NOW })).observed[GRANT_CROSSES_FIREWALL]).toBe(0);
    expect(await database.db.$count(findings)).toBe(0);
  });

  it("finds a leaver's grant when the leave took effect before the revocation ran, and one granted after they left", async () => {
    const lateLeaver = people.epClerk;
    const leftAt = at('2026-09-30T00:00:00+09:00');
    // The leave was recorded ahead of time; the job applying it has not run yet.
    expect((await leave(db(), { personId: lateLeaver, at: leftAt, now: T1 })).status).toBe('scheduled');
    const afterLeaving = await insertGrant(database, people.leaver, 'takuso-switching', plusMs(T1, 3600_000));

    const result = await runContinuousChecks({ db: db(), now: NOW });
    expect(result.observed).toMatchObject({ [GRANT_HELD_AFTER_LEAVING]: 2, [GRANT_CROSSES_FIREWALL]: 0 });
    const rows = await openFindings(database, GRANT_HELD_AFTER_LEAVING);
    expect(rows.map((f) => f.personId).sort()).toEqual([lateLeaver, people.leaver].sort());
    const late = rows.find((f) => f.personId === lateLeaver)!;
    expect(late).toMatchObject({ severity: 'medium', count: 1 });
    expect(late.details).toMatchObject({ entitlement: 'takuso-switching', leftAt: leftAt.toISOString() });
    expect(rows.find((f) => f.personId === people.leaver)!.subjectKey).toBe(`grant:${afterLeaving}`);
  });

  it('finds a network terminal registered at a retail site, whatever the spelling of the site', async () => {
    await putTerminal({ db: db(), now: T0, actor: 'test', id: 'T-NW-HACHINOHE', company: 'nw', site: ' 八戸営業所 ' });
    // A terminal of the contractor acting for the network company, in the retail call centre.
    await putTerminal({ db: db(), now: T0, actor: 'test', id: 'T-SYS-CALL', company: 'nw-sys', site: 'コールセンター' });
    // Switched off: it cannot be used, so it is not a finding.
    await putTerminal({ db: db(), now: T0, actor: 'test', id: 'T-NW-OLD', company: 'nw', site: '八戸営業所', active: false });

    const result = await runContinuousChecks({ db: db(), now: NOW });
    expect(result.observed[TERMINAL_COMPANY_MISMATCH]).toBe(2);
    const rows = await openFindings(database, TERMINAL_COMPANY_MISMATCH);
    expect(rows.map((f) => [f.subjectKey, f.terminalId, f.personId])).toEqual([
      ['site:T-NW-HACHINOHE', 'T-NW-HACHINOHE', null],
      ['site:T-SYS-CALL', 'T-SYS-CALL', null],
    ]);
    expect(rows[0]!.details).toMatchObject({ terminalCompany: 'nw', retailCompaniesAtSite: ['ep'] });
    expect(rows[1]!.details).toMatchObject({ terminalCompany: 'nw-sys', retailCompaniesAtSite: ['ep-call'] });
  });

  it('running again later counts the same finding instead of raising another; rerunning the same instant changes nothing', async () => {
    const raced = await insertGrant(database, people.mover, 'takuso-nw-only', T1);
    const first = await runContinuousChecks({ db: db(), now: NOW });
    const second = await runContinuousChecks({ db: db(), now: minutes(5) });
    expect(first.opened).toHaveLength(1);
    expect(second).toMatchObject({ ran: true, opened: [] });
    expect(second.observed[GRANT_CROSSES_FIREWALL]).toBe(1);
    const again = await runContinuousChecks({ db: db(), now: minutes(5) });
    expect(again.observed[GRANT_CROSSES_FIREWALL]).toBe(0);

    const rows = await database.db.select().from(findings);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: first.opened[0], subjectKey: `grant:${raced}`, count: 2, firstSeen: NOW, lastSeen: minutes(5), status: 'open' });
    expect((await verifyAudit(db())).ok).toBe(true);
  });

  it('two replicas running the same tick at once observe the condition once', async () => {
    await insertGrant(database, people.mover, 'takuso-nw-only', T1);
    await runContinuousChecks({ db: db(), now: NOW });
    const tick = minutes(5);
    const results = await Promise.all([runContinuousChecks({ db: db(), now: tick }), runContinuousChecks({ db: db(), now: plusMs(tick, 40) })]);
    expect(results.reduce((n, r) => n + (r.observed[GRANT_CROSSES_FIREWALL] ?? 0), 0)).toBe(1);
    const rows = await database.db.select().from(findings);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.count).toBe(2);
  });

  // PGlite has one connection: a second transaction cannot run while the first is open.
  it.skipIf(!onPostgres)('a replica that finds another replica mid-run leaves the run to it and changes nothing', async () => {
    await insertGrant(database, people.mover, 'takuso-nw-only', T1);
    const result = await withTx(db(), async (tx) => {
      // This transaction plays the replica that is checking right now.
      const mine = await runContinuousChecks({ db: tx, now: NOW });
      const other = await runContinuousChecks({ db: db(), now: plusMs(NOW, 10) });
      return { mine, other };
    });
    expect(result.mine.opened).toHaveLength(1);
    expect(result.other).toEqual({ ran: false, observed: {}, opened: [] });
    expect(await database.db.select({ count: findings.count }).from(findings)).toEqual([{ count: 1 }]);
  });

  it('opens a new finding when a resolved one is still true at the next run', async () => {
    await insertGrant(database, people.mover, 'takuso-nw-only', T1);
    const first = await runContinuousChecks({ db: db(), now: NOW });
    await database.db.update(findings).set({ status: 'resolved', statusChangedBy: 'test', statusChangedAt: minutes(1) }).where(eq(findings.id, first.opened[0]!));
    const next = await runContinuousChecks({ db: db(), now: minutes(5) });
    expect(next.opened).toHaveLength(1);
    expect(next.opened[0]).not.toBe(first.opened[0]);
    expect(await database.db.$count(findings)).toBe(2);
  });

  function db() {
    return database.db;
  }
});
