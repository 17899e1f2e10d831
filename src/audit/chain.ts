import { createHash } from 'node:crypto';
import { asc, desc, gt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { auditRecords } from './schema.js';
import { canonicalJson } from './canonical.js';

export const GENESIS_HASH = '0'.repeat(64);
/** Transaction-scoped advisory lock key: appends are serialised, so seq order is chain order. */
const AUDIT_APPEND_LOCK = 7_351_002;

export interface AuditEntry {
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  data?: Record<string, unknown>;
}

type StoredRecord = typeof auditRecords.$inferSelect;

export function hashRecord(r: Omit<StoredRecord, 'hash'>): string {
  const body = canonicalJson({
    seq: r.seq,
    at: r.at.toISOString(),
    actor: r.actor,
    action: r.action,
    subjectType: r.subjectType,
    subjectId: r.subjectId,
    data: r.data,
    prevHash: r.prevHash,
  });
  return createHash('sha256').update(body).digest('hex');
}

/**
 * Appends entries to the chain inside the caller's transaction, so the audit record commits
 * (or rolls back) with the change it describes. Call it last in the transaction: it holds the
 * chain lock until commit.
 */
export async function appendAudit(tx: Db, now: Date, entries: AuditEntry | AuditEntry[]): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries];
  if (list.length === 0) return;
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_APPEND_LOCK})`);
  const [last] = await tx
    .select({ seq: auditRecords.seq, hash: auditRecords.hash })
    .from(auditRecords)
    .orderBy(desc(auditRecords.seq))
    .limit(1);
  let seq = last?.seq ?? 0;
  let prevHash = last?.hash ?? GENESIS_HASH;
  const rows: StoredRecord[] = [];
  for (const e of list) {
    seq += 1;
    const record = {
      seq,
      at: now,
      actor: e.actor,
      action: e.action,
      subjectType: e.subjectType,
      subjectId: e.subjectId,
      // Round-trip through JSON so what is hashed is exactly what jsonb gives back.
      data: JSON.parse(canonicalJson(e.data ?? {})) as Record<string, unknown>,
      prevHash,
    };
    const hash = hashRecord(record);
    rows.push({ ...record, hash });
    prevHash = hash;
  }
  // Chunked to stay under the bind-parameter limit on bulk changes.
  for (let i = 0; i < rows.length; i += 5000) {
    await tx.insert(auditRecords).values(rows.slice(i, i + 5000));
  }
}

export async function listAudit(db: Db, afterSeq: number, limit: number): Promise<StoredRecord[]> {
  return db.select().from(auditRecords).where(gt(auditRecords.seq, afterSeq)).orderBy(asc(auditRecords.seq)).limit(limit);
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  firstBadSeq?: number;
}

/**
 * Walks the whole chain in seq order. A record is bad when its hash does not match its
 * content (edited), when its seq is not previous + 1 (deleted or reordered), or when its
 * prev_hash is not the previous record's hash.
 */
export async function verifyAudit(db: Db): Promise<VerifyResult> {
  const pageSize = 5000;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  for (;;) {
    const page = await listAudit(db, expectedSeq - 1, pageSize);
    for (const r of page) {
      const bad = r.seq !== expectedSeq || r.prevHash !== prevHash || hashRecord(r) !== r.hash;
      if (bad) return { ok: false, checked, firstBadSeq: r.seq !== expectedSeq ? expectedSeq : r.seq };
      checked += 1;
      expectedSeq += 1;
      prevHash = r.hash;
    }
    if (page.length < pageSize) return { ok: true, checked };
  }
}
