import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { T0, plusMs, uniqueId } from '../support/factories.js';
import { expectNothingChanged, snapshot, type Snapshot } from '../support/snapshot.js';
import { postHrEvent } from '../support/webhook.js';
import {
  deliver,
  expectProblem,
  expectReceipt,
  findEvent,
  hiredEvent,
  sendRaw,
  signWithStandardWebhooks,
  startHrFixture,
  transferredEvent,
  type HrFixture,
  type WebhookHeaders,
} from './helpers.js';

const OTHER_SECRET = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';

describe('the HR webhook accepts only correctly signed, fresh deliveries', () => {
  let f: HrFixture;
  beforeAll(async () => {
    f = await startHrFixture({ now: T0 });
  });
  afterAll(() => f.close());
  beforeEach(() => f.server.setNow(T0));

  const pastHire = () => hiredEvent(uniqueId('E'), 'nw', '2026-03-01T09:00:00+09:00');

  describe('accepted', () => {
    it('a hire signed by a Standard Webhooks sender is applied at once and answered 202 applied', async () => {
      const event = pastHire();
      const { res } = await deliver(f.server.url, event, { at: T0 });
      const receipt = await expectReceipt(res, 202);
      expect(receipt.status).toBe('applied');
      const stored = await findEvent(f.db, receipt.eventId);
      expect(stored).toMatchObject({ type: 'person.hired', personId: event.personId, initialStatus: 'applied' });
      expect(stored!.appliedAt).toEqual(T0);
    });

    it('an event dated in the future is answered 202 scheduled and not yet applied', async () => {
      const event = pastHire();
      await expectReceipt((await deliver(f.server.url, event, { at: T0 })).res, 202);
      const transfer = transferredEvent(event.personId as string, 'ep', '2026-04-01T00:00:00.001+09:00');
      const receipt = await expectReceipt((await deliver(f.server.url, transfer, { at: T0 })).res, 202);
      expect(receipt.status).toBe('scheduled');
      expect((await findEvent(f.db, receipt.eventId))!.appliedAt).toBeNull();
    });

    it('an event dated exactly now counts as applied, not scheduled', async () => {
      const receipt = await expectReceipt((await deliver(f.server.url, hiredEvent(uniqueId('E'), 'nw', T0.toISOString()), { at: T0 })).res, 202);
      expect(receipt.status).toBe('applied');
    });

    it('a header with several signatures is accepted when only the second one is valid (secret rotation)', async () => {
      const body = JSON.stringify(pastHire());
      const valid = signWithStandardWebhooks(body, { at: T0 });
      const stale = signWithStandardWebhooks(body, { at: T0, id: valid['webhook-id'], secret: OTHER_SECRET });
      const headers = { ...valid, 'webhook-signature': `${stale['webhook-signature']} ${valid['webhook-signature']}` };
      await expectReceipt(await sendRaw(f.server.url, body, headers), 202);
    });

    it('a delivery signed exactly five minutes before or after the server clock is still fresh', async () => {
      for (const skew of [-300_000, 300_000]) {
        await expectReceipt((await deliver(f.server.url, pastHire(), { at: plusMs(T0, skew) })).res, 202);
      }
    });

    it('our own test signer and the standardwebhooks package agree', async () => {
      await expectReceipt(await postHrEvent(f.server.url, pastHire(), { now: T0 }), 202);
    });
  });

  describe('rejected with 401 and nothing stored', () => {
    let before: Snapshot;
    beforeEach(async () => {
      before = await snapshot(f.db);
    });

    const expectRejected = async (res: Response) => {
      const problem = await expectProblem(res, 401);
      expect(problem.code).toBe('hr.signature-invalid');
      expect(problem.type).toMatch(/\/webhook-signature$/);
      await expectNothingChanged(f.db, before);
      return problem;
    };

    it('a delivery signed with another secret is refused', async () => {
      await expectRejected((await deliver(f.server.url, pastHire(), { at: T0, secret: OTHER_SECRET })).res);
    });

    it('a body altered by one byte after signing is refused', async () => {
      const body = JSON.stringify(pastHire());
      const headers = signWithStandardWebhooks(body, { at: T0 });
      const tampered = body.replace('"company":"nw"', '"company":"ep"');
      expect(tampered).not.toBe(body);
      expect(tampered.length).toBe(body.length);
      await expectRejected(await sendRaw(f.server.url, tampered, headers));
    });

    it('a body with one trailing byte added after signing is refused', async () => {
      const body = JSON.stringify(pastHire());
      await expectRejected(await sendRaw(f.server.url, `${body} `, signWithStandardWebhooks(body, { at: T0 })));
    });

    it('a valid signature replayed under another webhook-id is refused', async () => {
      const body = JSON.stringify(pastHire());
      const headers = signWithStandardWebhooks(body, { at: T0 });
      await expectRejected(await sendRaw(f.server.url, body, { ...headers, 'webhook-id': `${headers['webhook-id']}-x` }));
    });

    it('a delivery signed more than five minutes ago is refused as stale', async () => {
      await expectRejected((await deliver(f.server.url, pastHire(), { at: plusMs(T0, -301_000) })).res);
    });

    it('a delivery stamped more than five minutes in the future is refused', async () => {
      await expectRejected((await deliver(f.server.url, pastHire(), { at: plusMs(T0, 301_000) })).res);
    });

    it('a delivery that was fresh when signed is refused once the server clock has moved on', async () => {
      const body = JSON.stringify(pastHire());
      const headers = signWithStandardWebhooks(body, { at: T0 });
      f.server.setNow(plusMs(T0, 10 * 60_000));
      await expectRejected(await sendRaw(f.server.url, body, headers));
    });

    for (const header of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      it(`a delivery without the ${header} header is refused`, async () => {
        const body = JSON.stringify(pastHire());
        const headers: Partial<WebhookHeaders> = signWithStandardWebhooks(body, { at: T0 });
        delete headers[header];
        await expectRejected(await sendRaw(f.server.url, body, headers));
      });
    }

    const malformed: [string, (valid: string) => string][] = [
      ['an empty signature header', () => ''],
      ['a signature without a version', (v) => v.slice(3)],
      ['a signature of an unknown version', (v) => `v2,${v.slice(3)}`],
      ['a version with no signature', () => 'v1,'],
      ['a signature that is not base64', () => 'v1,!!!not*base64???'],
      ['a truncated signature', (v) => v.slice(0, -6)],
      ['plain garbage', () => 'garbage'],
    ];
    for (const [what, mangle] of malformed) {
      it(`a delivery with ${what} is refused`, async () => {
        const body = JSON.stringify(pastHire());
        const headers = signWithStandardWebhooks(body, { at: T0 });
        await expectRejected(await sendRaw(f.server.url, body, { ...headers, 'webhook-signature': mangle(headers['webhook-signature']) }));
      });
    }

    for (const ts of ['not-a-number', '1774969200.5', '-1', '']) {
      it(`a delivery with the timestamp '${ts}' is refused`, async () => {
        const body = JSON.stringify(pastHire());
        const headers = signWithStandardWebhooks(body, { at: T0 });
        await expectRejected(await sendRaw(f.server.url, body, { ...headers, 'webhook-timestamp': ts }));
      });
    }

    it('an administrator bearer token does not replace the signature', async () => {
      const res = await sendRaw(f.server.url, JSON.stringify(pastHire()), { authorization: `Bearer ${f.server.adminToken}` });
      await expectRejected(res);
    });

    it('a refused delivery tells the sender nothing about which check failed', async () => {
      const wrongSecret = await expectRejected((await deliver(f.server.url, pastHire(), { at: T0, secret: OTHER_SECRET })).res);
      const stale = await expectRejected((await deliver(f.server.url, pastHire(), { at: plusMs(T0, -3_600_000) })).res);
      expect(stale.detail).toBe(wrongSecret.detail);
    });
  });
});
