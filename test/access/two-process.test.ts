import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTakuso } from '../support/access.js';
import { spawnDecisionProcess, type DecisionProcess } from '../support/decision-process.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../support/db.js';
import { at, hire, makeUtilityGroup, plusMs, T0 } from '../support/factories.js';
import { startTestServer, type TestServer } from '../support/http.js';

/** Process A grants and revokes at these instants; process B decides at a later, pinned one. */
const GRANTED_AT = at('2026-10-01T10:00:00+09:00');
const REVOKED_AT = plusMs(GRANTED_AT, 60_000);
const B_DECIDES_AT = plusMs(GRANTED_AT, 600_000);
/** The requirement: a revocation through one process is enforced by every other within 1 s. */
const REQUIRED_MS = 1000;

// PGlite is in-process and single-connection: a second process cannot share its database.
describe.skipIf(!onPostgres)('two processes on one PostgreSQL database', () => {
  let database: TestDatabase;
  let a: TestServer;
  let b: DecisionProcess | undefined;
  let person: string;
  let decideToken: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database;
    await makeUtilityGroup(db);
    await makeTakuso(db);
    person = await hire(db, { company: 'nw', at: T0 });
    a = await startTestServer(database, { now: GRANTED_AT });
    decideToken = await a.token('decide');
    b = await spawnDecisionProcess(database.url!, { instant: B_DECIDES_AT });
  }, 120_000);
  afterAll(async () => {
    if (b) await b.stop();
    await a?.close();
    await database?.close();
  });

  const decideOnB = async (): Promise<{ decision: string; reasons: string[]; fields: Record<string, string> }> => {
    const res = await fetch(`${b!.url}/v1/decisions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${decideToken}` },
      body: JSON.stringify({ personId: person, terminalId: 'T-NW-01', system: 'takuso', record: { customerId: 'C1', retailer: 'shinden-a', area: 'aomori' }, fields: ['holderName'] }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { decision: string; reasons: string[]; fields: Record<string, string> };
  };

  it('a grant revoked through process A is denied by process B within 1 s', async () => {
    expect(b!.pid).not.toBe(process.pid);

    a.setNow(GRANTED_AT);
    const granted = await fetch(`${a.url}/v1/grants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${a.adminToken}` },
      body: JSON.stringify({ personId: person, entitlement: 'takuso-operator', reason: 'two-process test' }),
    });
    expect(granted.status).toBe(201);
    const grantId = ((await granted.json()) as { id: string }).id;

    // B learns of the grant made through A and permits.
    const before = await decideOnB();
    expect(before.decision).toBe('permit');
    expect(before.fields.holderName).toBe('allow');

    a.setNow(REVOKED_AT);
    const revoked = await fetch(`${a.url}/v1/grants/${grantId}`, { method: 'DELETE', headers: { authorization: `Bearer ${a.adminToken}` } });
    expect(revoked.status).toBe(200);
    // The revocation is committed once A has answered: from here the clock runs.
    const start = performance.now();
    let elapsed = Number.NaN;
    let last: Awaited<ReturnType<typeof decideOnB>> | undefined;
    const attempts: number[] = [];
    while (performance.now() - start < 10 * REQUIRED_MS) {
      last = await decideOnB();
      attempts.push(Math.round(performance.now() - start));
      if (last.decision === 'deny') {
        elapsed = performance.now() - start;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(last?.decision, `B still permitted after ${attempts.length} attempts (at ms ${attempts.join(', ')})`).toBe('deny');
    expect(last?.reasons).toEqual(['no-grant']);
    expect(last?.fields.holderName).toBe('mask');
    expect(elapsed, `deny first seen on B after ${Math.round(elapsed)} ms (attempts at ms ${attempts.join(', ')})`).toBeLessThan(REQUIRED_MS);
  });
});
