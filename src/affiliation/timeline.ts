/**
 * The affiliation timeline as a pure value, and how an HR event changes it. Kept free of
 * the database so the rules can be tested exhaustively against a reference model.
 *
 * Policy for events that arrive out of order (the timeline is the truth, not arrival order):
 * - hired at t: the person must have no affiliation at or after t (first hire, or rehire after
 *   the last leave). Otherwise it contradicts the history.
 * - transferred at t: some segment must cover t and must not start exactly at t; it is split at
 *   t. A later change already recorded keeps its place, so a late transfer lands in the right
 *   slot of the history. A transfer that changes nothing (same company and org unit) contradicts.
 * - left at t: the segment covering t must be the last one and start before t; it ends at t.
 *   Leaving before a later transfer or hire already recorded contradicts; an earlier leaving
 *   date for someone already recorded as leaving later is a correction and moves it earlier.
 */

export interface Segment {
  companyCode: string;
  orgUnit: string | null;
  managerId: string | null;
  validFrom: Date;
  /** Exclusive end; null = open. */
  validTo: Date | null;
}

export type TimelineEvent =
  | { type: 'person.hired'; at: Date; companyCode: string; orgUnit: string | null; managerId: string | null }
  | { type: 'person.transferred'; at: Date; companyCode: string; orgUnit: string | null; managerId: string | null }
  | { type: 'person.left'; at: Date };

export type TimelineChange =
  | { ok: true; remove: Segment[]; add: Segment[] }
  | { ok: false; reason: string };

type Interval = { validFrom: Date; validTo: Date | null };

const covers = (s: Interval, t: Date): boolean =>
  s.validFrom.getTime() <= t.getTime() && (s.validTo === null || t.getTime() < s.validTo.getTime());

/** The segment in force at instant t, if any. Segments must not overlap. */
export function segmentAt<S extends Interval>(segments: readonly S[], t: Date): S | undefined {
  return segments.find((s) => covers(s, t));
}

/** Plans the change an event makes to a person's current timeline (sorted by validFrom). */
export function planTimelineChange(segments: readonly Segment[], event: TimelineEvent): TimelineChange {
  const at = event.at;
  const iso = at.toISOString();
  const last = segments.at(-1);

  if (event.type === 'person.hired') {
    if (last && (last.validTo === null || last.validTo.getTime() > at.getTime())) {
      return { ok: false, reason: `the person is already affiliated at or after ${iso}` };
    }
    const { companyCode, orgUnit, managerId } = event;
    return { ok: true, remove: [], add: [{ companyCode, orgUnit, managerId, validFrom: at, validTo: null }] };
  }

  const current = segmentAt(segments, at);
  if (!current) return { ok: false, reason: `the person has no affiliation at ${iso}` };
  if (current.validFrom.getTime() === at.getTime()) {
    return { ok: false, reason: `another change is already recorded at ${iso}` };
  }

  if (event.type === 'person.left') {
    if (current !== last) return { ok: false, reason: `changes are recorded after the leaving date ${iso}` };
    return { ok: true, remove: [current], add: [{ ...current, validTo: at }] };
  }

  if (current.companyCode === event.companyCode && current.orgUnit === event.orgUnit && current.managerId === event.managerId) {
    return { ok: false, reason: `the person is already in ${event.companyCode} at ${iso}` };
  }
  return {
    ok: true,
    remove: [current],
    add: [
      { ...current, validTo: at },
      { companyCode: event.companyCode, orgUnit: event.orgUnit, managerId: event.managerId, validFrom: at, validTo: current.validTo },
    ],
  };
}
