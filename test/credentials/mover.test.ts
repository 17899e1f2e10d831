import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrant, listPersonGrants } from '../../src/access/grants.js';
import { issueBadge, issuePassword, issuePersonToken, listPersonCredentials } from '../../src/credentials/issue.js';
import { authenticateBadge, authenticatePassword, authenticatePersonToken } from '../../src/credentials/verify.js';
import { auditRecords } from '../../src/audit/schema.js';
import { applyDueEvents } from '../../src/hr/jobs.js';
import { outboxEvents } from '../../src/outbox/schema.js';
import { makeTakuso } from '../support/access.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { at, hire, makeUtilityGroup, plusMs, T0, transfer } from '../support/factories.js';

describe('a mover from the wheeling company to retail', () => {
  let database: TestDatabase;
  const T = at('2027-04-01T00:00:00+09:00');
  const before = plusMs(T, -1000);
  const after = plusMs(T, 1);
  let personId: string;
  let password: string;
  let token: string;
  let colleagueId: string;
  let colleaguePassword: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    await makeUtilityGroup(db);
    await makeTakuso(db);
    personId = await hire(db, { company: 'nw', at: T0 });
    colleagueId = await hire(db, { company: 'nw', at: T0 });
    password = (await issuePassword({ db, now: T0, actor: 'test', personId, system: 'takuso', loginId: `${personId}-login` })).password;
    colleaguePassword = (await issuePassword({ db, now: T0, actor: 'test', personId: colleagueId, system: 'takuso', loginId: `${colleagueId}-login` })).password;
    await issueBadge({ db, now: T0, actor: 'test', personId, badgeId: `badge-${personId}` });
    token = (await issuePersonToken({ db, now: T0, actor: 'test', personId })).token;
    await createGrant({ db, now: T0, actor: 'test', personId, entitlement: 'takuso-operator', reason: 'operations' });
    await createGrant({ db, now: T0, actor: 'test', personId, entitlement: 'takuso-switching', reason: 'switching support' });
    // Recorded well in advance: the transfer is scheduled for T.
    await transfer(db, { personId, company: 'ep', at: T, now: T0 });
  });
  afterAll(() => database.close());

  const attempts = (now: Date, terminalId?: string) => {
    const base = { db: database.db, now, caller: 'test', terminalId };
    return [
      authenticatePassword({ ...base, system: 'takuso', loginId: `${personId}-login`, password }),
      authenticateBadge({ ...base, badgeId: `badge-${personId}` }),
      authenticatePersonToken({ ...base, token }),
    ];
  };

  it('authenticates with every old credential one second before the effective instant', async () => {
    const results = await Promise.all(attempts(before));
    expect(results.map((r) => r.company)).toEqual(['nw', 'nw', 'nw']);
  });

  it('authenticates with none of them one millisecond after, with the job not yet run', async () => {
    const results = await Promise.allSettled(attempts(after));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    const failures = await database.db.select().from(auditRecords).where(eq(auditRecords.action, 'authn.failed'));
    expect(failures.slice(-3).map((f) => f.data.reason)).toEqual(Array(3).fill('holder-not-affiliated-with-issuing-company'));
  });

  it('has every old credential revoked with reason transfer once the job has run, and the wheeling-only grant gone', async () => {
    const { db } = database;
    expect((await listPersonCredentials(db, personId)).every((c) => c.revokedAt === null)).toBe(true);
    await applyDueEvents({ db, now: after });
    const creds = await listPersonCredentials(db, personId);
    expect(Object.fromEntries(creds.map((c) => [c.type, c.revokedReason]))).toEqual({ password: 'transfer', badge: 'transfer', api_token: 'transfer' });
    const grants = await listPersonGrants(db, personId, after);
    expect(Object.fromEntries(grants.map((g) => [g.entitlement, g.status]))).toEqual({ 'takuso-operator': 'revoked', 'takuso-switching': 'active' });
    const events = await db.select().from(outboxEvents).where(eq(outboxEvents.subjectId, personId));
    expect(events.map((e) => e.type).sort()).toEqual(
      ['credential.revoked', 'credential.revoked', 'credential.revoked', 'grant.revoked', 'person.hired', 'person.transferred', 'session.revoked'].sort(),
    );
  });

  it("refuses a colleague's password used by the mover from a retail terminal, recording the precise reason", async () => {
    const { db } = database;
    await expect(
      authenticatePassword({ db, now: after, caller: 'test', terminalId: 'T-EP-01', system: 'takuso', loginId: `${colleagueId}-login`, password: colleaguePassword }),
    ).rejects.toMatchObject({ status: 401, message: 'invalid credentials' });
    const [last] = await db.select().from(auditRecords).orderBy(auditRecords.seq).limit(1).offset((await db.$count(auditRecords)) - 1);
    expect(last!.action).toBe('authn.failed');
    expect(last!.data).toMatchObject({ reason: 'terminal-company-mismatch', terminalId: 'T-EP-01', credentialCompany: 'nw' });
    // The same password on the wheeling company's terminal still works for the colleague.
    await expect(
      authenticatePassword({ db, now: after, caller: 'test', terminalId: 'T-NW-01', system: 'takuso', loginId: `${colleagueId}-login`, password: colleaguePassword }),
    ).resolves.toMatchObject({ personId: colleagueId, company: 'nw' });
  });
  it('locks nobody out when movers keep presenting their right but refused passwords from one system', async () => {
    const { db } = database;
    // More refusals from one calling system than the per-source lock allows (30), all with the right secret.
    for (let i = 0; i < 35; i++) {
      await expect(authenticatePassword({ db, now: after, caller: 'takuso-gw', system: 'takuso', loginId: `${personId}-login`, password })).rejects.toMatchObject({ status: 401 });
    }
    await expect(
      authenticatePassword({ db, now: after, caller: 'takuso-gw', system: 'takuso', loginId: `${colleagueId}-login`, password: colleaguePassword }),
    ).resolves.toMatchObject({ personId: colleagueId });
    // Wrong guesses still count: five for one login from one source lock that pair.
    for (let i = 0; i < 5; i++) {
      await expect(authenticatePassword({ db, now: after, caller: 'takuso-gw', system: 'takuso', loginId: `${colleagueId}-login`, password: 'guess' })).rejects.toMatchObject({ status: 401 });
    }
    await expect(
      authenticatePassword({ db, now: after, caller: 'takuso-gw', system: 'takuso', loginId: `${colleagueId}-login`, password: colleaguePassword }),
    ).rejects.toMatchObject({ status: 401 });
  });
});
