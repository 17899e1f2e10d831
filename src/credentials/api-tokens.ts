import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { appendAudit } from '../audit/chain.js';
import type { Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { apiTokens, SCOPES, type Scope } from './schema.js';

export interface TokenPrincipal {
  tokenId: string;
  name: string;
  scopes: Scope[];
}

/** Tokens are 256 random bits, so a fast hash is enough: nothing to brute-force. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export const newTokenValue = (): string => `sks_${randomBytes(32).toString('base64url')}`;

export async function createApiToken(args: {
  db: Db;
  now: Date;
  actor: string;
  name: string;
  scopes: Scope[];
  /** A chosen value (bootstrap, demo); otherwise one is generated. */
  value?: string;
}): Promise<{ id: string; value: string }> {
  const value = args.value ?? newTokenValue();
  return withTx(args.db, async (tx) => {
    const [row] = await tx
      .insert(apiTokens)
      .values({ name: args.name, tokenHash: hashToken(value), scopes: args.scopes, createdAt: args.now })
      .returning({ id: apiTokens.id });
    await appendAudit(tx, args.now, {
      actor: args.actor,
      action: 'api-token.created',
      subjectType: 'api-token',
      subjectId: row!.id,
      data: { name: args.name, scopes: args.scopes },
    });
    return { id: row!.id, value };
  });
}

/** Makes sure a token with this value and every scope exists (SEKISHO_BOOTSTRAP_TOKEN). */
export async function ensureBootstrapToken(db: Db, now: Date, value: string): Promise<void> {
  const [existing] = await db.select().from(apiTokens).where(eq(apiTokens.tokenHash, hashToken(value)));
  if (existing && !existing.revokedAt && SCOPES.every((s) => existing.scopes.includes(s))) return;
  await withTx(db, async (tx) => {
    if (existing) {
      await tx.update(apiTokens).set({ scopes: [...SCOPES], revokedAt: null }).where(eq(apiTokens.id, existing.id));
      await appendAudit(tx, now, { actor: 'system:bootstrap', action: 'api-token.restored', subjectType: 'api-token', subjectId: existing.id });
    } else {
      await createApiToken({ db: tx, now, actor: 'system:bootstrap', name: 'bootstrap', scopes: [...SCOPES], value });
    }
  });
}

export async function findActiveToken(db: Db, value: string): Promise<TokenPrincipal | undefined> {
  const [row] = await db
    .select({ id: apiTokens.id, name: apiTokens.name, scopes: apiTokens.scopes })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hashToken(value)), isNull(apiTokens.revokedAt)));
  return row && { tokenId: row.id, name: row.name, scopes: row.scopes };
}
