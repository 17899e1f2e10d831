import { z } from 'zod';
import { instant, instantOut, orgId } from '../http/zod-types.js';
import { companyKind } from './schema.js';

export const companyParams = z.strictObject({ code: orgId });
export const companyBody = z.strictObject({
  name: z.string().min(1).max(200),
  kind: z.enum(companyKind.enumValues),
  actsFor: orgId.nullable().optional(),
});
export const companyOut = z.object({
  code: z.string(),
  name: z.string(),
  kind: z.enum(companyKind.enumValues),
  actsFor: z.string().nullable(),
});

export const personParams = z.strictObject({ id: orgId });
export const personQuery = z.strictObject({
  at: instant.optional(),
  /** Transaction time: what Sekisho had recorded at that instant. */
  knownAt: instant.optional(),
});

const affiliationOut = z.object({
  company: z.string(),
  companyKind: z.enum(companyKind.enumValues),
  orgUnit: z.string().nullable(),
  managerId: z.string().nullable(),
  validFrom: instantOut,
});

export const personOut = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  status: z.enum(['active', 'left']),
  affiliation: affiliationOut.nullable(),
});

export const affiliationsOut = z.object({
  items: z.array(
    z.object({
      company: z.string(),
      companyKind: z.enum(companyKind.enumValues),
      orgUnit: z.string().nullable(),
      managerId: z.string().nullable(),
      validFrom: instantOut,
      validTo: instantOut.nullable(),
    }),
  ),
});
export const affiliationsQuery = z.strictObject({ knownAt: instant.optional() });
