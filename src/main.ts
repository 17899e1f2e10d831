import { once } from 'node:events';
import { loadConfig } from './config.js';
import { ensureBootstrapToken } from './credentials/api-tokens.js';
import { Keyring } from './credentials/encryption.js';
import { applyMigrations, openDatabase } from './db/client.js';
import { loadOrCreateDemoCredentials, seedDemo } from './demo/seed.js';
import { secretKey } from './hr/signature.js';
import { createLogger } from './logger.js';
import { startScheduler } from './scheduler.js';
import { startService } from './service.js';

const config = loadConfig();
const logger = createLogger(config.logLevel);
const clock = () => new Date();

const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
await applyMigrations(database, config.databaseUrl);

let hrSecret = config.hrWebhookSecret;
let encryptionKeys = config.encryptionKeys;
if (config.seed === 'demo') {
  const creds = loadOrCreateDemoCredentials(config.dataDir);
  hrSecret ??= creds.hrWebhookSecret;
  encryptionKeys ??= creds.encryptionKeys;
  const seeded = await seedDemo(database.db, clock(), creds);
  // Demo secrets go to the terminal for the person trying Sekisho out, never to the log stream.
  console.log(
    [
      '',
      `Sekisho demo organisation ${seeded ? 'seeded' : 'already present'} (development only).`,
      `  admin token (all scopes): ${creds.adminToken}`,
      `  HR webhook secret:        ${hrSecret}`,
      `  both are in ${config.dataDir}/demo-credentials.json; see README "Walkthrough".`,
      ...(config.console.devIdp ? [`  console:                  ${config.publicUrl}/ (sign in through the development-only IdP; README "Console")`] : []),
      '',
    ].join('\n'),
  );
}
if (config.bootstrapToken) await ensureBootstrapToken(database.db, clock(), config.bootstrapToken);

const keyring = encryptionKeys ? Keyring.parse(encryptionKeys) : undefined;
const service = await startService({ database, config, logger, clock, hrWebhookKey: hrSecret ? secretKey(hrSecret) : undefined, keyring });
const server = service.app.listen(config.port);
await once(server, 'listening');
const scheduler = config.schedulerEnabled ? await startScheduler(database.db, logger, clock, { keyring, publicUrl: config.publicUrl, metrics: service.metrics, detection: config.detection }) : undefined;
logger.info({ url: config.publicUrl, database: database.kind }, `Sekisho ready on ${config.publicUrl}`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  await scheduler?.stop();
  server.close();
  server.closeAllConnections();
  await service.close();
  await database.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
