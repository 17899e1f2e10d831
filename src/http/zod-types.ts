import { z } from 'zod';

/** Ids chosen by the organisation: company codes, person ids, system codes, terminal ids. */
export const orgId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1–64 characters of A-Z a-z 0-9 . _ : -');

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** Date.parse rolls impossible dates over (2026-04-31 → May 1, T24:00 → next day): check the calendar too. */
function isRfc3339(s: string): boolean {
  const m = RFC3339.exec(s);
  if (!m || Number.isNaN(Date.parse(s))) return false;
  const [y, mo, d, h] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  return h < 24 && new Date(Date.UTC(y, mo - 1, d)).getUTCDate() === d;
}

/** RFC 3339 with an explicit offset, parsed to a Date. */
export const instant = z
  .string()
  .refine(isRfc3339, {
    message: 'must be an RFC 3339 date-time with offset, e.g. 2027-04-01T00:00:00+09:00',
  })
  .transform((s) => new Date(s));

/** Instants go out in UTC. */
export const instantOut = z.date().transform((d) => d.toISOString());
