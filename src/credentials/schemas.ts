import { z } from 'zod';
import { instantOut, orgId } from '../http/zod-types.js';
import { credentialType } from './schema.js';

export const personParams = z.strictObject({ id: orgId });

export const issueBody = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('password'), system: orgId, loginId: orgId }),
  z.strictObject({ type: z.literal('badge'), badgeId: orgId }),
  z.strictObject({ type: z.literal('api_token') }),
]);

export const credentialOut = z.object({
  id: z.string(),
  type: z.enum(credentialType.enumValues),
  status: z.enum(['active', 'revoked']),
  company: z.string(),
  createdAt: instantOut,
  revokedAt: instantOut.nullable(),
  revokedReason: z.string().nullable(),
  system: z.string().nullable(),
  loginId: z.string().nullable(),
  badgeId: z.string().nullable(),
});

/** Issued: the credential plus, once, the generated secret. */
export const issuedOut = credentialOut.extend({ password: z.string().optional(), token: z.string().optional() });

const terminalAndClient = { terminalId: orgId.optional(), clientIp: z.ipv4().or(z.ipv6()).optional() };
export const passwordAuthnBody = z.strictObject({ system: orgId, loginId: orgId, password: z.string().min(1).max(1024), ...terminalAndClient });
export const badgeAuthnBody = z.strictObject({ badgeId: orgId, ...terminalAndClient });
export const tokenAuthnBody = z.strictObject({ token: z.string().min(1).max(1024), ...terminalAndClient });
export const authnOut = z.object({ personId: z.string(), company: z.string() });
