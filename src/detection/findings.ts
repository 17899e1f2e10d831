import { and, eq, inArray, sql } from 'drizzle-orm';
import { appendAudit } from '../audit/chain.js';
import { queryRows, type Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { findings } from './schema.js';

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface Occurrence {
  rule: string;
  severity: Severity;
  /** Occurrences with the same rule and key are one finding. */
  subjectKey: string;
  personId?: string | null;
  terminalId?: string | null;
  /** The (last) instant it was seen. */
  at: Date;
  /** Occurrences already folded by the caller: how many, and the first instant (default 1 and `at`). */
  count?: number;
  firstAt?: Date;
  details?: Record<string, unknown>;
  /** Merge these details into an existing finding's (the latest observation wins), e.g. a running total. */
  refreshDetails?: boolean;
}

/**
 * Raises findings set-based: occurrences are folded per (rule, key) first, then one upsert
 * adds them to the open (or acknowledged) finding of that rule and key, or opens a new one.
 * Returns the ids of findings that were opened by this call.
 */
export async function raiseFindings(tx: Db, occurrences: Occurrence[]): Promise<string[]> {
  if (occurrences.length === 0) return [];
  const folded = new Map<string, { o: Occurrence; count: number; first: number; last: number }>();
  for (const o of occurrences) {
    const k = `${o.rule}\u0000${o.subjectKey}`;
    const t = o.at.getTime();
    const t0 = o.firstAt?.getTime() ?? t;
    const n = o.count ?? 1;
    const f = folded.get(k);
    if (f) {
      f.count += n;
      f.first = Math.min(f.first, t0);
      f.last = Math.max(f.last, t);
      if (o.refreshDetails) f.o = { ...f.o, details: { ...f.o.details, ...o.details }, refreshDetails: true };
    } else folded.set(k, { o, count: n, first: t0, last: t });
  }
  const rows = [...folded.values()].map(({ o, count, first, last }) => ({
    rule: o.rule,
    severity: o.severity,
    subject_key: o.subjectKey,
    person_id: o.personId ?? null,
    terminal_id: o.terminalId ?? null,
    first_seen: new Date(first).toISOString(),
    last_seen: new Date(last).toISOString(),
    count,
    details: o.details ?? {},
    refresh: o.refreshDetails ?? false,
  }));
  const opened = await queryRows<{ id: string; inserted: boolean }>(
    tx,
    sql`
    insert into findings (rule, severity, subject_key, person_id, terminal_id, first_seen, last_seen, count, status, details)
    select r.rule, r.severity, r.subject_key, r.person_id, r.terminal_id, r.first_seen, r.last_seen, r.count, 'open', r.details
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(rule text, severity text, subject_key text, person_id text,
      terminal_id text, first_seen timestamptz, last_seen timestamptz, count int, details jsonb, refresh boolean)
    on conflict (rule, subject_key) where status <> 'resolved' do update set
      count = findings.count + excluded.count,
      first_seen = least(findings.first_seen, excluded.first_seen),
      last_seen = greatest(findings.last_seen, excluded.last_seen),
      details = case when (${JSON.stringify(rows.filter((r) => r.refresh).map((r) => `${r.rule}\u001f${r.subject_key}`))}::jsonb)
          ? (excluded.rule || chr(31) || excluded.subject_key)
        then findings.details || excluded.details else findings.details end
    returning id, (xmax = 0) as inserted`,
  );
  // xmax = 0 marks a row this statement inserted rather than updated.
  return opened.filter((r) => r.inserted).map((r) => r.id);
}

/** Which status a finding may move to from which: resolved is final (a new occurrence opens a new finding). */
const TRANSITIONS: Record<string, readonly string[]> = { acknowledged: ['open'], resolved: ['open', 'acknowledged'] };

/**
 * Acknowledges or resolves a finding, recording who, when and why, with its audit record.
 * Conditional on the status it moves from, so two people acting at once cannot both succeed
 * where only one move is allowed. Unknown id → undefined; a move not allowed → 'conflict'.
 */
export async function setFindingStatus(args: {
  db: Db;
  now: Date;
  actor: string;
  id: string;
  status: 'acknowledged' | 'resolved';
  note: string;
}): Promise<typeof findings.$inferSelect | 'conflict' | undefined> {
  const { db, now, actor, id, status, note } = args;
  return withTx(db, async (tx) => {
    const [row] = await tx
      .update(findings)
      .set({ status, statusChangedBy: actor, statusChangedAt: now, statusNote: note })
      .where(and(eq(findings.id, id), inArray(findings.status, [...TRANSITIONS[status]!])))
      .returning();
    if (!row) {
      const [exists] = await tx.select({ status: findings.status }).from(findings).where(eq(findings.id, id));
      return exists ? 'conflict' : undefined;
    }
    await appendAudit(tx, now, {
      actor,
      action: `finding.${status}`,
      subjectType: 'finding',
      subjectId: id,
      data: { rule: row.rule, subjectKey: row.subjectKey, status, note },
    });
    return row;
  });
}
