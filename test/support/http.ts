import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApiToken } from '../../src/credentials/api-tokens.js';
import type { Scope } from '../../src/credentials/schema.js';
import { SCOPES } from '../../src/credentials/schema.js';
import { loadConfig } from '../../src/config.js';
import { Keyring } from '../../src/credentials/encryption.js';
import type { Database } from '../../src/db/client.js';
import { secretKey } from '../../src/hr/signature.js';
import { createApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/http/metrics.js';
import { createLogger } from '../../src/logger.js';

export const TEST_HR_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const testKeyring = new Keyring([{ id: 'test', key: Buffer.alloc(32, 7) }]);

export interface TestServer {
  url: string;
  /** Pins or moves the server's clock. */
  setNow(d: Date): void;
  /** A fresh API token with exactly these scopes. */
  token(...scopes: Scope[]): Promise<string>;
  adminToken: string;
  close(): Promise<void>;
}

/** The real app on an ephemeral loopback port, with a clock the test controls. */
export async function startTestServer(database: Database, opts: { now: Date; hrSecret?: string }): Promise<TestServer> {
  let now = opts.now;
  const app = createApp({
    db: database.db,
    database,
    config: loadConfig({ LOG_LEVEL: 'silent' }),
    logger: createLogger('silent'),
    metrics: createMetrics(),
    clock: () => now,
    hrWebhookKey: secretKey(opts.hrSecret ?? TEST_HR_SECRET),
    keyring: testKeyring,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const token = async (...scopes: Scope[]) =>
    (await createApiToken({ db: database.db, now, actor: 'test', name: `test-${scopes.join('-') || 'none'}`, scopes })).value;
  return {
    url,
    setNow: (d) => void (now = d),
    token,
    adminToken: await token(...SCOPES),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
