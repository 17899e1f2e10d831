import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { desc, isNull, sql } from 'drizzle-orm';
import { appendAudit } from '../audit/chain.js';
import type { Keyring } from '../credentials/encryption.js';
import type { Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { signingKeys } from './schema.js';

export const SET_ALG = 'ES256';
/** Transaction-scoped advisory lock: replicas needing a key at once create exactly one. */
const SIGNING_KEY_LOCK = 7_351_010;

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

const aad = (kid: string) => `signing-key:${kid}`;
/** Imported private keys by kid: key material never changes for a kid, so caching is safe. */
const imported = new Map<string, Promise<CryptoKey>>();

/**
 * The current (newest non-retired) SET signing key, generated on first need inside the
 * caller's transaction (or a new one). The private JWK is stored sealed with the keyring,
 * bound to its kid; the kid is the key's RFC 7638 thumbprint.
 */
export async function ensureSigningKey(args: { db: Db; now: Date; keyring: Keyring; actor: string }): Promise<SigningKey> {
  const { keyring } = args;
  const row = await withTx(args.db, async (tx) => {
    const existing = await currentKeyRow(tx);
    if (existing) return existing;
    await tx.execute(sql`select pg_advisory_xact_lock(${SIGNING_KEY_LOCK})`);
    const raced = await currentKeyRow(tx);
    if (raced) return raced;
    const pair = await generateKeyPair(SET_ALG, { extractable: true });
    const publicJwk = await exportJWK(pair.publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const sealed = keyring.seal(JSON.stringify(await exportJWK(pair.privateKey)), aad(kid));
    const [created] = await tx
      .insert(signingKeys)
      .values({
        kid,
        alg: SET_ALG,
        publicJwk: { ...publicJwk, kid, alg: SET_ALG, use: 'sig' },
        privateCiphertext: sealed.ciphertext,
        privateIv: sealed.iv,
        privateAuthTag: sealed.authTag,
        privateKeyId: sealed.keyId,
        createdAt: args.now,
      })
      .returning();
    await appendAudit(tx, args.now, { actor: args.actor, action: 'signing-key.created', subjectType: 'signing-key', subjectId: kid, data: { alg: SET_ALG } });
    return created!;
  });
  let key = imported.get(row.kid);
  if (!key) {
    const jwk = JSON.parse(
      keyring.open({ ciphertext: row.privateCiphertext, iv: row.privateIv, authTag: row.privateAuthTag, keyId: row.privateKeyId }, aad(row.kid)).toString('utf8'),
    ) as JWK;
    key = importJWK(jwk, SET_ALG) as Promise<CryptoKey>;
    imported.set(row.kid, key);
    key.catch(() => imported.delete(row.kid));
  }
  return { kid: row.kid, privateKey: await key };
}

async function currentKeyRow(db: Db) {
  const [row] = await db.select().from(signingKeys).where(isNull(signingKeys.retiredAt)).orderBy(desc(signingKeys.createdAt)).limit(1);
  return row;
}

/** The JWK Set published at /.well-known/jwks.json: public halves of every non-retired key. */
export async function listPublicJwks(db: Db): Promise<{ keys: Record<string, unknown>[] }> {
  const rows = await db
    .select({ publicJwk: signingKeys.publicJwk })
    .from(signingKeys)
    .where(isNull(signingKeys.retiredAt))
    .orderBy(desc(signingKeys.createdAt));
  return { keys: rows.map((r) => r.publicJwk) };
}
