import { z } from 'zod';
import { instant, instantOut, orgId } from '../http/zod-types.js';

/** Most events one POST /v1/access-logs takes. */
export const MAX_EVENTS_PER_REQUEST = 100_000;
/** Events may be logged at most this far ahead of Sekisho's clock (clock skew); later ones are refused. */
export const MAX_FUTURE_SKEW_MS = 24 * 3600_000;
/** Nothing is logged before this. */
export const EARLIEST_EVENT = Date.UTC(2000, 0, 1);

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/i;

/**
 * RFC 3339 with an offset, checked on the calendar (2026-04-31 is not a date), kept as the
 * string: the database parses it again on insert, so nothing is converted twice.
 */
export function isEventInstant(s: string): boolean {
  const m = RFC3339.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59) return false;
  if (m[7] !== undefined && (Number(m[7]) > 23 || Number(m[8]) > 59)) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (mo === 2 ? (leap ? 29 : 28) : DAYS_IN_MONTH[mo - 1]!);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const optionalId = orgId.nullish();

/** A field name as the connected system declared it. */
export const fieldName = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1–64 characters of A-Z a-z 0-9 . _ : -');

/**
 * One access event (API.md "Access logs"). Who: `personId` (the person the system identified) or
 * `loginId` (the system's account; resolved to its holder at `at`), at least one. `retailer` is
 * the company code of the retailer the customer was contracted with; missing or null counts as
 * someone else's customer. `area` lets an active emergency cover the event.
 */
export const accessEventIn = z
  .strictObject({
    at: z.string().refine(isEventInstant, 'must be an RFC 3339 date-time with offset, e.g. 2027-04-01T00:00:00+09:00'),
    system: orgId,
    personId: optionalId,
    loginId: optionalId,
    terminalId: optionalId,
    action: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1–64 characters of A-Z a-z 0-9 . _ : - (view, export, print, …)'),
    customerId: optionalId,
    retailer: optionalId,
    area: optionalId,
    fields: z.array(fieldName).max(256).nullish(),
  })
  .refine((e) => e.personId != null || e.loginId != null, { message: 'name the viewer: personId or loginId', path: ['personId'] });
export type AccessEventIn = z.infer<typeof accessEventIn>;

const ID = /^[A-Za-z0-9._:-]{1,64}$/;
const optionalIdOk = (v: unknown) => v === null || v === undefined || (typeof v === 'string' && ID.test(v));

/**
 * A fast check for the common case, about five times cheaper than the zod schema on a 100,000
 * event batch. It is at least as strict as `accessEventIn` (a property test holds it to that):
 * an event it passes, zod passes too; an event it fails goes to zod, which either accepts it
 * after all or says precisely what is wrong.
 */
export function isPlainValidEvent(e: unknown): boolean {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return false;
  const o = e as Record<string, unknown>;
  let who = false;
  let required = 0;
  for (const k of Object.keys(o)) {
    const v = o[k];
    switch (k) {
      case 'at':
        if (typeof v !== 'string' || !isEventInstant(v)) return false;
        required++;
        break;
      case 'system':
      case 'action':
        if (typeof v !== 'string' || !ID.test(v)) return false;
        required++;
        break;
      case 'personId':
      case 'loginId':
        if (!optionalIdOk(v)) return false;
        if (v != null) who = true;
        break;
      case 'terminalId':
      case 'customerId':
      case 'retailer':
      case 'area':
        if (!optionalIdOk(v)) return false;
        break;
      case 'fields':
        if (v === null || v === undefined) break;
        if (!Array.isArray(v) || v.length > 256) return false;
        for (const f of v) if (typeof f !== 'string' || !ID.test(f)) return false;
        break;
      default:
        return false;
    }
  }
  return who && required === 3;
}

export const accessLogAccepted = z.object({
  accepted: z.number().int(),
  batchId: z.string(),
});

/** The Idempotency-Key header: the connected system's id of the batch, e.g. "takuso:2026-10-01/0017". */
export const idempotencyKey = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'must be 1–200 visible ASCII characters');

export const FINDING_STATUSES = ['open', 'acknowledged', 'resolved'] as const;

export const findingStatusBody = z.strictObject({
  status: z.enum(['acknowledged', 'resolved']),
  note: z.string().trim().min(1).max(2000),
});

export const findingOut = z.object({
  id: z.string(),
  rule: z.string(),
  severity: z.string(),
  personId: z.string().nullable(),
  terminalId: z.string().nullable(),
  firstSeen: instantOut,
  lastSeen: instantOut,
  count: z.number(),
  status: z.enum(FINDING_STATUSES),
  details: z.record(z.string(), z.unknown()),
  statusChangedBy: z.string().nullable(),
  statusChangedAt: instantOut.nullable(),
  statusNote: z.string().nullable(),
});

const period = {
  from: instant,
  to: instant,
};

export const nonpublicReportQuery = z
  .strictObject({ ...period, system: orgId.optional(), format: z.enum(['json', 'csv']).default('json') })
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['to'] });

export const exposureQuery = z
  .strictObject({ ...period, customerId: orgId.optional(), system: orgId.optional(), retailer: orgId.optional() })
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['to'] })
  .refine((q) => q.customerId !== undefined || q.system !== undefined, { message: 'name a customerId or a system', path: ['customerId'] });

const viewerOut = z.object({
  personId: z.string().nullable(),
  /** Only for a viewer the log named by a login Sekisho could not resolve. */
  loginId: z.string().nullable(),
  company: z.string().nullable(),
  rulesCompany: z.string().nullable(),
  rulesKind: z.string().nullable(),
  site: z.string().nullable(),
  records: z.number(),
  customers: z.number(),
  retailers: z.array(z.string().nullable()),
  emergencyRecords: z.number(),
  firstAccess: instantOut,
  lastAccess: instantOut,
});

export const nonpublicReportOut = z.object({
  from: instantOut,
  to: instantOut,
  system: z.string().nullable(),
  totals: z.object({
    viewers: z.number(),
    companies: z.number(),
    customers: z.number(),
    records: z.number(),
    retailers: z.number(),
    emergencyRecords: z.number(),
    firstAccess: instantOut.nullable(),
    lastAccess: instantOut.nullable(),
  }),
  viewers: z.array(viewerOut),
  companies: z.array(
    z.object({
      company: z.string().nullable(),
      rulesKind: z.string().nullable(),
      site: z.string().nullable(),
      viewers: z.number(),
      records: z.number(),
      customers: z.number(),
      firstAccess: instantOut,
      lastAccess: instantOut,
    }),
  ),
  retailers: z.array(
    z.object({
      retailer: z.string().nullable(),
      customers: z.number(),
      records: z.number(),
      viewers: z.number(),
      firstAccess: instantOut,
      lastAccess: instantOut,
    }),
  ),
});

/** The part of the period in which it held: [from, to). */
const intervalOut = { from: instantOut, to: instantOut };

export const exposureOut = z.object({
  from: instantOut,
  to: instantOut,
  customerId: z.string().nullable(),
  system: z.string().nullable(),
  retailer: z.string().nullable(),
  systems: z.array(z.string()),
  couldHaveSeen: z.object({
    byGrant: z.array(
      z.object({
        personId: z.string(),
        company: z.string(),
        rulesCompany: z.string(),
        rulesKind: z.string(),
        system: z.string(),
        entitlement: z.string(),
        grantId: z.string(),
        fields: z.array(z.string()),
        ...intervalOut,
      }),
    ),
    byEmergency: z.array(
      z.object({
        personId: z.string(),
        company: z.string(),
        rulesCompany: z.string(),
        rulesKind: z.string(),
        emergencyId: z.string(),
        areas: z.array(z.string()),
        system: z.string(),
        fields: z.array(z.string()),
        ...intervalOut,
      }),
    ),
    terminalsAtRetailSites: z.array(z.object({ terminalId: z.string(), company: z.string(), site: z.string(), retailCompaniesAtSite: z.array(z.string()) })),
  }),
  didSee: z.array(
    z.object({
      personId: z.string().nullable(),
      loginId: z.string().nullable(),
      company: z.string().nullable(),
      rulesCompany: z.string().nullable(),
      rulesKind: z.string().nullable(),
      site: z.string().nullable(),
      system: z.string(),
      records: z.number(),
      customers: z.number(),
      fields: z.array(z.string()),
      emergencyRecords: z.number(),
      firstAccess: instantOut,
      lastAccess: instantOut,
    }),
  ),
});
