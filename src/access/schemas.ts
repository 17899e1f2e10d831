import { z } from 'zod';
import { companyKind } from '../affiliation/schema.js';
import { instant, instantOut, orgId } from '../http/zod-types.js';
import { fieldClass } from './schema.js';

const fieldName = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'field names are 1–64 characters of A-Z a-z 0-9 . _ : -');

export const codeParams = z.strictObject({ code: orgId });
export const idParams = z.strictObject({ id: orgId });

export const systemBody = z.strictObject({
  name: z.string().min(1).max(200),
  ownerCompany: orgId.nullable().optional(),
  ownerPersonId: orgId.nullable().optional(),
  fields: z.record(fieldName, z.enum(fieldClass.enumValues)),
  emergencyFields: z.array(fieldName).max(500).optional(),
});
export const systemOut = z.object({
  code: z.string(),
  name: z.string(),
  ownerCompany: z.string().nullable(),
  ownerPersonId: z.string().nullable(),
  fields: z.record(z.string(), z.enum(fieldClass.enumValues)),
  emergencyFields: z.array(z.string()),
});

export const entitlementBody = z.strictObject({
  system: orgId,
  name: z.string().min(1).max(200),
  allowedCompanyKinds: z.array(z.enum(companyKind.enumValues)).max(4),
});
export const entitlementOut = z.object({
  code: z.string(),
  system: z.string(),
  name: z.string(),
  allowedCompanyKinds: z.array(z.enum(companyKind.enumValues)),
});

export const grantBody = z.strictObject({
  personId: orgId,
  entitlement: orgId,
  validTo: instant.optional(),
  reason: z.string().min(1).max(1000),
});
export const grantParams = z.strictObject({ id: z.uuid() });
export const grantOut = z.object({
  id: z.string(),
  personId: z.string(),
  entitlement: z.string(),
  system: z.string(),
  validFrom: instantOut,
  validTo: instantOut.nullable(),
  reason: z.string(),
  grantedBy: z.string(),
  status: z.enum(['active', 'revoked', 'expired']),
  revokedAt: instantOut.nullable(),
  revokedReason: z.string().nullable(),
});

export const terminalBody = z.strictObject({ company: orgId, site: z.string().min(1).max(200), active: z.boolean().optional() });
export const terminalOut = z.object({ id: z.string(), company: z.string(), site: z.string(), active: z.boolean() });

export const birthrightBody = z.strictObject({
  company: orgId,
  orgUnit: z.string().min(1).max(200).nullable().optional(),
  entitlement: orgId,
});
export const birthrightOut = z.object({ code: z.string(), company: z.string(), orgUnit: z.string().nullable(), entitlement: z.string() });
