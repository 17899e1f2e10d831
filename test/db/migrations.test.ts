import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCompany } from '../../src/affiliation/companies.js';
import { applyMigrations, migrationsFolder, openDatabase, queryRows, type Database } from '../../src/db/client.js';
import { makeCompany } from '../support/factories.js';
import { startTestServer } from '../support/http.js';
import { withDatabaseName } from '../support/pg-names.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const shipped = (JSON.parse(readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;

/** Every file under dir (relative path → content). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, full)] = readFileSync(full, 'utf8');
  }
  return out;
}

/** A database with nothing in it, not even the template's migrations: PGlite in memory, or a new PostgreSQL database. */
async function emptyDatabase(): Promise<{ database: Database; url?: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    const database = await openDatabase({});
    return { database, drop: () => database.close() };
  }
  const name = `sekisho_fresh_${randomBytes(6).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = withDatabaseName(base, name);
  const database = await openDatabase({ databaseUrl: url, poolSize: 2 });
  return {
    database,
    url,
    async drop() {
      await database.close();
      const dropper = postgres(base, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

/** What the migrations built: tables, constraints (with definitions), indexes, triggers, and the bookkeeping. */
async function schemaFingerprint(database: Database) {
  const q = <T>(query: ReturnType<typeof sql>) => queryRows<T>(database.db, query);
  return {
    tables: await q(sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`),
    constraints: await q(sql`select conrelid::regclass::text as tbl, conname, pg_get_constraintdef(oid) as def
                             from pg_constraint where connamespace = 'public'::regnamespace order by 1, 2`),
    indexes: await q(sql`select indexname, indexdef from pg_indexes where schemaname = 'public' order by 1`),
    triggers: await q(sql`select tgrelid::regclass::text as tbl, tgname, tgenabled from pg_trigger where not tgisinternal order by 1, 2`),
    migrations: await q(sql`select hash, created_at::text as created_at from drizzle.__drizzle_migrations order by id`),
  };
}

describe('database migrations', () => {
  it('a fresh database migrates with no drift: drizzle-kit finds nothing in the schema that the committed migrations lack', async () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'sekisho-drift-'));
    try {
      cpSync(migrationsFolder, scratch, { recursive: true });
      const before = tree(scratch);
      // drizzle-kit prefixes "./" to the snapshot paths it reads, so the folder must be relative to the project.
      const out = path.relative(projectRoot, scratch);
      const run = await new Promise<{ code: number; output: string }>((resolve) => {
        execFile('npx', ['drizzle-kit', 'generate'], { cwd: projectRoot, env: { ...process.env, DRIZZLE_OUT: out } }, (err, stdout, stderr) =>
          resolve({ code: err ? Number(err.code ?? -1) : 0, output: stdout + stderr }),
        );
      });
      // drizzle-kit can exit 0 after an error, so the message is what proves it compared anything
      expect(run.code, run.output).toBe(0);
      expect(run.output).toContain('No schema changes');
      expect(tree(scratch)).toEqual(before);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  describe('on a new, empty database', () => {
    let fresh: Awaited<ReturnType<typeof emptyDatabase>>;
    beforeAll(async () => {
      fresh = await emptyDatabase();
    });
    afterAll(() => fresh.drop());

    it('migrating it a second time is a no-op: same schema, same bookkeeping, data untouched', async () => {
      const { database, url } = fresh;
      await applyMigrations(database, url);
      const once = await schemaFingerprint(database);
      expect(once.migrations).toHaveLength(shipped);
      expect(once.constraints.map((c) => (c as { conname: string }).conname)).toContain('affiliations__person_id_valid_period_excl');
      expect(once.triggers).toContainEqual({ tbl: 'audit_records', tgname: 'audit_records__append_only_trg', tgenabled: 'O' });

      await makeCompany(database.db, 'nw', 'wheeling');
      await applyMigrations(database, url);

      expect(await schemaFingerprint(database)).toEqual(once);
      expect(await findCompany(database.db, 'nw')).toMatchObject({ code: 'nw', kind: 'wheeling' });
    });

    it('/readyz reports ok once every shipped migration is applied, and unavailable while one is missing', async () => {
      const { database, url } = fresh;
      await applyMigrations(database, url);
      const server = await startTestServer(database, { now: new Date('2026-04-01T00:00:00Z') });
      const readyz = async () => {
        const res = await fetch(`${server.url}/readyz`);
        return { status: res.status, body: (await res.json()) as unknown };
      };
      try {
        expect(await readyz()).toEqual({ status: 200, body: { status: 'ok' } });

        // as seen by a replica whose build ships a migration the database does not have yet
        const [last] = await queryRows<{ id: number; hash: string; created_at: string }>(
          database.db,
          sql`delete from drizzle.__drizzle_migrations
              where id = (select max(id) from drizzle.__drizzle_migrations) returning id, hash, created_at::text as created_at`,
        );
        try {
          expect(await readyz()).toEqual({ status: 503, body: { status: 'unavailable', detail: 'migrations pending' } });
        } finally {
          await database.db.execute(
            sql`insert into drizzle.__drizzle_migrations (id, hash, created_at) values (${last!.id}, ${last!.hash}, ${last!.created_at}::bigint)`,
          );
        }
        expect(await readyz()).toEqual({ status: 200, body: { status: 'ok' } });
      } finally {
        await server.close();
      }
    });
  });
});
