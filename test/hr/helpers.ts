import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { expect } from 'vitest';
import { auditRecords } from '../../src/audit/schema.js';
import type { Db } from '../../src/db/client.js';
import { hrEvents } from '../../src/hr/schema.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { makeUtilityGroup, T0 } from '../support/factories.js';
import { startTestServer, TEST_HR_SECRET, type TestServer } from '../support/http.js';

export interface HrFixture {
  database: TestDatabase;
  db: Db;
  server: TestServer;
  close(): Promise<void>;
}

/** A fresh database with the usual companies (nw, ep, shinden-a, nw-sys) and the real app, clock pinned at `now`. */
export async function startHrFixture(opts: { now?: Date; poolSize?: number } = {}): Promise<HrFixture> {
  const database = await createTestDatabase({ poolSize: opts.poolSize });
  await makeUtilityGroup(database.db);
  const server = await startTestServer(database, { now: opts.now ?? T0 });
  return {
    database,
    db: database.db,
    server,
    async close() {
      await server.close();
      await database.close();
    },
  };
}

export type HrEventJson = Record<string, unknown>;

export const hiredEvent = (personId: string, company: string, effectiveAt: string, extra: HrEventJson = {}): HrEventJson => ({
  type: 'person.hired',
  personId,
  name: `Person ${personId}`,
  company,
  effectiveAt,
  ...extra,
});

export const transferredEvent = (personId: string, company: string, effectiveAt: string, extra: HrEventJson = {}): HrEventJson => ({
  type: 'person.transferred',
  personId,
  company,
  effectiveAt,
  ...extra,
});

export const leftEvent = (personId: string, effectiveAt: string): HrEventJson => ({ type: 'person.left', personId, effectiveAt });

export type WebhookHeaders = Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>;

/** Headers as a Standard Webhooks sender (the `standardwebhooks` package) produces them. */
export function signWithStandardWebhooks(body: string, opts: { at: Date; id?: string; secret?: string }): WebhookHeaders {
  const id = opts.id ?? `msg_${randomUUID()}`;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(opts.at.getTime() / 1000)),
    'webhook-signature': new Webhook(opts.secret ?? TEST_HR_SECRET).sign(id, opts.at, body),
  };
}

/** POST /v1/hr/events with exactly these headers and bytes. */
export function sendRaw(baseUrl: string, body: string, headers: Partial<WebhookHeaders> & Record<string, string>): Promise<Response> {
  return fetch(`${baseUrl}/v1/hr/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

/** Signs the event with the `standardwebhooks` package at instant `at` and posts it. */
export async function deliver(
  baseUrl: string,
  event: unknown,
  opts: { at: Date; id?: string; secret?: string },
): Promise<{ res: Response; id: string; body: string }> {
  const body = JSON.stringify(event);
  const headers = signWithStandardWebhooks(body, opts);
  return { res: await sendRaw(baseUrl, body, headers), id: headers['webhook-id'], body };
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  errors?: { path: string; message: string }[];
}

/** Asserts an RFC 9457 problem with this status and returns it. */
export async function expectProblem(res: Response, status: number): Promise<Problem> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json\b/);
  const body = JSON.parse(text) as Problem;
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^(https:\/\/|about:blank)/), title: expect.any(String) });
  expect(body.detail, 'a problem says what is wrong').toEqual(expect.any(String));
  expect(body.detail!.length).toBeGreaterThan(0);
  expect(text, 'never a stack trace').not.toMatch(/\bat .+\.(ts|js):\d+/);
  return body;
}

/** Asserts a 202/200 receipt and returns it. */
export async function expectReceipt(res: Response, status: 200 | 202): Promise<{ eventId: string; status: 'applied' | 'scheduled' }> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status });
  expect(res.headers.get('content-type')).toMatch(/^application\/json\b/);
  const body = JSON.parse(text) as { eventId: string; status: 'applied' | 'scheduled' };
  expect(Object.keys(body).sort()).toEqual(['eventId', 'status']);
  expect(body.eventId).toMatch(/^[0-9a-f-]{36}$/);
  return body;
}

/** GET with the admin token; returns status and parsed JSON. */
export async function adminGet(server: TestServer, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  return { status: res.status, body: await res.json() };
}

export const q = (d: Date | string): string => encodeURIComponent(typeof d === 'string' ? d : d.toISOString());

export async function findEvent(db: Db, eventId: string) {
  const [row] = await db.select().from(hrEvents).where(eq(hrEvents.id, eventId));
  return row;
}

/** `*.effective` audit records written for one HR event. */
export async function effectiveRecords(db: Db, eventId: string) {
  return db
    .select({ action: auditRecords.action, subjectId: auditRecords.subjectId, at: auditRecords.at })
    .from(auditRecords)
    .where(and(sql`${auditRecords.action} like '%.effective'`, sql`${auditRecords.data}->>'eventId' = ${eventId}`));
}
