import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { DEFAULT_DETECTION, type DetectionSettings } from './scan.js';

/**
 * detection.maintain-access-log-partitions: access_events is partitioned by UTC month
 * (access_events_YYYYMM, plus access_events_default for anything outside them).
 *
 *  - Creates the partitions of the current month and the next MONTHS_AHEAD months.
 *  - Gives a month its own partition when events of it sit in the default partition (logs
 *    older than the partitions, delivered late): the rows move in the same transaction.
 *  - Retention: drops the partitions of months that ended more than `retentionMonths` months
 *    before the current month, and deletes older rows from the default partition, and the
 *    bookkeeping of their batches and of bulk-access for their days.
 *
 * Safe on several replicas: one transaction under an advisory lock, each step checks the
 * catalogue first. DDL waits at most LOCK_TIMEOUT for intakes in flight, then gives up until
 * the next run rather than queueing intakes behind it.
 */

const PARTITION_LOCK = 7_351_041;
export const MONTHS_AHEAD = 3;
const LOCK_TIMEOUT = '5s';
const NAME = /^access_events_(\d{4})(\d{2})$/;

/** First instant of the UTC month `offset` months after the month of `d`. */
export function monthStart(d: Date, offset = 0): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1));
}

export const partitionName = (month: Date) => `access_events_${month.getUTCFullYear()}${String(month.getUTCMonth() + 1).padStart(2, '0')}`;

const literal = (d: Date) => `'${d.toISOString()}'`;

export interface PartitionResult {
  ran: boolean;
  created: string[];
  /** Partitions created for months found in the default partition, with the rows moved. */
  movedFromDefault: Record<string, number>;
  dropped: string[];
  deletedFromDefault: number;
}

async function partitions(tx: Db): Promise<string[]> {
  const rows = await queryRows<{ name: string }>(
    tx,
    sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'access_events'::regclass order by 1`,
  );
  return rows.map((r) => r.name);
}

export async function maintainAccessLogPartitions(args: { db: Db; now: Date; detection?: DetectionSettings }): Promise<PartitionResult> {
  const { now } = args;
  const retentionMonths = (args.detection ?? DEFAULT_DETECTION).retentionMonths;
  const result: PartitionResult = { ran: true, created: [], movedFromDefault: {}, dropped: [], deletedFromDefault: 0 };
  return withTx(args.db, async (tx) => {
    const [lock] = await queryRows<{ locked: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${PARTITION_LOCK}) as locked`);
    if (!lock?.locked) return { ...result, ran: false };
    await tx.execute(sql.raw(`set local lock_timeout = '${LOCK_TIMEOUT}'`));
    const cutoff = monthStart(now, -retentionMonths);
    const existing = new Set(await partitions(tx));

    // Retention first, so a late log older than the cutoff never gets a partition of its own.
    for (const name of existing) {
      const m = NAME.exec(name);
      if (!m) continue;
      const end = new Date(Date.UTC(Number(m[1]), Number(m[2]), 1));
      if (end.getTime() <= cutoff.getTime()) {
        await tx.execute(sql.raw(`drop table "${name}"`));
        existing.delete(name);
        result.dropped.push(name);
      }
    }
    const deleted = await queryRows<{ n: number }>(
      tx,
      sql`with d as (delete from access_events_default where at < ${cutoff.toISOString()}::timestamptz returning 1) select count(*)::int as n from d`,
    );
    result.deletedFromDefault = deleted[0]?.n ?? 0;
    await tx.execute(sql`delete from access_log_batches where max_at < ${cutoff.toISOString()}::timestamptz and scanned_at is not null`);
    // bulk-access bookkeeping of days whose events are gone.
    const cutoffDay = cutoff.toISOString().slice(0, 10);
    await tx.execute(sql`delete from access_person_days where day < ${cutoffDay}::date`);
    await tx.execute(sql`delete from access_bulk_customers where day < ${cutoffDay}::date`);

    // Months that sit in the default partition get their own partition, rows moved.
    const stranded = await queryRows<{ month: string; n: number }>(
      tx,
      sql`select to_char(at at time zone 'UTC', 'YYYY-MM') as month, count(*)::int as n from access_events_default group by 1 order by 1`,
    );
    for (const s of stranded) {
      const month = new Date(`${s.month}-01T00:00:00Z`);
      const name = partitionName(month);
      if (existing.has(name)) continue; // a partition someone attached by hand overlaps: leave it to them
      const from = literal(month);
      const to = literal(monthStart(month, 1));
      await tx.execute(sql.raw(`create table "${name}" (like access_events including defaults including constraints)`));
      await tx.execute(sql.raw(`with moved as (delete from access_events_default where at >= ${from} and at < ${to} returning *) insert into "${name}" select * from moved`));
      await tx.execute(sql.raw(`alter table access_events attach partition "${name}" for values from (${from}) to (${to})`));
      existing.add(name);
      result.movedFromDefault[name] = s.n;
    }

    // The current month and the next ones.
    for (let i = 0; i <= MONTHS_AHEAD; i++) {
      const month = monthStart(now, i);
      const name = partitionName(month);
      if (existing.has(name)) continue;
      await tx.execute(sql.raw(`create table "${name}" partition of access_events for values from (${literal(month)}) to (${literal(monthStart(month, 1))})`));
      existing.add(name);
      result.created.push(name);
    }
    return result;
  });
}
