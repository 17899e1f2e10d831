import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { createApiToken } from '../../src/credentials/api-tokens.js';
import type { Scope } from '../../src/credentials/schema.js';
import { SCOPES } from '../../src/credentials/schema.js';
import { loadConfig } from '../../src/config.js';
import { Keyring } from '../../src/credentials/encryption.js';
import type { Database } from '../../src/db/client.js';
import { secretKey } from '../../src/hr/signature.js';
import { createLogger } from '../../src/logger.js';
import { startService } from '../../src/service.js';

export const TEST_HR_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const testKeyring = new Keyring([{ id: 'test', key: Buffer.alloc(32, 7) }]);

export interface TestServer {
  url: string;
  /** The same server as the app's configured public URL (http://localhost:port): the WebAuthn origin. */
  publicUrl: string;
  /** Pins or moves the server's clock. */
  setNow(d: Date): void;
  /** A fresh API token with exactly these scopes. */
  token(...scopes: Scope[]): Promise<string>;
  adminToken: string;
  close(): Promise<void>;
}

/**
 * The real app on an ephemeral loopback port, with a clock the test controls; `env` adds
 * configuration (console roles, SEKISHO_DEV_IDP, …) on top of the test defaults.
 */
export async function startTestServer(database: Database, opts: { now: Date; hrSecret?: string; env?: Record<string, string> }): Promise<TestServer> {
  let now = opts.now;
  // Listen first, so the app's public URL (the WebAuthn origin) is the real one, on `localhost`.
  const server: Server = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  const publicUrl = `http://localhost:${port}`;
  const logger = createLogger('silent');
  const service = await startService({
    database,
    config: loadConfig({ LOG_LEVEL: 'silent', SEKISHO_PUBLIC_URL: publicUrl, ...opts.env }),
    logger,
    clock: () => now,
    hrWebhookKey: secretKey(opts.hrSecret ?? TEST_HR_SECRET),
    keyring: testKeyring,
  });
  server.on('request', service.app);
  const url = `http://127.0.0.1:${port}`;
  const token = async (...scopes: Scope[]) =>
    (await createApiToken({ db: database.db, now, actor: 'test', name: `test-${scopes.join('-') || 'none'}`, scopes })).value;
  return {
    url,
    publicUrl,
    setNow: (d) => void (now = d),
    token,
    adminToken: await token(...SCOPES),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await service.close();
    },
  };
}
