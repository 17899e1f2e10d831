import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { at } from '../support/factories.js';
import type { TestDatabase } from '../support/db.js';
import type { TestServer } from '../support/http.js';
import { signInThroughDevIdp, startConsoleServer } from './support.js';

const NOW = at('2026-06-01T09:00:00+09:00');

describe('console sign-in through the development OpenID Provider', () => {
  let database: TestDatabase;
  let server: TestServer;
  beforeAll(async () => ({ database, server } = await startConsoleServer(NOW)));
  afterAll(async () => {
    await server?.close();
    await database?.close();
  });

  it('an emergency officer signs in with the authorization code flow and lands on the dashboard', async () => {
    const b = await signInThroughDevIdp(server, 'E1002');
    const dash = await b.get('/console');
    expect(dash.status).toBe(200);
    expect(dash.text).toContain('E1002');
    expect(dash.text).toContain('ダッシュボード');
  });
});
