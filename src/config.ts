import { z } from 'zod';

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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEKISHO_SCHEDULER: z.enum(['on', 'off']).default('on'),
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
  oidc: { issuer?: string; clientId?: string; clientSecret?: string };
  publicUrl: string;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  schedulerEnabled: boolean;
}

/** Parses the environment once; main.ts passes the result down. Nothing else reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.SEKISHO_DATA_DIR,
    // Demo data only lands by default on the embedded database; a real deployment opts in.
    seed: e.SEKISHO_SEED ?? (e.DATABASE_URL ? 'none' : 'demo'),
    bootstrapToken: e.SEKISHO_BOOTSTRAP_TOKEN,
    hrWebhookSecret: e.SEKISHO_HR_WEBHOOK_SECRET,
    encryptionKeys: e.SEKISHO_ENCRYPTION_KEYS,
    emergency: {
      approval: e.SEKISHO_EMERGENCY_APPROVAL,
      maxMinutes: e.SEKISHO_EMERGENCY_MAX_MINUTES,
      maxTotalMinutes: e.SEKISHO_EMERGENCY_MAX_TOTAL_MINUTES,
    },
    oidc: { issuer: e.OIDC_ISSUER, clientId: e.OIDC_CLIENT_ID, clientSecret: e.OIDC_CLIENT_SECRET },
    publicUrl: e.SEKISHO_PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    logLevel: e.LOG_LEVEL,
    schedulerEnabled: e.SEKISHO_SCHEDULER === 'on',
  };
}
