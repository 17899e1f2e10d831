import { inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { authnThrottles } from './schema.js';

/**
 * Guessing throttle, shared by all replicas through PostgreSQL.
 *
 * Policy: failures are counted per (login, source) and per source, in 15-minute windows.
 * 5 failures for one login from one source lock that pair for 15 minutes; 30 failures from
 * one source lock the source for 15 minutes. A lock never covers a login as a whole, so
 * nobody can lock a person out of their own terminal by guessing from elsewhere. Distributed
 * guessing is bounded per source, and generated passwords carry 144 bits, so it is hopeless.
 * Only guesses count (a wrong secret, an unknown login): a right secret refused because its
 * holder moved, it was revoked or the terminal is wrong is audited but never locks anything.
 * A success clears the (login, source) counter.
 */
export const THROTTLE = {
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
  perLoginAndSource: 5,
  perSource: 30,
};

export interface ThrottleKeys {
  loginAndSource: string;
  source: string;
}

export const throttleKeys = (login: string, source: string): ThrottleKeys => ({
  loginAndSource: `login:${login}|src:${source}`,
  source: `src:${source}`,
});

export async function isThrottled(db: Db, keys: ThrottleKeys, now: Date): Promise<boolean> {
  const rows = await db
    .select({ lockedUntil: authnThrottles.lockedUntil })
    .from(authnThrottles)
    .where(inArray(authnThrottles.key, [keys.loginAndSource, keys.source]));
  return rows.some((r) => r.lockedUntil && r.lockedUntil.getTime() > now.getTime());
}

export async function recordFailure(db: Db, keys: ThrottleKeys, now: Date): Promise<void> {
  const windowStart = new Date(now.getTime() - THROTTLE.windowMs).toISOString();
  const lockedUntil = new Date(now.getTime() + THROTTLE.lockMs).toISOString();
  const nowIso = now.toISOString();
  for (const [key, limit] of [
    [keys.loginAndSource, THROTTLE.perLoginAndSource],
    [keys.source, THROTTLE.perSource],
  ] as const) {
    await db.execute(sql`
      insert into authn_throttles (key, window_start, failures, locked_until)
      values (${key}, ${nowIso}::timestamptz, 1, ${limit <= 1 ? lockedUntil : null}::timestamptz)
      on conflict (key) do update set
        failures = case when authn_throttles.window_start <= ${windowStart}::timestamptz then 1 else authn_throttles.failures + 1 end,
        window_start = case when authn_throttles.window_start <= ${windowStart}::timestamptz then ${nowIso}::timestamptz else authn_throttles.window_start end,
        locked_until = case
          when authn_throttles.window_start > ${windowStart}::timestamptz and authn_throttles.failures + 1 >= ${limit}
          then ${lockedUntil}::timestamptz else authn_throttles.locked_until end`);
  }
}

export async function clearFailures(db: Db, keys: ThrottleKeys): Promise<void> {
  await db.delete(authnThrottles).where(inArray(authnThrottles.key, [keys.loginAndSource]));
}
