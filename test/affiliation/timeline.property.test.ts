import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPersonAt } from '../../src/affiliation/persons.js';
import { planTimelineChange, type Segment, type TimelineEvent } from '../../src/affiliation/timeline.js';
import { queryRows } from '../../src/db/client.js';
import { DomainError } from '../../src/errors.js';
import { receiveHrEvent, type HrEventReceipt } from '../../src/hr/intake.js';
import type { HrEventBody } from '../../src/hr/schemas.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeUtilityGroup, plusMs, T0, uniqueId } from '../support/factories.js';

// ---------------------------------------------------------------------------------------------
// The event space: few instants (two of them 1 ms apart, one a day boundary seen from both
// sides), so collisions at one instant and out-of-order arrivals are the common case.
// ---------------------------------------------------------------------------------------------

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const INSTANTS: readonly number[] = [0, 1, HOUR, DAY - 1, DAY, 30 * DAY].map((ms) => T0.getTime() + ms);
/** Every instant the answers are compared at: each candidate and 1 ms either side. */
const PROBES: readonly number[] = [...new Set(INSTANTS.flatMap((t) => [t - 1, t, t + 1]))].sort((a, b) => a - b);
const ORG_UNITS = [null, 'grid-ops'] as const;
const COMPANY_COUNT = 4; // makeUtilityGroup: nw, ep, shinden-a, nw-sys

type EventType = TimelineEvent['type'];
interface GenEvent {
  type: EventType;
  instant: number;
  company: number;
  orgUnit: (typeof ORG_UNITS)[number];
}

const eventArb: fc.Arbitrary<GenEvent> = fc.record({
  type: fc.constantFrom<EventType>('person.hired', 'person.transferred', 'person.left'),
  instant: fc.integer({ min: 0, max: INSTANTS.length - 1 }),
  company: fc.integer({ min: 0, max: COMPANY_COUNT - 1 }),
  orgUnit: fc.constantFrom(...ORG_UNITS),
});
const sequenceArb = fc.array(eventArb, { minLength: 1, maxLength: 8 });

// ---------------------------------------------------------------------------------------------
// Reference model, written from the policy comment in src/affiliation/timeline.ts and nothing
// else: the timeline is a list of change points (instant → job, or null for "not employed");
// the job at t is the one of the last change point at or before t. Deliberately naive.
// ---------------------------------------------------------------------------------------------

interface Job {
  company: string;
  orgUnit: string | null;
}
type Outcome = 'accepted' | 'unknown-person' | 'contradiction';
interface ModelEvent {
  type: EventType;
  at: number;
  job: Job;
}

class ReferenceTimeline {
  private points: { at: number; job: Job | null }[] = [];
  /** The person exists once a hire has been accepted. */
  known = false;

  jobAt(t: number): Job | null {
    let job: Job | null = null;
    for (const p of this.points) if (p.at <= t) job = p.job;
    return job;
  }

  /** Employed at some instant before t (so "left" rather than "not yet hired" when not employed at t). */
  employedBefore(t: number): boolean {
    return this.points.some((p) => p.at < t && p.job !== null);
  }

  apply(e: ModelEvent): Outcome {
    const t = e.at;
    const later = this.points.filter((p) => p.at > t);
    const changeAtT = this.points.some((p) => p.at === t);
    const current = this.jobAt(t);

    if (e.type === 'person.hired') {
      // "No affiliation at or after t": not employed at t nor at any later change point.
      const employedFromT = [t, ...later.map((p) => p.at)].some((s) => this.jobAt(s) !== null);
      if (employedFromT) return 'contradiction';
      this.points = [...this.points.filter((p) => p.at < t), { at: t, job: e.job }];
      this.known = true;
      return 'accepted';
    }
    if (!this.known) return 'unknown-person';

    if (e.type === 'person.transferred') {
      // Employed at t, nothing else changes at exactly t, and it changes something. Later
      // change points keep their place: the new job lasts until the next one.
      if (current === null || changeAtT) return 'contradiction';
      if (current.company === e.job.company && current.orgUnit === e.job.orgUnit) return 'contradiction';
      this.points = [...this.points, { at: t, job: e.job }].sort((a, b) => a.at - b.at);
      return 'accepted';
    }

    // Left: employed at t, nothing else changes at exactly t, and the stint covering t is the
    // last one (no job starts later). That stint now ends at t; an end recorded later is gone.
    if (current === null || changeAtT || later.some((p) => p.job !== null)) return 'contradiction';
    this.points = [...this.points.filter((p) => p.at < t), { at: t, job: null }];
    return 'accepted';
  }
}

const toModelEvent = (g: GenEvent, companies: readonly string[]): ModelEvent => ({
  type: g.type,
  at: INSTANTS[g.instant]!,
  job: { company: companies[g.company]!, orgUnit: g.orgUnit },
});

const describeEvents = (events: readonly ModelEvent[]): string =>
  events.map((e) => `${e.type}@+${e.at - T0.getTime()}ms${e.type === 'person.left' ? '' : `→${e.job.company}/${e.job.orgUnit}`}`).join(', ');

// ---------------------------------------------------------------------------------------------

describe('the affiliation timeline under random HR event sequences', () => {
  let database: TestDatabase;
  let companies: string[];
  /** The arrival clock: always moves forward, starting after some instants and before others. */
  let arrivals = 0;
  const NOW_BASE = T0.getTime() + 2 * HOUR;

  beforeAll(async () => {
    database = await createTestDatabase();
    const group = await makeUtilityGroup(database.db);
    companies = [group.nw, group.ep, group.shinden, group.contractor];
  });
  afterAll(() => database.close());

  const overlappingCurrentPairs = async (personId?: string): Promise<number> => {
    const [row] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n
          from affiliations a
          join affiliations b on b.person_id = a.person_id and a.id < b.id
          where a.superseded_at is null and b.superseded_at is null
            and a.valid_from < coalesce(b.valid_to, 'infinity'::timestamptz)
            and b.valid_from < coalesce(a.valid_to, 'infinity'::timestamptz)
            ${personId === undefined ? sql`` : sql`and a.person_id = ${personId}`}`,
    );
    return row!.n;
  };

  async function deliver(personId: string, e: ModelEvent): Promise<{ receipt?: HrEventReceipt; error?: DomainError; now: Date }> {
    const now = new Date(NOW_BASE + arrivals++);
    const effectiveAt = new Date(e.at);
    const orgUnit = e.job.orgUnit ?? undefined;
    const event: HrEventBody =
      e.type === 'person.hired'
        ? { type: e.type, personId, name: `Person ${personId}`, company: e.job.company, orgUnit, effectiveAt }
        : e.type === 'person.transferred'
          ? { type: e.type, personId, company: e.job.company, orgUnit, effectiveAt }
          : { type: e.type, personId, effectiveAt };
    try {
      return { receipt: await receiveHrEvent({ db: database.db, now, webhookId: uniqueId('wh'), event }), now };
    } catch (err) {
      // Only a 422 is an expected refusal; anything else fails the property as it is.
      if (err instanceof DomainError && err.status === 422) return { error: err, now };
      throw err;
    }
  }

  it(
    'whatever order HR events arrive in, the stored timeline answers every instant exactly as the documented policy says, and never holds two affiliations at once',
    async () => {
      await fc.assert(
        fc.asyncProperty(sequenceArb, async (generated) => {
          const personId = uniqueId('P');
          const events = generated.map((g) => toModelEvent(g, companies));
          const model = new ReferenceTimeline();
          const story = describeEvents(events);

          for (const [i, e] of events.entries()) {
            const expected = model.apply(e);
            const { receipt, error, now } = await deliver(personId, e);
            const where = `event #${i + 1} of [${story}]`;
            if (expected === 'accepted') {
              expect(error?.message, `${where} should be accepted`).toBeUndefined();
              expect(receipt, where).toEqual({
                eventId: expect.any(String),
                status: e.at <= now.getTime() ? 'applied' : 'scheduled',
                duplicate: false,
              });
            } else {
              expect(receipt, `${where} should be rejected as ${expected}`).toBeUndefined();
              expect(error?.code, where).toBe(`affiliation.${expected}`);
            }
          }

          // (a) never two current affiliations of one person overlapping, checked independently of the constraint
          expect(await overlappingCurrentPairs(personId), story).toBe(0);

          // (b) as-of reads agree with the model at every candidate instant and 1 ms around it
          if (!model.known) {
            for (const t of PROBES) {
              await expect(getPersonAt(database.db, personId, new Date(t)), `at +${t - T0.getTime()}ms after [${story}]`).rejects.toMatchObject({
                code: 'affiliation.person-not-found',
              });
            }
            return;
          }
          const read = await Promise.all(PROBES.map((t) => getPersonAt(database.db, personId, new Date(t))));
          for (const [i, t] of PROBES.entries()) {
            const where = `at +${t - T0.getTime()}ms after [${story}]`;
            const person = read[i]!;
            const job = model.jobAt(t);
            expect(person.affiliation && { company: person.affiliation.company, orgUnit: person.affiliation.orgUnit }, where).toEqual(job);
            expect(person.status, where).toBe(job === null && model.employedBefore(t) ? 'left' : 'active');
          }
        }),
        { numRuns: 1000 },
      );

      // and across every person the property created, over all pairs of rows
      expect(await overlappingCurrentPairs()).toBe(0);
    },
    900_000,
  );
});

describe('planTimelineChange against the reference model', () => {
  const COMPANIES = ['nw', 'ep', 'shinden-a', 'nw-sys'];
  const toTimelineEvent = (e: ModelEvent): TimelineEvent =>
    e.type === 'person.left'
      ? { type: e.type, at: new Date(e.at) }
      : { type: e.type, at: new Date(e.at), companyCode: e.job.company, orgUnit: e.job.orgUnit, managerId: null };
  const sameJob = (x: Job | null, y: Job | null) => x === y || (x !== null && y !== null && x.company === y.company && x.orgUnit === y.orgUnit);
  // Plain checks rather than expect() in the inner loop: 10,000 runs stay well under a second or two.
  const check = (cond: boolean, message: () => string) => {
    if (!cond) throw new Error(message());
  };

  it('accepts exactly the events the policy accepts and plans a timeline with one job at every instant, for 10,000 random sequences', () => {
    fc.assert(
      fc.property(sequenceArb, (generated) => {
        const events = generated.map((g) => toModelEvent(g, COMPANIES));
        const model = new ReferenceTimeline();
        const story = () => describeEvents(events);
        let segments: Segment[] = [];

        for (const [i, e] of events.entries()) {
          const expected = model.apply(e);
          const plan = planTimelineChange(segments, toTimelineEvent(e));
          check(plan.ok === (expected === 'accepted'), () => `event #${i + 1} of [${story()}]: planned ok=${plan.ok}, policy says ${expected}`);
          if (!plan.ok) continue;
          check(
            plan.remove.every((r) => segments.includes(r)),
            () => `a plan removed a segment it was not given, after [${story()}]`,
          );
          segments = [...segments.filter((s) => !plan.remove.includes(s)), ...plan.add].sort(
            (a, b) => a.validFrom.getTime() - b.validFrom.getTime(),
          );
        }

        for (const s of segments) {
          check(s.validTo === null || s.validTo.getTime() > s.validFrom.getTime(), () => `empty segment after [${story()}]`);
        }
        for (const t of PROBES) {
          const covering = segments.filter((s) => s.validFrom.getTime() <= t && (s.validTo === null || t < s.validTo.getTime()));
          check(covering.length <= 1, () => `${covering.length} segments cover +${t - T0.getTime()}ms after [${story()}]`);
          const job = covering[0] ? { company: covering[0].companyCode, orgUnit: covering[0].orgUnit } : null;
          const expected = model.jobAt(t);
          check(sameJob(job, expected), () => `at +${t - T0.getTime()}ms after [${story()}]: planned ${JSON.stringify(job)}, policy says ${JSON.stringify(expected)}`);
        }
      }),
      { numRuns: 10_000 },
    );
  });
});

// The model has to be right for the comparison to mean anything: a few hand-checked stories.
describe('the reference model itself', () => {
  const job = (company: string): Job => ({ company, orgUnit: null });
  const [a, b, c, d] = INSTANTS as [number, number, number, number];

  it('places a late transfer in the right slot of the history and keeps the later change', () => {
    const m = new ReferenceTimeline();
    expect(m.apply({ type: 'person.hired', at: a, job: job('nw') })).toBe('accepted');
    expect(m.apply({ type: 'person.transferred', at: d, job: job('ep') })).toBe('accepted');
    expect(m.apply({ type: 'person.transferred', at: c, job: job('nw-sys') })).toBe('accepted');
    expect([a, b, c, d].map((t) => m.jobAt(t)?.company ?? null)).toEqual(['nw', 'nw', 'nw-sys', 'ep']);
    expect(m.apply({ type: 'person.left', at: b, job: job('nw') })).toBe('contradiction');
    expect(m.apply({ type: 'person.transferred', at: c, job: job('ep') })).toBe('contradiction');
  });

  it('refuses a hire while employed later, and allows a rehire at the leaving instant', () => {
    const m = new ReferenceTimeline();
    expect(m.apply({ type: 'person.left', at: b, job: job('nw') })).toBe('unknown-person');
    expect(m.apply({ type: 'person.hired', at: c, job: job('nw') })).toBe('accepted');
    expect(m.apply({ type: 'person.hired', at: a, job: job('ep') })).toBe('contradiction');
    expect(m.apply({ type: 'person.left', at: d, job: job('nw') })).toBe('accepted');
    expect(m.apply({ type: 'person.hired', at: d, job: job('ep') })).toBe('accepted');
    expect([b, c, d].map((t) => m.jobAt(t)?.company ?? null)).toEqual([null, 'nw', 'ep']);
    expect(m.employedBefore(b)).toBe(false);
  });
});
