/**
 * A second Sekisho process for multi-process tests: the real app (policy cache, decision log,
 * every route) on a loopback port, against the PostgreSQL database named on the command line.
 *
 *   node --import tsx test/support/decision-server.ts <databaseUrl> [<clock instant, RFC 3339>]
 *
 * Without an instant the process uses the real clock. Prints one JSON line on stdout when it
 * listens: {"ready":true,"port":<port>,"pid":<pid>}. It exits on SIGTERM/SIGINT and when its
 * stdin closes, so it never outlives the test process that spawned it.
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/client.js';
import { createLogger } from '../../src/logger.js';
import { startService } from '../../src/service.js';

const [databaseUrl, instant] = process.argv.slice(2);
if (!databaseUrl || !/^postgres(ql)?:\/\//.test(databaseUrl)) {
  console.error('usage: decision-server.ts <postgres://…> [<instant>]');
  process.exit(2);
}
const pinned = instant ? new Date(instant) : undefined;
if (pinned && Number.isNaN(pinned.getTime())) {
  console.error(`not an instant: ${instant}`);
  process.exit(2);
}

const database = await openDatabase({ databaseUrl, poolSize: 4 });
const logger = createLogger('warn');
const server: Server = await new Promise((resolve, reject) => {
  const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
  s.once('error', reject);
});
const port = (server.address() as AddressInfo).port;
const service = await startService({
  database,
  config: loadConfig({ LOG_LEVEL: 'warn', SEKISHO_PUBLIC_URL: `http://localhost:${port}`, SEKISHO_SCHEDULER: 'off' }),
  logger,
  clock: pinned ? () => pinned : () => new Date(),
});
server.on('request', service.app);

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await service.close().catch(() => {});
  await database.close().catch(() => {});
  process.exit(code);
}
process.once('SIGTERM', () => void stop(0));
process.once('SIGINT', () => void stop(0));
// The parent holds our stdin: when it goes away (even killed outright), so do we.
process.stdin.on('end', () => void stop(0));
process.stdin.on('error', () => void stop(0));
process.stdin.resume();

process.stdout.write(`${JSON.stringify({ ready: true, port, pid: process.pid })}\n`);
