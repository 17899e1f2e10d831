import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accessEventIn, isEventInstant, isPlainValidEvent } from '../../src/detection/schemas.js';

/**
 * Intake checks events with a fast hand-written check first and falls back to the zod schema
 * for anything it does not pass. That is only sound if the fast check never passes an event the
 * schema refuses: these properties hold it to that.
 */

const id = fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/);
const almostId = fc.oneof(id, fc.string({ maxLength: 70 }), fc.constant(''), fc.constant('a'.repeat(65)), fc.constant('C\u0000'), fc.constant('顧客'));
const instant = fc
  .date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2040-12-31T00:00:00Z'), noInvalidDate: true })
  .chain((d) => fc.constantFrom(d.toISOString(), d.toISOString().replace('Z', '+09:00'), d.toISOString().slice(0, 16) + 'Z'));
const almostInstant = fc.oneof(
  instant,
  fc.constantFrom('2026-02-29T00:00:00Z', '2028-02-29T00:00:00Z', '2026-04-31T10:00:00+09:00', '2026-10-01T24:00:00Z', '2026-10-01 10:00:00Z', '2026-13-01T00:00:00Z', '2026-10-01T10:00:60Z', '2026-10-01T10:00:00+24:00', '2026-10-01T10:00:00'),
  fc.string({ maxLength: 30 }),
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });
const value = fc.oneof(fc.constant(null), fc.integer(), fc.boolean(), fc.string({ maxLength: 5 }), fc.constant([]), fc.constant({}));

const event = fc
  .record(
    {
      at: fc.oneof(almostInstant, value),
      system: fc.oneof(almostId, value),
      personId: maybe(fc.oneof(almostId, fc.constant(null), value)),
      loginId: maybe(fc.oneof(almostId, fc.constant(null))),
      terminalId: maybe(fc.oneof(almostId, fc.constant(null))),
      action: fc.oneof(almostId, value),
      customerId: maybe(fc.oneof(almostId, fc.constant(null))),
      retailer: maybe(fc.oneof(almostId, fc.constant(null))),
      area: maybe(almostId),
      fields: maybe(fc.oneof(fc.array(almostId, { maxLength: 4 }), fc.constant(null), value, fc.constant(Array(257).fill('f')))),
      extra: maybe(value),
    },
    { requiredKeys: [] },
  )
  // Undefined values are absent from JSON: the events intake sees come from JSON.parse.
  .map((e) => JSON.parse(JSON.stringify(e)) as unknown);

describe('the fast event check', () => {
  it('never passes an event the schema refuses', () => {
    fc.assert(
      fc.property(event, (e) => {
        if (isPlainValidEvent(e)) expect(accessEventIn.safeParse(e).success).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('passes the ordinary events the schema passes', () => {
    const ordinary = fc.record({
      at: instant,
      system: id,
      personId: id,
      terminalId: id,
      action: id,
      customerId: id,
      retailer: id,
      area: id,
      fields: fc.array(id, { maxLength: 8 }),
    });
    fc.assert(fc.property(ordinary, (e) => isPlainValidEvent(e) && accessEventIn.safeParse(e).success));
  });

  it('knows the calendar: RFC 3339 instants that name a real day and time', () => {
    fc.assert(fc.property(instant, (s) => isEventInstant(s)));
    expect(['2028-02-29T00:00:00Z', '2026-12-31T23:59:59.123456789+09:00', '2026-10-01T10:00Z'].every(isEventInstant)).toBe(true);
    expect(['2026-02-29T00:00:00Z', '2100-02-29T00:00:00Z', '2026-04-31T10:00:00+09:00', '2026-10-01T24:00:00Z', '2026-10-01T10:00:00', '2026-10-01T10:00:00+24:00'].some(isEventInstant)).toBe(false);
  });
});
