/**
 * What every benchmark shares: knobs from the environment, a scratch PostgreSQL database,
 * bounded concurrency, percentiles and the real service on a loopback port.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { loadConfig } from '../../src/config.js';
import { Keyring } from '../../src/credentials/encryption.js';
import { applyMigrations, openDatabase, type Database } from '../../src/db/client.js';
import { createLogger } from '../../src/logger.js';
import { startService, type Service } from '../../src/service.js';

export const intEnv = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return n;
};

/** Progress goes to stderr; stdout carries only the one JSON line of results. */
export const logger = (bench: string) => (msg: string) => console.error(`[bench:${bench}] ${msg}`);
export const seconds = (ms: number) => Math.round(ms) / 1000;
export const round2 = (x: number) => Math.round(x * 100) / 100;

/** Runs task(i) for i in [0, count) with at most `limit` in flight; rejects on the first failure. */
export async function pool(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const BENCH_DATABASE_URL = process.env.DATABASE_URL || 'postgres://root@127.0.0.1:5432/test';

/**
 * Runs `body` against a freshly migrated scratch database sekisho_bench_<random> on the
 * PostgreSQL server of DATABASE_URL, and drops it afterwards — also on failure, interrupt or
 * when `timeLimitSeconds` runs out (then the process exits 1).
 */
export async function withScratchDatabase<T>(
  bench: string,
  opts: { poolSize: number; timeLimitSeconds: number },
  body: (database: Database, url: string) => Promise<T>,
): Promise<T> {
  const log = logger(bench);
  const name = `sekisho_bench_${randomBytes(4).toString('hex')}`;
  const url = new URL(BENCH_DATABASE_URL);
  url.pathname = `/${name}`;
  const admin = postgres(BENCH_DATABASE_URL, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  let database: Database | undefined;
  let created = false;

  const cleanup = async () => {
    await database?.close().catch(() => {});
    database = undefined;
    if (created) {
      created = false;
      await admin.unsafe(`drop database if exists ${name} with (force)`).catch((err: unknown) => log(`could not drop ${name}: ${String(err)}`));
    }
    await admin.end({ timeout: 5 }).catch(() => {});
  };
  const abort = (why: string) => {
    log(why);
    void cleanup().finally(() => process.exit(1));
  };
  const timer = setTimeout(() => abort(`time limit of ${opts.timeLimitSeconds}s reached, giving up`), opts.timeLimitSeconds * 1000);
  process.once('SIGINT', () => abort('interrupted'));
  process.once('SIGTERM', () => abort('terminated'));
  try {
    try {
      await admin.unsafe(`create database ${name}`);
    } catch (err) {
      throw new Error(`cannot create a scratch database on ${url.host} (set DATABASE_URL to a PostgreSQL server whose user may create databases): ${String(err)}`);
    }
    created = true;
    log(`scratch database ${name} on ${url.host}`);
    database = await openDatabase({ databaseUrl: url.toString(), poolSize: opts.poolSize });
    await applyMigrations(database, url.toString());
    return await body(database, url.toString());
  } finally {
    clearTimeout(timer);
    await cleanup();
  }
}

export interface BenchServer {
  url: string;
  service: Service;
  close(): Promise<void>;
}

/** The real service (no scheduler) on an ephemeral loopback port. */
export async function startBenchServer(
  database: Database,
  opts: { clock?: () => Date; hrWebhookKey?: Buffer; keyring?: Keyring } = {},
): Promise<BenchServer> {
  const service = await startService({
    database,
    config: loadConfig({ LOG_LEVEL: 'silent', SEKISHO_SCHEDULER: 'off' }),
    logger: createLogger('silent'),
    clock: opts.clock ?? (() => new Date()),
    hrWebhookKey: opts.hrWebhookKey,
    keyring: opts.keyring ?? new Keyring([{ id: 'bench', key: randomBytes(32) }]),
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = service.app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    service,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await service.close();
    },
  };
}
