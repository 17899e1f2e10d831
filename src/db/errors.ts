/**
 * Driver errors arrive wrapped by drizzle (`.cause`); postgres.js names the constraint
 * `constraint_name`, PGlite `constraint`. Normalised here once.
 */
export interface PgErrorInfo {
  code?: string;
  constraint?: string;
}

export function pgErrorInfo(err: unknown): PgErrorInfo {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const o = e as Record<string, unknown>;
    const code = typeof o.code === 'string' && /^[0-9A-Z]{5}$/.test(o.code) ? o.code : undefined;
    const constraint = (o.constraint_name ?? o.constraint) as string | undefined;
    if (code || constraint) return { code, constraint };
    e = o.cause;
  }
  return {};
}

export const PG_UNIQUE_VIOLATION = '23505';
export const PG_EXCLUSION_VIOLATION = '23P01';
export const PG_FOREIGN_KEY_VIOLATION = '23503';
