import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { appendAudit } from '../audit/chain.js';
import { canonicalJson } from '../audit/canonical.js';
import type { Db } from '../db/client.js';
import { raiseFindings, type Occurrence } from '../detection/findings.js';
import { withTx } from '../db/tx.js';
import type { Decision, DecisionRequest } from './decide.js';
import { decisionLog } from './schema.js';

type Row = typeof decisionLog.$inferInsert;

export function toLogRow(id: string, at: Date, caller: string, req: DecisionRequest, d: Decision): Row {
  const allowed: string[] = [];
  const masked: string[] = [];
  for (const [f, v] of Object.entries(d.fields)) (v === 'allow' ? allowed : masked).push(f);
  return {
    id,
    at,
    personId: req.personId,
    terminalId: req.terminalId ?? null,
    system: req.system,
    customerId: req.record.customerId ?? null,
    retailer: req.record.retailer ?? null,
    area: req.record.area ?? null,
    decision: d.decision,
    allowed,
    masked,
    reasons: d.reasons,
    emergencyId: d.emergencyId ?? null,
    caller,
  };
}

/** Denials that are findings in themselves: the attempt is the violation, whatever the answer was. */
export function findingsFromDecisions(rows: Row[]): Occurrence[] {
  const out: Occurrence[] = [];
  for (const r of rows) {
    const at = r.at as Date;
    if (r.reasons.includes('terminal-company-mismatch')) {
      out.push({ rule: 'terminal-company-mismatch', severity: 'high', subjectKey: `${r.personId}|${r.terminalId}`, personId: r.personId, terminalId: r.terminalId, at, details: { system: r.system, source: 'decision' } });
    }
    if (r.reasons.includes('emergency-not-active')) {
      out.push({ rule: 'emergency-access-outside-emergency', severity: 'high', subjectKey: r.personId, personId: r.personId, terminalId: r.terminalId, at, details: { system: r.system, area: r.area, source: 'decision' } });
    }
  }
  return out;
}

/**
 * Group commit for decisions: callers wait until their decision is durably logged, but many
 * decisions share one transaction and one audit record (whose digest covers every row), so
 * logging costs little per decision and the chain still vouches for each one.
 */
export class DecisionRecorder {
  private pending: { row: Row; done: (err?: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly maxBatch = 5000,
  ) {}

  newId(): string {
    return randomUUID();
  }

  record(rows: Row[]): Promise<void> {
    const waits = rows.map((row) => new Promise<void>((resolve, reject) => this.pending.push({ row, done: (err) => (err ? reject(err) : resolve()) })));
    this.flushSoon();
    return Promise.all(waits).then(() => undefined);
  }

  /** Resolves once every decision recorded so far has been written (or has failed). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** One flush at a time; whatever arrives meanwhile goes in the next batch. */
  private flushSoon(): void {
    if (this.flushing) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = undefined;
      // Rows that arrived after the last check of the loop must not wait for the next caller.
      if (this.pending.length > 0) this.flushSoon();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        await this.write(batch.map((b) => b.row));
        for (const b of batch) b.done();
      } catch (err) {
        this.logger.error({ err }, 'decision log write failed');
        for (const b of batch) b.done(err);
      }
    }
  }

  private async write(rows: Row[]): Promise<void> {
    const now = rows.at(-1)!.at as Date;
    const digest = createHash('sha256').update(canonicalJson(rows)).digest('hex');
    await withTx(this.db, async (tx) => {
      for (let i = 0; i < rows.length; i += 1000) await tx.insert(decisionLog).values(rows.slice(i, i + 1000));
      await raiseFindings(tx, findingsFromDecisions(rows));
      await appendAudit(tx, now, {
        actor: 'system:decisions',
        action: 'decision.batch',
        subjectType: 'decisions',
        subjectId: rows[0]!.id!,
        data: { count: rows.length, firstId: rows[0]!.id, lastId: rows.at(-1)!.id, digest },
      });
    });
  }
}
