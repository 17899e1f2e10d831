import { randomBytes, randomUUID } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import { appendAudit } from '../audit/chain.js';
import type { Keyring } from '../credentials/encryption.js';
import type { Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { outboxProblems } from './errors.js';
import { subscribers } from './schema.js';
import { SET_EVENT_TYPES } from './set.js';
import { ensureSigningKey } from './signing-keys.js';

export type SubscriberFormat = 'webhook' | 'set';
type SubscriberRow = typeof subscribers.$inferSelect;

/** What anyone may see of a subscriber: never the secret. */
export interface SubscriberView {
  id: string;
  name: string;
  url: string;
  format: SubscriberFormat;
  eventTypes: string[];
  audience: string | null;
  active: boolean;
  createdAt: Date;
}

export const toSubscriberView = (s: SubscriberRow): SubscriberView => ({
  id: s.id,
  name: s.name,
  url: s.url,
  format: s.format as SubscriberFormat,
  eventTypes: s.eventTypes,
  audience: s.audience,
  active: s.active,
  createdAt: s.createdAt,
});

/** Associated data binding a sealed webhook secret to its subscriber row. */
export const secretAad = (subscriberId: string) => `subscriber:${subscriberId}`;

/**
 * Registers a subscriber. The Standard Webhooks secret (`whsec_` + base64 of 32 random bytes)
 * is returned here once and stored only sealed. A 'set' subscriber receives only the events
 * CAEP defines (session and credential revocations): its event types default to those and may
 * only narrow them; its audience defaults to its URL, and a SET signing key exists from now on,
 * so the JWKS is published before the first token.
 */
export async function createSubscriber(args: {
  db: Db;
  now: Date;
  actor: string;
  keyring: Keyring;
  name: string;
  url: string;
  format: SubscriberFormat;
  eventTypes: string[];
  audience?: string;
}): Promise<{ subscriber: SubscriberView; secret: string }> {
  const id = randomUUID();
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const sealed = args.keyring.seal(secret, secretAad(id));
  const eventTypes = [...new Set(args.format === 'set' && args.eventTypes.length === 0 ? SET_EVENT_TYPES : args.eventTypes)].sort();
  const row = await withTx(args.db, async (tx) => {
    if (args.format === 'set') await ensureSigningKey({ db: tx, now: args.now, keyring: args.keyring, actor: args.actor });
    const [created] = await tx
      .insert(subscribers)
      .values({
        id,
        name: args.name,
        url: args.url,
        format: args.format,
        eventTypes,
        secretCiphertext: sealed.ciphertext,
        secretIv: sealed.iv,
        secretAuthTag: sealed.authTag,
        secretKeyId: sealed.keyId,
        audience: args.format === 'set' ? (args.audience ?? args.url) : null,
        createdAt: args.now,
      })
      .returning();
    await appendAudit(tx, args.now, {
      actor: args.actor,
      action: 'subscriber.created',
      subjectType: 'subscriber',
      subjectId: id,
      data: { name: args.name, url: args.url, format: args.format, eventTypes },
    });
    return created!;
  });
  return { subscriber: toSubscriberView(row), secret };
}

export async function listSubscribers(db: Db): Promise<SubscriberView[]> {
  return (await db.select().from(subscribers).orderBy(asc(subscribers.createdAt), asc(subscribers.id))).map(toSubscriberView);
}

/**
 * Deactivates a subscriber: no new deliveries fan out to it, and its pending ones are
 * cancelled (status 'cancelled') in the same transaction. Deactivating twice is a no-op.
 */
export async function deactivateSubscriber(args: { db: Db; now: Date; actor: string; id: string }): Promise<SubscriberView> {
  return withTx(args.db, async (tx) => {
    const [row] = await tx.select().from(subscribers).where(eq(subscribers.id, args.id)).for('update');
    if (!row) throw outboxProblems.subscriberNotFound(`no subscriber ${args.id}`);
    if (!row.active) return toSubscriberView(row);
    const [updated] = await tx.update(subscribers).set({ active: false }).where(eq(subscribers.id, args.id)).returning();
    await tx.execute(sql`update deliveries set status = 'cancelled', lease_until = null where subscriber_id = ${args.id} and status = 'pending'`);
    await appendAudit(tx, args.now, { actor: args.actor, action: 'subscriber.deactivated', subjectType: 'subscriber', subjectId: args.id });
    return toSubscriberView(updated!);
  });
}
