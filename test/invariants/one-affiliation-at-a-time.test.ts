import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPersonAt, listAffiliations } from '../../src/affiliation/persons.js';
import { queryRows, type Db } from '../../src/db/client.js';
import { PG_EXCLUSION_VIOLATION, pgErrorInfo } from '../../src/db/errors.js';
import { DomainError } from '../../src/errors.js';
import { receiveHrEvent } from '../../src/hr/intake.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../support/db.js';
import { at, hire, makeCompany, makeUtilityGroup, plusMs, T0, uniqueId } from '../support/factories.js';

const EXCLUSION = 'affiliations__person_id_valid_period_excl';

const JAN = at('2027-01-01T00:00:00+09:00');
const APR = at('2027-04-01T00:00:00+09:00');
const JUL = at('2027-07-01T00:00:00+09:00');
const OCT = at('2027-10-01T00:00:00+09:00');

/** A person row only: no timeline, so each test writes the affiliation rows itself. */
async function personWithoutTimeline(db: Db): Promise<string> {
  const id = uniqueId('P');
  await db.execute(sql`insert into persons (id, name, created_at, updated_at) values (${id}, ${'Person ' + id}, ${T0.toISOString()}, ${T0.toISOString()})`);
  return id;
}

/** Writes an affiliation row with plain SQL, as a migration script or a DBA would: no app code involved. */
async function insertRow(
  db: Db,
  row: { personId: string; company: string; from: Date; to: Date | null; recordedAt?: Date; supersededAt?: Date },
): Promise<void> {
  const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
  await db.execute(sql`
    insert into affiliations (person_id, company_code, valid_from, valid_to, recorded_at, superseded_at)
    values (${row.personId}, ${row.company}, ${iso(row.from)}, ${iso(row.to)}, ${iso(row.recordedAt ?? T0)}, ${iso(row.supersededAt)})`);
}

async function currentRows(db: Db, personId: string): Promise<{ company: string; from: Date; to: Date | null }[]> {
  const rows = await queryRows<{ company: string; valid_from: string | Date; valid_to: string | Date | null }>(
    db,
    sql`select company_code as company, valid_from, valid_to from affiliations
        where person_id = ${personId} and superseded_at is null order by valid_from`,
  );
  return rows.map((r) => ({ company: r.company, from: new Date(r.valid_from), to: r.valid_to === null ? null : new Date(r.valid_to) }));
}

/** Pairs of current rows of one person that share an instant, computed without range operators. */
async function overlappingPairs(db: Db, personId: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from affiliations a
        join affiliations b on b.person_id = a.person_id and a.id < b.id
        where a.person_id = ${personId} and a.superseded_at is null and b.superseded_at is null
          and a.valid_from < coalesce(b.valid_to, 'infinity'::timestamptz)
          and b.valid_from < coalesce(a.valid_to, 'infinity'::timestamptz)`,
  );
  return row!.n;
}

async function refusal(write: Promise<unknown>): Promise<unknown> {
  try {
    await write;
  } catch (err) {
    return err;
  }
  throw new Error('the database accepted the write');
}

describe('Invariant 1: a person has at most one affiliation at any instant', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    await makeUtilityGroup(database.db);
  });
  afterAll(() => database.close());

  it('the database itself refuses a second current affiliation written behind the app’s back', async () => {
    const { db } = database;
    const id = await hire(db, { company: 'nw', at: JAN });
    const before = await currentRows(db, id);

    const err = await refusal(insertRow(db, { personId: id, company: 'ep', from: APR, to: JUL }));
    expect(pgErrorInfo(err)).toEqual({ code: PG_EXCLUSION_VIOLATION, constraint: EXCLUSION });

    expect(await currentRows(db, id)).toEqual(before);
    expect((await getPersonAt(db, id, APR)).affiliation?.company).toBe('nw');
  });

  it('refuses overlaps of every shape: same start, one inside the other, touching by one millisecond, open-ended', async () => {
    const { db } = database;
    const id = await personWithoutTimeline(db);
    await insertRow(db, { personId: id, company: 'nw', from: APR, to: JUL });

    const shapes: { from: Date; to: Date | null }[] = [
      { from: APR, to: JUL }, // identical
      { from: APR, to: plusMs(APR, 1) }, // same start, shorter
      { from: plusMs(APR, 1), to: plusMs(JUL, -1) }, // strictly inside
      { from: JAN, to: OCT }, // strictly around
      { from: JAN, to: plusMs(APR, 1) }, // shares the first millisecond
      { from: plusMs(JUL, -1), to: OCT }, // shares the last millisecond
      { from: JAN, to: null }, // open-ended from before
      { from: plusMs(JUL, -1), to: null }, // open-ended from inside
    ];
    for (const shape of shapes) {
      const err = await refusal(insertRow(db, { personId: id, company: 'ep', ...shape }));
      expect(pgErrorInfo(err), `[${shape.from.toISOString()}, ${shape.to?.toISOString() ?? '∞'})`).toEqual({
        code: PG_EXCLUSION_VIOLATION,
        constraint: EXCLUSION,
      });
    }
    expect(await currentRows(db, id)).toEqual([{ company: 'nw', from: APR, to: JUL }]);
  });

  it('allows adjacent half-open intervals [a,b) and [b,c): the instant b belongs to the second company only', async () => {
    const { db } = database;
    const id = await personWithoutTimeline(db);
    await insertRow(db, { personId: id, company: 'nw', from: JAN, to: APR });
    await insertRow(db, { personId: id, company: 'ep', from: APR, to: JUL });
    await insertRow(db, { personId: id, company: 'shinden-a', from: JUL, to: null });

    expect(await overlappingPairs(db, id)).toBe(0);
    expect((await getPersonAt(db, id, plusMs(APR, -1))).affiliation?.company).toBe('nw');
    expect((await getPersonAt(db, id, APR)).affiliation?.company).toBe('ep');
    expect((await getPersonAt(db, id, plusMs(JUL, -1))).affiliation?.company).toBe('ep');
    expect((await getPersonAt(db, id, JUL)).affiliation?.company).toBe('shinden-a');
  });

  it('lets a superseded row overlap a current one: what was once believed stays on record', async () => {
    const { db } = database;
    const id = await personWithoutTimeline(db);
    const correctedAt = plusMs(T0, 60_000);
    // first believed: ep from January, nw-sys from April; then corrected to nw throughout
    await insertRow(db, { personId: id, company: 'ep', from: JAN, to: APR, supersededAt: correctedAt });
    await insertRow(db, { personId: id, company: 'nw-sys', from: APR, to: null, supersededAt: correctedAt });
    await insertRow(db, { personId: id, company: 'nw', from: JAN, to: null, recordedAt: correctedAt });

    expect(await currentRows(db, id)).toEqual([{ company: 'nw', from: JAN, to: null }]);
    expect((await getPersonAt(db, id, APR)).affiliation?.company).toBe('nw');
    // ...and the superseded belief is still answerable as of the time it was held
    expect((await listAffiliations(db, id, T0)).map((a) => a.company)).toEqual(['ep', 'nw-sys']);
  });

  it('keeps two different people’s identical affiliations apart: the constraint is per person', async () => {
    const { db } = database;
    const first = await personWithoutTimeline(db);
    const second = await personWithoutTimeline(db);
    await insertRow(db, { personId: first, company: 'nw', from: JAN, to: null });
    await insertRow(db, { personId: second, company: 'nw', from: JAN, to: null });
    expect((await getPersonAt(db, second, APR)).affiliation?.company).toBe('nw');
  });
});

// PGlite is one embedded session: its transactions run one after another, so concurrent calls
// cannot interleave and the race this test is about cannot happen there. It needs real
// PostgreSQL sessions from a connection pool.
describe.skipIf(!onPostgres)('Invariant 1 under concurrency (PostgreSQL)', () => {
  const ATTEMPTS = 20;
  let database: TestDatabase;
  let targets: string[];
  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: ATTEMPTS + 2 });
    await makeUtilityGroup(database.db);
    targets = [];
    for (let i = 0; i < ATTEMPTS; i++) targets.push(await makeCompany(database.db, `retail-${i}`, 'retail'));
  });
  afterAll(() => database.close());

  it('twenty simultaneous transfers of one person at the same instant: exactly one wins, the rest are refused, and the person still has one company at every instant', async () => {
    const { db } = database;
    const id = await hire(db, { company: 'nw', at: JAN });
    const now = plusMs(APR, 1000);

    const results = await Promise.allSettled(
      targets.map((company) =>
        receiveHrEvent({ db, now, webhookId: uniqueId('wh'), event: { type: 'person.transferred', personId: id, company, effectiveAt: APR } }),
      ),
    );

    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [targets[i]!] : []));
    const losers = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(ATTEMPTS - 1);
    for (const reason of losers) {
      expect(reason).toBeInstanceOf(DomainError);
      expect(reason).toMatchObject({ status: 422, code: 'affiliation.contradiction' });
    }

    expect(await overlappingPairs(db, id)).toBe(0);
    expect(await currentRows(db, id)).toEqual([
      { company: 'nw', from: JAN, to: APR },
      { company: winners[0], from: APR, to: null },
    ]);
    expect((await getPersonAt(db, id, plusMs(APR, -1))).affiliation?.company).toBe('nw');
    expect((await getPersonAt(db, id, APR)).affiliation?.company).toBe(winners[0]);
    const [accepted] = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from hr_events where person_id = ${id} and type = 'person.transferred'`,
    );
    expect(accepted!.n).toBe(1);
  });
});
