import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { applyMigrations, openDatabase } from '../../src/db/client.js';
import { TEMPLATE_ENV, withDatabaseName } from './pg-names.js';

/**
 * On PostgreSQL (DATABASE_URL set) the migrations are applied once to a template database;
 * each test file then gets its own copy (CREATE DATABASE … TEMPLATE), which takes milliseconds.
 */
export default async function setup(): Promise<void | (() => Promise<void>)> {
  const url = process.env.DATABASE_URL;
  if (!url) return;
  const template = `sekisho_tpl_${randomBytes(5).toString('hex')}`;
  process.env[TEMPLATE_ENV] = template; // forked workers inherit it
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${template}`);
  const templateUrl = withDatabaseName(url, template);
  const database = await openDatabase({ databaseUrl: templateUrl, poolSize: 1 });
  await applyMigrations(database, templateUrl);
  await database.close();
  await admin.end();
  return async () => {
    const cleanup = postgres(url, { max: 1, onnotice: () => {} });
    await cleanup.unsafe(`drop database if exists ${template} with (force)`);
    await cleanup.end();
  };
}
