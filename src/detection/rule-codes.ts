import type { Severity } from './findings.js';

/**
 * The access-log rules (API.md codes). Each names one precise condition, judged at the event's
 * instant; one event may breach several (a mover's revoked old account is both a revoked
 * credential the connected system still accepted and a credential carried to another company).
 */
export const RULES = {
  /** A person not of the wheeling company at the instant saw non-public fields not covered by an active emergency. */
  nonpublicViewed: 'nonpublic-viewed-by-non-wheeling',
  /** The terminal is not registered to the viewer's company (nor to the company whose rules apply), or is unknown. */
  terminalMismatch: 'terminal-company-mismatch',
  /** A disaster-support roster member saw non-public emergency-set fields with no emergency covering the area active. */
  emergencyOutside: 'emergency-access-outside-emergency',
  /** A login whose credential had been revoked by the event's instant was used. */
  revokedCredential: 'revoked-credential-used',
  /** A login issued under a company other than the viewer's at the instant (their own old ID, or a former colleague's). */
  credentialAfterTransfer: 'credential-used-after-transfer',
  /** A shared account was used while its secret was known to someone who had moved to another company, before rotation. */
  sharedSecretExposed: 'shared-secret-exposed',
  /** A person viewed more distinct customers in one day (Asia/Tokyo) than the configured threshold. */
  bulkAccess: 'bulk-access',
} as const;

export const RULE_SEVERITY: Record<(typeof RULES)[keyof typeof RULES], Severity> = {
  'nonpublic-viewed-by-non-wheeling': 'critical',
  'terminal-company-mismatch': 'high',
  'emergency-access-outside-emergency': 'high',
  'revoked-credential-used': 'high',
  'credential-used-after-transfer': 'high',
  'shared-secret-exposed': 'high',
  'bulk-access': 'medium',
};
