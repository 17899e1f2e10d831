import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import postgres from 'postgres';
import { applyMigrations, openDatabase, type Database } from '../../src/db/client.js';
import { PGLITE_SNAPSHOT_ENV, TEMPLATE_ENV, withDatabaseName } from './pg-names.js';

export const onPostgres = Boolean(process.env.DATABASE_URL);

export interface TestDatabase extends Database {
  /** Connection string of this test's own database (PostgreSQL only), for a second process or pool. */
  url?: string;
}

/**
 * A fresh, migrated database for one test file: embedded PGlite in memory by default, or a
 * private copy of the migrated template on PostgreSQL when DATABASE_URL is set.
 */
export async function createTestDatabase(opts: { poolSize?: number } = {}): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    const snapshot = process.env[PGLITE_SNAPSHOT_ENV];
    if (snapshot) return openDatabase({ pgliteSnapshot: new Blob([await readFile(snapshot)]) });
    const database = await openDatabase({});
    await applyMigrations(database);
    return database;
  }
  const name = `sekisho_t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template ${process.env[TEMPLATE_ENV]}`);
  await admin.end();
  const url = withDatabaseName(base, name);
  const database = await openDatabase({ databaseUrl: url, poolSize: opts.poolSize ?? 10 });
  return {
    ...database,
    url,
    async close() {
      await database.close();
      const dropper = postgres(base, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}
