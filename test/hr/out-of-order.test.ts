import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { T0, at, plusMs, uniqueId } from '../support/factories.js';
import { expectNothingChanged, snapshot } from '../support/snapshot.js';
import {
  adminGet,
  deliver,
  expectProblem,
  expectReceipt,
  findEvent,
  hiredEvent,
  leftEvent,
  q,
  startHrFixture,
  transferredEvent,
  type HrFixture,
} from './helpers.js';

/**
 * The policy at the top of src/affiliation/timeline.ts: the timeline is the truth, not the
 * arrival order. A late transfer splits the segment covering its instant and keeps every
 * change already recorded after it in place.
 */
describe('HR events that arrive out of order land in the right slot of the history', () => {
  let f: HrFixture;
  beforeAll(async () => {
    f = await startHrFixture({ now: T0 });
  });
  afterAll(() => f.close());
  beforeEach(() => f.server.setNow(T0));

  /** Delivers at the server's current instant and expects acceptance. */
  const send = async (event: Record<string, unknown>, now: Date = T0) =>
    expectReceipt((await deliver(f.server.url, event, { at: now })).res, 202);

  const timeline = async (personId: string, query = '') => {
    const res = await adminGet(f.server, `/v1/persons/${personId}/affiliations${query}`);
    expect(res.status).toBe(200);
    return res.body.items as { company: string; orgUnit: string | null; validFrom: string; validTo: string | null }[];
  };
  const companyAt = async (personId: string, instant: Date | string) => {
    const res = await adminGet(f.server, `/v1/persons/${personId}?at=${q(instant)}`);
    expect(res.status).toBe(200);
    return (res.body.affiliation?.company ?? null) as string | null;
  };

  it('a transfer that arrives late lands between the hire and the transfer already recorded after it', async () => {
    const id = uniqueId('E');
    const hiredAt = at('2020-04-01T00:00:00+09:00');
    const lateAt = at('2023-04-01T00:00:00+09:00');
    const laterAt = at('2025-10-01T00:00:00+09:00');
    await send(hiredEvent(id, 'nw', hiredAt.toISOString(), { orgUnit: 'aomori' }));
    await send(transferredEvent(id, 'ep', laterAt.toISOString()));

    const recordedLate = plusMs(T0, 3_600_000);
    f.server.setNow(recordedLate);
    const late = await send(transferredEvent(id, 'shinden-a', '2023-04-01T00:00:00+09:00', { orgUnit: 'sales' }), recordedLate);
    expect(late.status).toBe('applied');

    expect(await timeline(id)).toEqual([
      { company: 'nw', companyKind: 'wheeling', orgUnit: 'aomori', managerId: null, validFrom: hiredAt.toISOString(), validTo: lateAt.toISOString() },
      { company: 'shinden-a', companyKind: 'retail', orgUnit: 'sales', managerId: null, validFrom: lateAt.toISOString(), validTo: laterAt.toISOString() },
      { company: 'ep', companyKind: 'retail', orgUnit: null, managerId: null, validFrom: laterAt.toISOString(), validTo: null },
    ]);
    expect(await companyAt(id, plusMs(hiredAt, -1))).toBeNull();
    expect(await companyAt(id, '2020-04-01T00:00:00+09:00')).toBe('nw');
    expect(await companyAt(id, plusMs(lateAt, -1))).toBe('nw');
    expect(await companyAt(id, lateAt)).toBe('shinden-a');
    expect(await companyAt(id, plusMs(laterAt, -1))).toBe('shinden-a');
    expect(await companyAt(id, laterAt)).toBe('ep');
    expect(await companyAt(id, recordedLate)).toBe('ep');

    // What was believed before the late event was recorded is still answerable.
    expect((await timeline(id, `?knownAt=${q(T0)}`)).map((s) => [s.company, s.validTo])).toEqual([
      ['nw', laterAt.toISOString()],
      ['ep', null],
    ]);
  });

  it('a person read as of an instant shows the company, its kind and when the affiliation began', async () => {
    const id = uniqueId('E');
    await send(hiredEvent(id, 'nw', '2024-04-01T00:00:00+09:00', { name: '山田 太郎', orgUnit: 'hachinohe' }));
    await send(transferredEvent(id, 'nw-sys', '2025-07-01T00:00:00+09:00'));
    const res = await adminGet(f.server, `/v1/persons/${id}?at=${q('2025-06-30T23:59:59.999+09:00')}`);
    expect(res).toEqual({
      status: 200,
      body: {
        id,
        name: '山田 太郎',
        email: null,
        status: 'active',
        affiliation: { company: 'nw', companyKind: 'wheeling', orgUnit: 'hachinohe', managerId: null, validFrom: '2024-03-31T15:00:00.000Z' },
      },
    });
    expect((await adminGet(f.server, `/v1/persons/${id}`)).body.affiliation).toMatchObject({ company: 'nw-sys', companyKind: 'contractor' });
  });

  it('a late transfer slots in before a transfer that is still scheduled for the future', async () => {
    const id = uniqueId('E');
    await send(hiredEvent(id, 'nw', '2025-04-01T00:00:00+09:00'));
    const scheduled = await send(transferredEvent(id, 'ep', '2026-10-01T00:00:00+09:00'));
    expect(scheduled.status).toBe('scheduled');
    const late = await send(transferredEvent(id, 'shinden-a', '2026-01-01T00:00:00+09:00'));
    expect(late.status).toBe('applied');

    expect((await timeline(id)).map((s) => [s.company, s.validFrom, s.validTo])).toEqual([
      ['nw', '2025-03-31T15:00:00.000Z', '2025-12-31T15:00:00.000Z'],
      ['shinden-a', '2025-12-31T15:00:00.000Z', '2026-09-30T15:00:00.000Z'],
      ['ep', '2026-09-30T15:00:00.000Z', null],
    ]);
    expect(await companyAt(id, T0)).toBe('shinden-a');
    expect((await findEvent(f.db, scheduled.eventId))!.appliedAt).toBeNull();
    expect((await findEvent(f.db, late.eventId))!.appliedAt).toEqual(T0);
  });

  it('a transfer that arrives after the leaving it preceded still lands inside the employment', async () => {
    const id = uniqueId('E');
    await send(hiredEvent(id, 'nw', '2020-04-01T00:00:00+09:00'));
    await send(leftEvent(id, '2026-03-31T00:00:00+09:00'));
    await send(transferredEvent(id, 'ep', '2024-04-01T00:00:00+09:00'));

    expect((await timeline(id)).map((s) => [s.company, s.validFrom, s.validTo])).toEqual([
      ['nw', '2020-03-31T15:00:00.000Z', '2024-03-31T15:00:00.000Z'],
      ['ep', '2024-03-31T15:00:00.000Z', '2026-03-30T15:00:00.000Z'],
    ]);
    const now = await adminGet(f.server, `/v1/persons/${id}`);
    expect(now.body).toMatchObject({ status: 'left', affiliation: null });
    expect(await companyAt(id, '2026-03-30T23:59:59.999+09:00')).toBe('ep');
  });

  it('a late leaving dated before a change already recorded after it contradicts the history', async () => {
    const id = uniqueId('E');
    await send(hiredEvent(id, 'nw', '2020-04-01T00:00:00+09:00'));
    await send(transferredEvent(id, 'ep', '2025-04-01T00:00:00+09:00'));
    const before = await snapshot(f.db);
    const problem = await expectProblem((await deliver(f.server.url, leftEvent(id, '2023-04-01T00:00:00+09:00'), { at: T0 })).res, 422);
    expect(problem.code).toBe('affiliation.contradiction');
    await expectNothingChanged(f.db, before);
  });

  it('a late transfer dated exactly at a change already recorded contradicts the history', async () => {
    const id = uniqueId('E');
    await send(hiredEvent(id, 'nw', '2020-04-01T00:00:00+09:00'));
    await send(transferredEvent(id, 'ep', '2025-04-01T00:00:00+09:00'));
    const before = await snapshot(f.db);
    const problem = await expectProblem((await deliver(f.server.url, transferredEvent(id, 'shinden-a', '2025-04-01T00:00:00+09:00'), { at: T0 })).res, 422);
    expect(problem.code).toBe('affiliation.contradiction');
    await expectNothingChanged(f.db, before);
    expect((await timeline(id)).map((s) => s.company)).toEqual(['nw', 'ep']);
  });
});
