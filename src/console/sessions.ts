import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import { affiliations } from '../affiliation/schema.js';
import { affiliationInForceAt } from '../affiliation/sql.js';
import { appendAudit } from '../audit/chain.js';
import type { Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { consoleSessions } from './schema.js';

export type ConsoleSession = typeof consoleSessions.$inferSelect;

/** A sensitive act needs a passkey assertion younger than this in the session. */
export const STEP_UP_MS = 5 * 60_000;
/** last_seen_at is written at most this often: not one write per request. */
const TOUCH_EVERY_MS = 60_000;

const hashId = (id: string): string => createHash('sha256').update(id).digest('hex');

/**
 * Opens a session for a person who has just signed in. The cookie gets `id` (256 random bits);
 * the table keeps only its SHA-256, so a copy of the table opens no session.
 */
export async function createConsoleSession(args: {
  db: Db;
  now: Date;
  personId: string;
  minutes: number;
  via: string;
}): Promise<{ id: string; session: ConsoleSession }> {
  const { db, now, personId } = args;
  const id = randomBytes(32).toString('base64url');
  return withTx(db, async (tx) => {
    const [session] = await tx
      .insert(consoleSessions)
      .values({
        idHash: hashId(id),
        personId,
        createdAt: now,
        expiresAt: new Date(now.getTime() + args.minutes * 60_000),
        lastSeenAt: now,
        csrfSecret: randomBytes(32).toString('base64url'),
      })
      .returning();
    await appendAudit(tx, now, {
      actor: `console:${personId}`,
      action: 'console-session.created',
      subjectType: 'person',
      subjectId: personId,
      // A prefix of the hash names the session in the audit log without opening it.
      data: { session: session!.idHash.slice(0, 16), via: args.via, expiresAt: session!.expiresAt.toISOString() },
    });
    return { id, session: session! };
  });
}

/**
 * The live session behind a cookie value: not revoked, not expired, not idle too long, and
 * opened while the person held the affiliation they hold now. The last check makes a transfer
 * or a leave end the session at its effective instant even before the HR job has revoked it
 * (as credentials are checked at the instant of use); such a session is then revoked here.
 */
export async function findLiveSession(args: { db: Db; now: Date; id: string; idleMinutes: number }): Promise<ConsoleSession | undefined> {
  const { db, now } = args;
  if (!/^[A-Za-z0-9_-]{43}$/.test(args.id)) return undefined;
  const [row] = await db
    .select({ session: consoleSessions, affiliationFrom: affiliations.validFrom })
    .from(consoleSessions)
    .leftJoin(affiliations, and(eq(affiliations.personId, consoleSessions.personId), affiliationInForceAt(now)))
    .where(
      and(
        eq(consoleSessions.idHash, hashId(args.id)),
        isNull(consoleSessions.revokedAt),
        gt(consoleSessions.expiresAt, now),
        gt(consoleSessions.lastSeenAt, new Date(now.getTime() - args.idleMinutes * 60_000)),
      ),
    )
    .limit(1);
  if (!row) return undefined;
  const { session, affiliationFrom } = row;
  if (!affiliationFrom || affiliationFrom.getTime() > session.createdAt.getTime()) {
    await endConsoleSessionsWhere(db, now, eq(consoleSessions.idHash, session.idHash), affiliationFrom ? 'affiliation-changed' : 'not-affiliated');
    return undefined;
  }
  if (now.getTime() - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
    await db.update(consoleSessions).set({ lastSeenAt: now }).where(eq(consoleSessions.idHash, session.idHash));
  }
  return session;
}

async function endConsoleSessionsWhere(db: Db, now: Date, where: ReturnType<typeof eq>, reason: string): Promise<{ personId: string; idHash: string }[]> {
  return db
    .update(consoleSessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(where, isNull(consoleSessions.revokedAt)))
    .returning({ personId: consoleSessions.personId, idHash: consoleSessions.idHash });
}

/**
 * Set-based: ends every live console session of these people (a transfer or leave taking
 * effect, an emergency's end for its roster) in one UPDATE, inside the caller's transaction.
 * Returns the sessions ended (person, and a prefix of the session's hash for the audit log).
 */
export async function endConsoleSessions(tx: Db, args: { personIds: string[]; now: Date; reason: string }): Promise<{ personId: string; session: string }[]> {
  if (args.personIds.length === 0) return [];
  const ended = await endConsoleSessionsWhere(tx, args.now, inArray(consoleSessions.personId, [...new Set(args.personIds)]), args.reason);
  return ended.map((e) => ({ personId: e.personId, session: e.idHash.slice(0, 16) }));
}

/** Sign-out: the session ends for good. */
export async function endConsoleSession(args: { db: Db; now: Date; session: ConsoleSession; reason: string }): Promise<void> {
  await withTx(args.db, async (tx) => {
    await endConsoleSessionsWhere(tx, args.now, eq(consoleSessions.idHash, args.session.idHash), args.reason);
    await appendAudit(tx, args.now, {
      actor: `console:${args.session.personId}`,
      action: 'console-session.ended',
      subjectType: 'person',
      subjectId: args.session.personId,
      data: { session: args.session.idHash.slice(0, 16), reason: args.reason },
    });
  });
}

/** A passkey assertion for this session's person has just been verified. */
export async function recordStepUp(args: { db: Db; now: Date; session: ConsoleSession }): Promise<void> {
  await args.db.update(consoleSessions).set({ steppedUpAt: args.now }).where(eq(consoleSessions.idHash, args.session.idHash));
}

/** True when the session's last passkey assertion is less than 5 minutes old at `now`. */
export function isSteppedUp(session: Pick<ConsoleSession, 'steppedUpAt'>, now: Date): boolean {
  if (!session.steppedUpAt) return false;
  const age = now.getTime() - session.steppedUpAt.getTime();
  return age >= 0 && age < STEP_UP_MS;
}

/**
 * Synchronizer token: an HMAC of the session's server-side csrf_secret. Pages embed it in
 * forms and the console's scripts send it as x-csrf-token; another site can neither read it
 * nor compute it, and it dies with the session.
 */
export function csrfToken(session: Pick<ConsoleSession, 'csrfSecret'>): string {
  return createHmac('sha256', session.csrfSecret).update('sekisho-console-csrf-v1').digest('base64url');
}

export function csrfTokenValid(session: Pick<ConsoleSession, 'csrfSecret'>, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length === 0 || presented.length > 128) return false;
  const expected = Buffer.from(csrfToken(session));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Live sessions of a person (the person page shows it). */
export async function countLiveSessions(db: Db, personId: string, now: Date): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(consoleSessions)
    .where(and(eq(consoleSessions.personId, personId), isNull(consoleSessions.revokedAt), gt(consoleSessions.expiresAt, now)));
  return row?.n ?? 0;
}
