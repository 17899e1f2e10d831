import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { T0, uniqueId } from '../support/factories.js';
import { expectNothingChanged, snapshot, type Snapshot } from '../support/snapshot.js';
import { deliver, expectProblem, expectReceipt, hiredEvent, startHrFixture, type HrFixture } from './helpers.js';

describe('people are readable only by administrators', () => {
  let f: HrFixture;
  let personId: string;
  let hrToken: string;
  let before: Snapshot;

  beforeAll(async () => {
    f = await startHrFixture({ now: T0 });
    personId = uniqueId('E');
    await expectReceipt((await deliver(f.server.url, hiredEvent(personId, 'nw', '2025-04-01T00:00:00+09:00'), { at: T0 })).res, 202);
    hrToken = await f.server.token('hr');
  });
  afterAll(() => f.close());
  beforeEach(async () => {
    before = await snapshot(f.db);
  });

  const get = (path: string, authorization?: string) =>
    fetch(`${f.server.url}${path}`, { headers: authorization ? { authorization } : {} });
  const paths = () => [`/v1/persons/${personId}`, `/v1/persons/${personId}/affiliations`];

  it('an administrator reads the person and their timeline', async () => {
    for (const path of paths()) expect((await get(path, `Bearer ${f.server.adminToken}`)).status).toBe(200);
  });

  it('a request without a token is refused with 401 and learns nothing', async () => {
    for (const path of paths()) {
      const problem = await expectProblem(await get(path), 401);
      expect(problem.code).toBe('auth.unauthenticated');
      expect(JSON.stringify(problem)).not.toContain(personId);
    }
    await expectNothingChanged(f.db, before);
  });

  it('a request with an unknown or malformed token is refused with 401', async () => {
    for (const authorization of ['Bearer sks_this-token-was-never-issued-000000', `Basic ${f.server.adminToken}`, 'Bearer short']) {
      for (const path of paths()) expect((await expectProblem(await get(path, authorization), 401)).code).toBe('auth.unauthenticated');
    }
    await expectNothingChanged(f.db, before);
  });

  it('an HR integration token without the admin scope is refused with 403', async () => {
    for (const path of paths()) {
      const problem = await expectProblem(await get(path, `Bearer ${hrToken}`), 403);
      expect(problem.code).toBe('auth.forbidden');
      expect(problem.detail).toContain('admin');
    }
    await expectNothingChanged(f.db, before);
  });

  it('an unknown person is a 404 problem on both endpoints', async () => {
    for (const path of ['/v1/persons/E-nobody', '/v1/persons/E-nobody/affiliations']) {
      const problem = await expectProblem(await get(path, `Bearer ${f.server.adminToken}`), 404);
      expect(problem.code).toBe('affiliation.person-not-found');
      expect(problem.detail).toContain('E-nobody');
    }
    await expectNothingChanged(f.db, before);
  });

  it('an as-of instant that is not an RFC 3339 time is a 400 naming the parameter', async () => {
    const problem = await expectProblem(await get(`/v1/persons/${personId}?at=yesterday`, `Bearer ${f.server.adminToken}`), 400);
    expect(problem.errors).toEqual([expect.objectContaining({ path: '/at' })]);
    await expectNothingChanged(f.db, before);
  });
});
