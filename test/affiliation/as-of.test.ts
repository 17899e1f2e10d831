import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPersonAt } from '../../src/affiliation/persons.js';
import { at, hire, leave, makeUtilityGroup, plusMs, transfer } from '../support/factories.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

describe('as-of reads of the affiliation timeline', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    await makeUtilityGroup(database.db);
  });
  afterAll(() => database.close());

  it('answers the right company at every boundary of a half-open interval', async () => {
    const { db } = database;
    const hiredAt = at('2020-04-01T00:00:00+09:00');
    const movedAt = at('2027-04-01T00:00:00+09:00');
    const leftAt = at('2028-03-31T00:00:00+09:00');
    const id = await hire(db, { company: 'nw', at: hiredAt });
    await transfer(db, { personId: id, company: 'ep', at: movedAt, now: hiredAt });
    await leave(db, { personId: id, at: leftAt, now: hiredAt });

    const companyAt = async (t: Date) => (await getPersonAt(db, id, t)).affiliation?.company ?? null;
    expect(await companyAt(plusMs(hiredAt, -1))).toBeNull();
    expect(await companyAt(hiredAt)).toBe('nw');
    expect(await companyAt(plusMs(movedAt, -1))).toBe('nw');
    expect(await companyAt(movedAt)).toBe('ep');
    expect(await companyAt(plusMs(leftAt, -1))).toBe('ep');
    expect(await companyAt(leftAt)).toBeNull();
    expect((await getPersonAt(db, id, leftAt)).status).toBe('left');
    expect((await getPersonAt(db, id, plusMs(leftAt, -1))).status).toBe('active');
  });
});
