import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, openDatabase, queryRows, type Db } from '../../src/db/client.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../support/db.js';
import { hire, makeUtilityGroup, plusMs, T0, transfer } from '../support/factories.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run audit:verify` as an operator runs it: a separate process, configured by environment only. */
function runVerifyCommand(env: Record<string, string>): Promise<Run> {
  const { DATABASE_URL: _ignored, SEKISHO_DATA_DIR: _also, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'scripts/verify-audit.ts'], { cwd: projectRoot, env: { ...inherited, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const jsonLines = (stdout: string): unknown[] =>
  stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);

async function writeSomeHistory(db: Db): Promise<number> {
  const group = await makeUtilityGroup(db);
  const id = await hire(db, { company: group.nw, at: T0 });
  await transfer(db, { personId: id, company: group.ep, at: plusMs(T0, 86_400_000) });
  const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from audit_records`);
  return row!.n;
}

async function editRecord(db: Db, seq: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`alter table audit_records disable trigger audit_records__append_only_trg`);
    await tx.execute(sql`update audit_records set actor = 'someone-else' where seq = ${seq}`);
    await tx.execute(sql`alter table audit_records enable trigger audit_records__append_only_trg`);
  });
}

describe('npm run audit:verify on an embedded database folder', () => {
  let root: string;
  let dataDir: string;
  let records: number;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'sekisho-verify-'));
    dataDir = path.join(root, 'data');
    const database = await openDatabase({ dataDir });
    try {
      await applyMigrations(database);
      records = await writeSomeHistory(database.db);
    } finally {
      await database.close();
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('an intact chain: prints ok with the number of records checked, and exits 0', async () => {
    const run = await runVerifyCommand({ SEKISHO_DATA_DIR: dataDir });
    expect(run.code, run.stderr).toBe(0);
    expect(jsonLines(run.stdout)).toEqual([{ ok: true, checked: records }]);
  });

  it('a chain tampered with by the database owner: exits 1 and names the first bad record', async () => {
    const database = await openDatabase({ dataDir });
    try {
      await editRecord(database.db, 3);
    } finally {
      await database.close();
    }
    const run = await runVerifyCommand({ SEKISHO_DATA_DIR: dataDir });
    expect(run.code).toBe(1);
    expect(jsonLines(run.stdout)).toEqual([{ ok: false, checked: 2, firstBadSeq: 3 }]);
  });

  it('a folder with no database: says so and exits 2 instead of creating an empty database that would verify as ok', async () => {
    const missing = path.join(root, 'no-such-folder');
    const run = await runVerifyCommand({ SEKISHO_DATA_DIR: missing });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(missing);
    expect(existsSync(missing)).toBe(false);
  });
});

// The same command against PostgreSQL via DATABASE_URL: only when the suite runs on PostgreSQL
// (an in-memory PGlite cannot be reached from a second process; the folder case above covers it).
describe.skipIf(!onPostgres)('npm run audit:verify on PostgreSQL', () => {
  let database: TestDatabase;
  let records: number;
  beforeAll(async () => {
    database = await createTestDatabase();
    records = await writeSomeHistory(database.db);
  });
  afterAll(() => database.close());

  it('verifies the chain over DATABASE_URL: exits 0 when intact, 1 naming the first bad record after a tamper', async () => {
    const intact = await runVerifyCommand({ DATABASE_URL: database.url! });
    expect(intact.code, intact.stderr).toBe(0);
    expect(jsonLines(intact.stdout)).toEqual([{ ok: true, checked: records }]);

    await editRecord(database.db, 4);
    const broken = await runVerifyCommand({ DATABASE_URL: database.url! });
    expect(broken.code).toBe(1);
    expect(jsonLines(broken.stdout)).toEqual([{ ok: false, checked: 3, firstBadSeq: 4 }]);
  });
});
