import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../db/client.js';

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface Occurrence {
  rule: string;
  severity: Severity;
  /** Occurrences with the same rule and key are one finding. */
  subjectKey: string;
  personId?: string | null;
  terminalId?: string | null;
  at: Date;
  details?: Record<string, unknown>;
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
    const f = folded.get(k);
    if (f) {
      f.count += 1;
      f.first = Math.min(f.first, t);
      f.last = Math.max(f.last, t);
    } else folded.set(k, { o, count: 1, first: t, last: t });
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
  }));
  const opened = await queryRows<{ id: string; inserted: boolean }>(
    tx,
    sql`
    insert into findings (rule, severity, subject_key, person_id, terminal_id, first_seen, last_seen, count, status, details)
    select r.rule, r.severity, r.subject_key, r.person_id, r.terminal_id, r.first_seen, r.last_seen, r.count, 'open', r.details
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(rule text, severity text, subject_key text, person_id text,
      terminal_id text, first_seen timestamptz, last_seen timestamptz, count int, details jsonb)
    on conflict (rule, subject_key) where status <> 'resolved' do update set
      count = findings.count + excluded.count,
      first_seen = least(findings.first_seen, excluded.first_seen),
      last_seen = greatest(findings.last_seen, excluded.last_seen)
    returning id, (xmax = 0) as inserted`,
  );
  // xmax = 0 marks a row this statement inserted rather than updated.
  return opened.filter((r) => r.inserted).map((r) => r.id);
}
