import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { queryRows, type Db } from '../../src/db/client.js';

/** The tables an HR event can write to. */
export const HR_TABLES = ['hr_events', 'persons', 'affiliations', 'audit_records'] as const;
export type HrTable = (typeof HR_TABLES)[number];

export interface TableState {
  rows: number;
  /** md5 over every row's text form: catches an in-place update that leaves the count alone. */
  digest: string;
}

export type Snapshot = Record<HrTable, TableState>;

/** Row counts (and a content digest) of every table an HR event touches. */
export async function snapshot(db: Db): Promise<Snapshot> {
  const out = {} as Snapshot;
  for (const table of HR_TABLES) {
    const [row] = await queryRows<{ rows: number; digest: string }>(
      db,
      sql`select count(*)::int as rows, coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as digest
          from ${sql.identifier(table)} t`,
    );
    out[table] = { rows: Number(row!.rows), digest: row!.digest };
  }
  return out;
}

/** After a rejected request: not one row added, removed or changed. */
export async function expectNothingChanged(db: Db, before: Snapshot): Promise<void> {
  expect(await snapshot(db)).toEqual(before);
}
