import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { T0, uniqueId } from '../support/factories.js';
import { expectNothingChanged, snapshot, type Snapshot } from '../support/snapshot.js';
import { postHrEvent } from '../support/webhook.js';
import { expectProblem, expectReceipt, hiredEvent, leftEvent, startHrFixture, transferredEvent, type HrFixture } from './helpers.js';

const HIRED_AT = '2025-04-01T00:00:00+09:00';

describe('the HR webhook refuses malformed or contradictory events and writes nothing', () => {
  let f: HrFixture;
  /** A person hired on HIRED_AT into nw, still active. */
  let active: string;
  /** A person hired on HIRED_AT who left on 2025-12-31. */
  let leaver: string;
  let before: Snapshot;

  const post = (event: unknown) => postHrEvent(f.server.url, event, { now: T0 });
  const postBody = (body: string) => postHrEvent(f.server.url, undefined, { now: T0, body });

  beforeAll(async () => {
    f = await startHrFixture({ now: T0 });
    active = uniqueId('E');
    leaver = uniqueId('E');
    await expectReceipt(await post(hiredEvent(active, 'nw', HIRED_AT, { orgUnit: 'aomori' })), 202);
    await expectReceipt(await post(hiredEvent(leaver, 'nw', HIRED_AT)), 202);
    await expectReceipt(await post(leftEvent(leaver, '2025-12-31T00:00:00+09:00')), 202);
  });
  afterAll(() => f.close());
  beforeEach(async () => {
    before = await snapshot(f.db);
  });

  describe('400 for a body that is not a valid HR event', () => {
    for (const [what, body] of [
      ['malformed JSON', '{"type":"person.hired","personId":'],
      ['an empty body', ''],
      ['JSON that is not an object', '["person.hired"]'],
      ['JSON null', 'null'],
    ] as const) {
      it(`a signed delivery of ${what} is refused`, async () => {
        const problem = await expectProblem(await postBody(body), 400);
        expect(problem.code).toBe('request.invalid');
        await expectNothingChanged(f.db, before);
      });
    }

    it('malformed JSON is reported as such', async () => {
      const problem = await expectProblem(await postBody('{"type": "person.hired",'), 400);
      expect(problem.detail).toMatch(/JSON/);
      await expectNothingChanged(f.db, before);
    });

    const fieldCases: [string, Record<string, unknown>, string][] = [
      ['an effective date given as a number', hiredEvent(uniqueId('E'), 'nw', HIRED_AT, { effectiveAt: 123 }), '/effectiveAt'],
      ['an effective date without a UTC offset', hiredEvent(uniqueId('E'), 'nw', '2025-04-01T00:00:00'), '/effectiveAt'],
      ['an effective date that is not a date', hiredEvent(uniqueId('E'), 'nw', 'next monday'), '/effectiveAt'],
      ['an impossible calendar date (31 April), instead of rolling it over into May', hiredEvent(uniqueId('E'), 'nw', '2026-04-31T00:00:00+09:00'), '/effectiveAt'],
      ['29 February in a year that is not a leap year', hiredEvent(uniqueId('E'), 'nw', '2025-02-29T00:00:00+09:00'), '/effectiveAt'],
      ['hour 24', hiredEvent(uniqueId('E'), 'nw', '2025-04-01T24:00:00+09:00'), '/effectiveAt'],
      ['a person id containing a space', hiredEvent('E 1001', 'nw', HIRED_AT), '/personId'],
      ['a person id of 65 characters', hiredEvent('E'.repeat(65), 'nw', HIRED_AT), '/personId'],
      ['an empty person id', hiredEvent('', 'nw', HIRED_AT), '/personId'],
      ['a company code given as a number', hiredEvent(uniqueId('E'), 'nw', HIRED_AT, { company: 42 }), '/company'],
      ['an empty name', hiredEvent(uniqueId('E'), 'nw', HIRED_AT, { name: '' }), '/name'],
      ['an email that is not an email address', hiredEvent(uniqueId('E'), 'nw', HIRED_AT, { email: 'yamada at example' }), '/email'],
      ['an unknown event type', hiredEvent(uniqueId('E'), 'nw', HIRED_AT, { type: 'person.promoted' }), '/type'],
      ['a hire without a name', { type: 'person.hired', personId: uniqueId('E'), company: 'nw', effectiveAt: HIRED_AT }, '/name'],
      ['a hire without a company', { type: 'person.hired', personId: uniqueId('E'), name: 'Yamada Taro', effectiveAt: HIRED_AT }, '/company'],
      ['a transfer without a destination company', { type: 'person.transferred', personId: 'E-x', effectiveAt: HIRED_AT }, '/company'],
      ['an event without an effective date', { type: 'person.left', personId: 'E-x' }, '/effectiveAt'],
      ['an event without a person id', { type: 'person.left', effectiveAt: HIRED_AT }, '/personId'],
    ];
    for (const [what, event, path] of fieldCases) {
      it(`${what} is refused and the field is named`, async () => {
        const problem = await expectProblem(await post(event), 400);
        expect(problem.code).toBe('request.invalid');
        expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path, message: expect.any(String) })]));
        expect(problem.detail).toContain(path);
        await expectNothingChanged(f.db, before);
      });
    }

    it('an event with a field the schema does not know is refused, not silently trimmed', async () => {
      const problem = await expectProblem(await post(hiredEvent(uniqueId('E'), 'nw', HIRED_AT, { salary: 5_000_000 })), 400);
      expect(problem.errors).toEqual([{ path: expect.any(String), message: expect.stringContaining('salary') }]);
      expect(problem.detail).toContain('salary');
      await expectNothingChanged(f.db, before);
    });

    it('a person id of exactly 64 characters is accepted (the limit is inclusive)', async () => {
      await expectReceipt(await post(hiredEvent(`E${'0'.repeat(63)}`, 'nw', HIRED_AT)), 202);
    });

    it('a signed body of 2 MB is refused as too large', async () => {
      const event = hiredEvent(uniqueId('E'), 'nw', HIRED_AT, { orgUnit: 'x'.repeat(2 * 1024 * 1024) });
      const problem = await expectProblem(await post(event), 413);
      expect(problem.code).toBe('request.too-large');
      await expectNothingChanged(f.db, before);
    });

    it('a badly signed invalid body is refused for its signature before its content is judged', async () => {
      const res = await postHrEvent(f.server.url, { nonsense: true }, { now: T0, secret: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD' });
      await expectProblem(res, 401);
      await expectNothingChanged(f.db, before);
    });
  });

  describe('422 for an event about unknown companies or people', () => {
    it('a hire into an unknown company is refused and the company field is named', async () => {
      const problem = await expectProblem(await post(hiredEvent(uniqueId('E'), 'no-such-co', HIRED_AT)), 422);
      expect(problem.code).toBe('affiliation.unknown-company');
      expect(problem.errors).toEqual([expect.objectContaining({ path: '/company' })]);
      expect(problem.detail).toContain('no-such-co');
      await expectNothingChanged(f.db, before);
    });

    it('a transfer of an existing person into an unknown company is refused', async () => {
      const problem = await expectProblem(await post(transferredEvent(active, 'no-such-co', '2026-01-01T00:00:00+09:00')), 422);
      expect(problem.code).toBe('affiliation.unknown-company');
      await expectNothingChanged(f.db, before);
    });

    it('a transfer of a person nobody has hired is refused', async () => {
      const problem = await expectProblem(await post(transferredEvent('E-never-hired', 'ep', '2026-01-01T00:00:00+09:00')), 422);
      expect(problem.code).toBe('affiliation.unknown-person');
      expect(problem.detail).toContain('E-never-hired');
      await expectNothingChanged(f.db, before);
    });

    it('a leaving of a person nobody has hired is refused', async () => {
      const problem = await expectProblem(await post(leftEvent('E-never-hired', '2026-01-01T00:00:00+09:00')), 422);
      expect(problem.code).toBe('affiliation.unknown-person');
      await expectNothingChanged(f.db, before);
    });
  });

  describe('422 for an event that contradicts the recorded history', () => {
    const contradictions: [string, () => Record<string, unknown>][] = [
      ['a transfer dated before the person was hired', () => transferredEvent(active, 'ep', '2025-03-31T23:59:59+09:00')],
      ['a transfer dated exactly at the hire', () => transferredEvent(active, 'ep', HIRED_AT)],
      ['a transfer to the company and unit the person is already in', () => transferredEvent(active, 'nw', '2026-01-01T00:00:00+09:00', { orgUnit: 'aomori' })],
      ['a leaving dated before the person was hired', () => leftEvent(active, '2025-01-01T00:00:00+09:00')],
      ['a second leaving on the same day', () => leftEvent(leaver, '2025-12-31T00:00:00+09:00')],
      ['a second leaving after the person has already left', () => leftEvent(leaver, '2026-02-01T00:00:00+09:00')],
      ['a transfer of a person after they left', () => transferredEvent(leaver, 'ep', '2026-02-01T00:00:00+09:00')],
      ['a hire of a person who is already active', () => hiredEvent(active, 'ep', '2026-01-01T00:00:00+09:00', { name: 'Renamed Person' })],
      ['a hire of an active person dated before their existing hire', () => hiredEvent(active, 'ep', '2024-04-01T00:00:00+09:00')],
      ['a rehire dated before the person left', () => hiredEvent(leaver, 'ep', '2025-10-01T00:00:00+09:00')],
    ];
    for (const [what, event] of contradictions) {
      it(`${what} is refused`, async () => {
        const problem = await expectProblem(await post(event()), 422);
        expect(problem.code).toBe('affiliation.contradiction');
        await expectNothingChanged(f.db, before);
      });
    }

    it('a rehire after the person left is not a contradiction', async () => {
      await expectReceipt(await post(hiredEvent(leaver, 'ep', '2026-01-05T00:00:00+09:00')), 202);
    });
  });
});
