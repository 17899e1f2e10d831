import { z } from 'zod';

/** Ids chosen by the organisation: company codes, person ids, system codes, terminal ids. */
export const orgId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1–64 characters of A-Z a-z 0-9 . _ : -');

/** RFC 3339 with an explicit offset, parsed to a Date. */
export const instant = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(s) && !Number.isNaN(Date.parse(s)), {
    message: 'must be an RFC 3339 date-time with offset, e.g. 2027-04-01T00:00:00+09:00',
  })
  .transform((s) => new Date(s));

/** Instants go out in UTC. */
export const instantOut = z.date().transform((d) => d.toISOString());
