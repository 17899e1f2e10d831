import { z } from 'zod';
import { instant, instantOut, orgId } from '../http/zod-types.js';

export const emergencyParams = z.strictObject({ id: z.uuid() });
export const declareBody = z.strictObject({
  areas: z.array(orgId).min(1).max(100),
  reason: z.string().min(1).max(1000),
  durationMinutes: z.number().int().min(1),
});
export const extendBody = z.strictObject({ minutes: z.number().int().min(1), reason: z.string().min(1).max(1000) });
export const listQuery = z.strictObject({ status: z.enum(['pending_approval', 'active', 'ended']).optional() });
export const reportQuery = z.strictObject({ format: z.enum(['json', 'csv']).default('json') });

export const emergencyOut = z.object({
  id: z.string(),
  status: z.enum(['pending_approval', 'active', 'ended']),
  areas: z.array(z.string()),
  reason: z.string(),
  declaredBy: z.string(),
  approvedBy: z.string().nullable(),
  startedAt: instantOut.nullable(),
  expiresAt: instantOut,
  endedAt: instantOut.nullable(),
  endReason: z.string().nullable(),
});

export const reportOut = z.object({
  emergency: emergencyOut,
  decisions: z.array(
    z.object({
      decisionId: z.string(),
      at: instantOut,
      personId: z.string(),
      terminalId: z.string().nullable(),
      system: z.string(),
      customerId: z.string().nullable(),
      area: z.string().nullable(),
      allowed: z.array(z.string()),
      masked: z.array(z.string()),
    }),
  ),
});

export const rosterParams = z.strictObject({ personId: orgId });
export const rosterBody = z.strictObject({
  areas: z.array(orgId).min(1).max(100),
  trainedAt: instant.nullable().optional(),
  contractRef: z.string().min(1).max(200).nullable().optional(),
});
export const rosterOut = z.object({
  personId: z.string(),
  areas: z.array(z.string()),
  trainedAt: instantOut.nullable(),
  contractRef: z.string().nullable(),
});
