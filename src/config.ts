import { z } from 'zod';

/** Console roles (see README "Console"). Non-wheeling people keep only `reviewer`, for their own company. */
export const CONSOLE_ROLES = ['admin', 'compliance', 'emergency-officer', 'review-admin', 'reviewer'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];
const ROLE = `(?:${CONSOLE_ROLES.join('|')})`;
const ROLES_SPEC = new RegExp(`^\\s*[A-Za-z0-9._:-]{1,64}\\s*=\\s*${ROLE}(?:\\s*,\\s*${ROLE})*\\s*(?:;\\s*[A-Za-z0-9._:-]{1,64}\\s*=\\s*${ROLE}(?:\\s*,\\s*${ROLE})*\\s*)*;?\\s*$`);

/** "E1001=admin,compliance;E1002=emergency-officer" → { E1001: [...], E1002: [...] }. */
export function parseConsoleRoles(spec: string): Record<string, ConsoleRole[]> {
  const out: Record<string, ConsoleRole[]> = {};
  for (const part of spec.split(';')) {
    if (!part.trim()) continue;
    const [person, roles] = part.split('=') as [string, string];
    out[person.trim()] = [...new Set(roles.split(',').map((r) => r.trim() as ConsoleRole))];
  }
  return out;
}

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().min(1).optional(),
  SEKISHO_DATA_DIR: z.string().min(1).default('./data'),
  SEKISHO_SEED: z.enum(['demo', 'none']).optional(),
  SEKISHO_BOOTSTRAP_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SEKISHO_HR_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]+=*$/, 'must be whsec_<base64>')
    .optional(),
  /** AES-256-GCM keys for secrets at rest: "kid:base64[,kid2:base64]", the first one current. */
  SEKISHO_ENCRYPTION_KEYS: z.string().regex(/^[A-Za-z0-9_-]+:[A-Za-z0-9+/]+=*(,[A-Za-z0-9_-]+:[A-Za-z0-9+/]+=*)*$/, 'must be kid:base64key[,kid2:base64key]').optional(),
  SEKISHO_EMERGENCY_APPROVAL: z.enum(['single', 'dual']).default('single'),
  SEKISHO_EMERGENCY_MAX_MINUTES: z.coerce.number().int().min(1).max(60 * 24 * 30).default(72 * 60),
  SEKISHO_EMERGENCY_MAX_TOTAL_MINUTES: z.coerce.number().int().min(1).max(60 * 24 * 90).default(7 * 24 * 60),
  OIDC_ISSUER: z.string().url().optional(),
  OIDC_CLIENT_ID: z.string().optional(),
  OIDC_CLIENT_SECRET: z.string().optional(),
  SEKISHO_PUBLIC_URL: z.string().url().optional(),
  /** The built-in development OpenID Provider under /dev-idp: `on` / `off`; unset = on in demo mode only. */
  SEKISHO_DEV_IDP: z.enum(['on', 'off']).optional(),
  SEKISHO_OIDC_PERSON_CLAIM: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be a claim name').default('sub'),
  /** Console roles: "E1001=admin,compliance;E1002=emergency-officer". */
  SEKISHO_CONSOLE_ROLES: z
    .string()
    .regex(ROLES_SPEC, 'must be personId=role[,role][;personId=role…] with roles among ' + CONSOLE_ROLES.join(', '))
    .optional(),
  SEKISHO_CONSOLE_SESSION_MINUTES: z.coerce.number().int().min(5).max(7 * 24 * 60).default(8 * 60),
  SEKISHO_CONSOLE_IDLE_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(60),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEKISHO_SCHEDULER: z.enum(['on', 'off']).default('on'),
  SEKISHO_ACCESS_LOG_RETENTION_MONTHS: z.coerce.number().int().min(1).max(600).default(60),
  SEKISHO_BULK_ACCESS_THRESHOLD: z.coerce.number().int().min(1).max(10_000_000).default(200),
});

/** How emergencies are bounded: one declarer or two people; the longest declaration and the longest in total with extensions. */
export interface EmergencyPolicy {
  approval: 'single' | 'dual';
  maxMinutes: number;
  maxTotalMinutes: number;
}

export interface Config {
  port: number;
  databaseUrl: string | undefined;
  dataDir: string;
  seed: 'demo' | 'none';
  bootstrapToken: string | undefined;
  hrWebhookSecret: string | undefined;
  encryptionKeys: string | undefined;
  emergency: EmergencyPolicy;
  oidc: { issuer?: string; clientId?: string; clientSecret?: string; personClaim: string };
  console: {
    /** The built-in development OpenID Provider is mounted under /dev-idp and used for sign-in. */
    devIdp: boolean;
    /** Explicit role assignments; undefined when SEKISHO_CONSOLE_ROLES is unset. */
    roles: Record<string, ConsoleRole[]> | undefined;
    sessionMinutes: number;
    idleMinutes: number;
  };
  publicUrl: string;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  schedulerEnabled: boolean;
  /** Access logs: months kept, and bulk-access's distinct customers per person per day. */
  detection: { retentionMonths: number; bulkAccessThreshold: number };
}

/** Parses the environment once; main.ts passes the result down. Nothing else reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.SEKISHO_DEV_IDP === 'on' && e.OIDC_ISSUER) {
    throw new Error('invalid configuration:\n  SEKISHO_DEV_IDP: "on" and OIDC_ISSUER are exclusive; sign-in uses one provider');
  }
  if (e.OIDC_ISSUER && !e.OIDC_CLIENT_ID) throw new Error('invalid configuration:\n  OIDC_CLIENT_ID: required with OIDC_ISSUER');
  const seed = e.SEKISHO_SEED ?? (e.DATABASE_URL ? 'none' : 'demo');
  return {
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.SEKISHO_DATA_DIR,
    // Demo data only lands by default on the embedded database; a real deployment opts in.
    seed,
    bootstrapToken: e.SEKISHO_BOOTSTRAP_TOKEN,
    hrWebhookSecret: e.SEKISHO_HR_WEBHOOK_SECRET,
    encryptionKeys: e.SEKISHO_ENCRYPTION_KEYS,
    emergency: {
      approval: e.SEKISHO_EMERGENCY_APPROVAL,
      maxMinutes: e.SEKISHO_EMERGENCY_MAX_MINUTES,
      maxTotalMinutes: e.SEKISHO_EMERGENCY_MAX_TOTAL_MINUTES,
    },
    oidc: { issuer: e.OIDC_ISSUER, clientId: e.OIDC_CLIENT_ID, clientSecret: e.OIDC_CLIENT_SECRET, personClaim: e.SEKISHO_OIDC_PERSON_CLAIM },
    console: {
      // Demo mode (embedded database, demo seed) gets the development provider unless a real one
      // is configured; with DATABASE_URL it takes an explicit SEKISHO_DEV_IDP=on.
      devIdp: e.SEKISHO_DEV_IDP ? e.SEKISHO_DEV_IDP === 'on' : !e.DATABASE_URL && seed === 'demo' && !e.OIDC_ISSUER,
      roles: e.SEKISHO_CONSOLE_ROLES ? parseConsoleRoles(e.SEKISHO_CONSOLE_ROLES) : undefined,
      sessionMinutes: e.SEKISHO_CONSOLE_SESSION_MINUTES,
      idleMinutes: e.SEKISHO_CONSOLE_IDLE_MINUTES,
    },
    publicUrl: e.SEKISHO_PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    logLevel: e.LOG_LEVEL,
    schedulerEnabled: e.SEKISHO_SCHEDULER === 'on',
    detection: { retentionMonths: e.SEKISHO_ACCESS_LOG_RETENTION_MONTHS, bulkAccessThreshold: e.SEKISHO_BULK_ACCESS_THRESHOLD },
  };
}
