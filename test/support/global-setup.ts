import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { applyMigrations, openDatabase } from '../../src/db/client.js';
import { PGLITE_SNAPSHOT_ENV, TEMPLATE_ENV, withDatabaseName } from './pg-names.js';

/**
 * Migrations run once per test run; each test file then starts from a copy: on PostgreSQL a
 * template database (CREATE DATABASE … TEMPLATE), on PGlite a dumped data folder (skipping
 * initdb, which costs seconds per file). Forked workers inherit the names through the environment.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const url = process.env.DATABASE_URL;
  const suffix = randomBytes(5).toString('hex');
  if (!url) {
    const database = await openDatabase({});
    await applyMigrations(database);
    const client = (database.db as unknown as { $client: PGlite }).$client;
    const file = path.join(tmpdir(), `sekisho-pglite-${suffix}.tar`);
    await writeFile(file, Buffer.from(await (await client.dumpDataDir('none')).arrayBuffer()));
    await database.close();
    process.env[PGLITE_SNAPSHOT_ENV] = file;
    return () => rm(file, { force: true });
  }
  const template = `sekisho_tpl_${suffix}`;
  process.env[TEMPLATE_ENV] = template;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${template}`);
  await admin.end();
  const templateUrl = withDatabaseName(url, template);
  const database = await openDatabase({ databaseUrl: templateUrl, poolSize: 1 });
  await applyMigrations(database, templateUrl);
  await database.close();
  return async () => {
    const cleanup = postgres(url, { max: 1, onnotice: () => {} });
    await cleanup.unsafe(`drop database if exists ${template} with (force)`);
    await cleanup.end();
  };
}
