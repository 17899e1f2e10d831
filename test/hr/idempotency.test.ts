import { and, eq, isNull, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { affiliations } from '../../src/affiliation/schema.js';
import { auditRecords } from '../../src/audit/schema.js';
import { hrEvents } from '../../src/hr/schema.js';
import { applyDueEvents } from '../../src/hr/jobs.js';
import { onPostgres } from '../support/db.js';
import { T0, plusMs, uniqueId } from '../support/factories.js';
import { expectNothingChanged, snapshot } from '../support/snapshot.js';
import {
  adminGet,
  deliver,
  effectiveRecords,
  expectProblem,
  expectReceipt,
  hiredEvent,
  sendRaw,
  signWithStandardWebhooks,
  startHrFixture,
  transferredEvent,
  type HrFixture,
} from './helpers.js';

describe('a webhook-id is applied at most once', () => {
  let f: HrFixture;
  beforeAll(async () => {
    f = await startHrFixture({ now: T0 });
  });
  afterAll(() => f.close());
  beforeEach(() => f.server.setNow(T0));

  it('the same delivery sent again is answered 200 with the same body and changes nothing', async () => {
    const body = JSON.stringify(hiredEvent(uniqueId('E'), 'nw', '2026-03-01T09:00:00+09:00'));
    const headers = signWithStandardWebhooks(body, { at: T0 });
    const first = await sendRaw(f.server.url, body, headers);
    expect(first.status).toBe(202);
    const firstBody = await first.text();
    const before = await snapshot(f.db);

    const again = await sendRaw(f.server.url, body, headers);
    expect(again.status).toBe(200);
    expect(await again.text()).toBe(firstBody);
    await expectNothingChanged(f.db, before);
  });

  it('a retry re-signed later with the same webhook-id is recognised and changes nothing', async () => {
    const event = hiredEvent(uniqueId('E'), 'nw', '2026-03-01T09:00:00+09:00');
    const first = await deliver(f.server.url, event, { at: T0 });
    const receipt = await expectReceipt(first.res, 202);
    const before = await snapshot(f.db);

    f.server.setNow(plusMs(T0, 3_600_000)); // the sender's retry an hour later
    const retry = await deliver(f.server.url, event, { at: plusMs(T0, 3_600_000), id: first.id });
    expect(await expectReceipt(retry.res, 200)).toEqual(receipt);
    await expectNothingChanged(f.db, before);
  });

  it('a redelivered transfer is not applied again after the person has moved on', async () => {
    const personId = uniqueId('E');
    await expectReceipt((await deliver(f.server.url, hiredEvent(personId, 'nw', '2025-04-01T00:00:00+09:00'), { at: T0 })).res, 202);
    const toEp = await deliver(f.server.url, transferredEvent(personId, 'ep', '2025-10-01T00:00:00+09:00'), { at: T0 });
    const receipt = await expectReceipt(toEp.res, 202);
    await expectReceipt((await deliver(f.server.url, transferredEvent(personId, 'shinden-a', '2026-01-01T00:00:00+09:00'), { at: T0 })).res, 202);
    const before = await snapshot(f.db);

    const again = await sendRaw(f.server.url, toEp.body, signWithStandardWebhooks(toEp.body, { at: T0, id: toEp.id }));
    expect(await expectReceipt(again, 200)).toEqual(receipt);
    await expectNothingChanged(f.db, before);
    const timeline = await adminGet(f.server, `/v1/persons/${personId}/affiliations`);
    expect(timeline.body.items.map((s: { company: string }) => s.company)).toEqual(['nw', 'ep', 'shinden-a']);
  });

  it('a scheduled event redelivered after it took effect is still answered with its original "scheduled" body', async () => {
    const personId = uniqueId('E');
    await expectReceipt((await deliver(f.server.url, hiredEvent(personId, 'nw', '2025-04-01T00:00:00+09:00'), { at: T0 })).res, 202);
    const effectiveAt = new Date('2026-05-01T00:00:00+09:00');
    const scheduled = await deliver(f.server.url, transferredEvent(personId, 'ep', effectiveAt.toISOString()), { at: T0 });
    const receipt = await expectReceipt(scheduled.res, 202);
    expect(receipt.status).toBe('scheduled');

    await applyDueEvents({ db: f.db, now: effectiveAt });
    f.server.setNow(effectiveAt);
    const before = await snapshot(f.db);
    const again = await sendRaw(f.server.url, scheduled.body, signWithStandardWebhooks(scheduled.body, { at: effectiveAt, id: scheduled.id }));
    expect(await expectReceipt(again, 200)).toEqual(receipt);
    await expectNothingChanged(f.db, before);
    expect(await effectiveRecords(f.db, receipt.eventId)).toHaveLength(1);
  });

  it('a delivery refused for an unknown company is accepted when retried after the company exists', async () => {
    const event = hiredEvent(uniqueId('E'), 'kita-denki', '2026-03-01T09:00:00+09:00');
    const before = await snapshot(f.db);
    const first = await deliver(f.server.url, event, { at: T0 });
    await expectProblem(first.res, 422);
    await expectNothingChanged(f.db, before);

    const put = await fetch(`${f.server.url}/v1/companies/kita-denki`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${f.server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Kita Denki', kind: 'retail' }),
    });
    expect(put.status).toBe(201);
    const retry = await sendRaw(f.server.url, first.body, signWithStandardWebhooks(first.body, { at: T0, id: first.id }));
    expect((await expectReceipt(retry, 202)).status).toBe('applied');
  });
});

// PGlite is a single connection that runs one transaction at a time, so it cannot show
// contention between concurrent deliveries: this race only means something on PostgreSQL.
describe.skipIf(!onPostgres)('concurrent deliveries of one webhook-id (PostgreSQL)', () => {
  let f: HrFixture;
  beforeAll(async () => {
    f = await startHrFixture({ now: T0, poolSize: 20 });
  });
  afterAll(() => f.close());

  it('fifty simultaneous deliveries of one hire make exactly one winner and one affiliation', async () => {
    const personId = uniqueId('E');
    const body = JSON.stringify(hiredEvent(personId, 'nw', '2026-03-01T09:00:00+09:00'));
    const headers = signWithStandardWebhooks(body, { at: T0 });

    const responses = await Promise.all(Array.from({ length: 50 }, () => sendRaw(f.server.url, body, headers)));
    const results = await Promise.all(responses.map(async (r) => ({ status: r.status, body: (await r.json()) as { eventId: string; status: string } })));

    expect(results.filter((r) => r.status === 202)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(49);
    const winner = results.find((r) => r.status === 202)!;
    for (const r of results) expect(r.body).toEqual(winner.body);
    expect(winner.body.status).toBe('applied');

    const stored = await f.db.select({ id: hrEvents.id }).from(hrEvents).where(eq(hrEvents.webhookId, headers['webhook-id']));
    expect(stored).toEqual([{ id: winner.body.eventId }]);
    const current = await f.db
      .select({ company: affiliations.companyCode })
      .from(affiliations)
      .where(and(eq(affiliations.personId, personId), isNull(affiliations.supersededAt)));
    expect(current).toEqual([{ company: 'nw' }]);
    const [accepted] = await f.db
      .select({ n: sql<number>`count(*)::int` })
      .from(auditRecords)
      .where(and(eq(auditRecords.action, 'hr.event.accepted'), eq(auditRecords.subjectId, personId)));
    expect(accepted!.n).toBe(1);
    expect(await effectiveRecords(f.db, winner.body.eventId)).toHaveLength(1);
  });
});
