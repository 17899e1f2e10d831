import { asc, sql } from 'drizzle-orm';
import { queryRows } from '../../src/db/client.js';
import { scanAccessLogs, type DetectionSettings } from '../../src/detection/scan.js';
import { findings } from '../../src/detection/schema.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startTestServer, type TestServer } from '../support/http.js';

/** One access event as a connected system logs it (API.md). */
export interface LoggedEvent {
  at: string;
  system?: string;
  personId?: string;
  loginId?: string;
  terminalId?: string;
  action?: string;
  customerId?: string;
  retailer?: string | null;
  area?: string;
  fields?: string[];
}

/** Fills in what every scenario logs the same way: the takuso system, a view. */
export const logged = (e: LoggedEvent) => ({ system: 'takuso', action: 'view', ...e });

export interface Harness {
  database: TestDatabase;
  server: TestServer;
  logsToken: string;
  auditToken: string;
  /** POST /v1/access-logs: a JSON array by default, NDJSON on request, with an optional Idempotency-Key. */
  post(events: unknown[] | string, opts?: { key?: string; ndjson?: boolean; token?: string; contentType?: string }): Promise<{ status: number; body: any; headers: Headers }>;
  get(path: string, token?: string): Promise<{ status: number; body: any; text: string }>;
  call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
  /** The rules job, as the scheduler runs it, at an instant of the test's choosing. */
  scan(now: Date, detection?: Partial<DetectionSettings>): ReturnType<typeof scanAccessLogs>;
  /** Every finding, as [rule, subjectKey, count], in JavaScript's default sort order (compare with `expected.sort()`). */
  findingList(): Promise<[string, string, number][]>;
  counts(): Promise<{ events: number; batches: number; audit: number; findings: number }>;
  close(): Promise<void>;
}

export async function startHarness(now: Date, setUp: (database: TestDatabase) => Promise<void>): Promise<Harness> {
  const database = await createTestDatabase();
  await setUp(database);
  const server = await startTestServer(database, { now });
  const logsToken = await server.token('logs');
  const auditToken = await server.token('audit');
  const h: Harness = {
    database,
    server,
    logsToken,
    auditToken,
    async post(events, opts = {}) {
      const text = typeof events === 'string' ? events : opts.ndjson ? events.map((e) => JSON.stringify(e)).join('\n') + '\n' : JSON.stringify(events);
      const res = await fetch(`${server.url}/v1/access-logs`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${opts.token ?? logsToken}`,
          'content-type': opts.contentType ?? (opts.ndjson ? 'application/x-ndjson' : 'application/json'),
          ...(opts.key !== undefined ? { 'idempotency-key': opts.key } : {}),
        },
        body: text,
      });
      const body = await res.text();
      return { status: res.status, body: body.startsWith('{') ? JSON.parse(body) : body, headers: res.headers };
    },
    async get(path, token = auditToken) {
      const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      const text = await res.text();
      return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : undefined, text };
    },
    async call(method, path, body, token = auditToken) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
    },
    scan(at, detection = {}) {
      return scanAccessLogs({ db: database.db, now: at, detection: { bulkAccessThreshold: 200, retentionMonths: 60, ...detection } });
    },
    async findingList() {
      const rows = await database.db.select().from(findings).orderBy(asc(findings.rule), asc(findings.subjectKey), asc(findings.firstSeen));
      return rows.map((f): [string, string, number] => [f.rule, f.subjectKey, f.count]).sort();
    },
    async counts() {
      const [row] = await queryRows<{ events: number; batches: number; audit: number; findings: number }>(
        database.db,
        sql`select (select count(*) from access_events)::int as events, (select count(*) from access_log_batches)::int as batches,
              (select count(*) from audit_records)::int as audit, (select count(*) from findings)::int as findings`,
      );
      return row!;
    },
    async close() {
      await server.close();
      await database.close();
    },
  };
  return h;
}

/** /v1/reports/nonpublic-access?from&to as a path. */
export const reportPath = (from: string, to: string, extra = '') =>
  `/v1/reports/nonpublic-access?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}${extra}`;
