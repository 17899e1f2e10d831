import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { common } from '../errors.js';
import type { AppDeps } from '../http/deps.js';
import { validationError } from '../http/problem.js';
import { mountRoute, type RouteTable } from '../http/route.js';
import { orgId } from '../http/zod-types.js';
import { detectionProblems } from './errors.js';
import { setFindingStatus } from './findings.js';
import { ingestAccessLog, validateAccessLogBody, type BodyFormat } from './intake.js';
import { exposureReport, nonpublicAccessCsv, nonpublicAccessReport } from './reports.js';
import { findings } from './schema.js';
import {
  accessEventIn,
  accessLogAccepted,
  exposureOut,
  exposureQuery,
  FINDING_STATUSES,
  findingOut,
  findingStatusBody,
  idempotencyKey,
  MAX_EVENTS_PER_REQUEST,
  nonpublicReportOut,
  nonpublicReportQuery,
} from './schemas.js';

const findingsQuery = z.strictObject({
  status: z.enum(FINDING_STATUSES).optional(),
  personId: orgId.optional(),
  rule: z.string().regex(/^[a-z0-9-]{1,64}$/, 'a rule code such as terminal-company-mismatch').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const idParams = z.strictObject({ id: z.uuid() });

/** Findings, most recently seen first. */
export async function listFindings(db: Db, filter: Omit<z.infer<typeof findingsQuery>, 'limit'>, limit: number) {
  const where: SQL[] = [];
  if (filter.status) where.push(eq(findings.status, filter.status));
  if (filter.personId) where.push(eq(findings.personId, filter.personId));
  if (filter.rule) where.push(eq(findings.rule, filter.rule));
  return db
    .select()
    .from(findings)
    .where(and(...where))
    .orderBy(desc(findings.lastSeen), desc(findings.id))
    .limit(limit);
}

const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'];
const JSON_TYPES = ['application/json'];

/** The body's format from its media type; only UTF-8. */
function bodyFormat(contentType: string | undefined): BodyFormat {
  const [type = '', ...params] = (contentType ?? '').split(';').map((s) => s.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replaceAll('"', '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') throw common.unsupportedMedia('the body must be UTF-8');
  if (JSON_TYPES.includes(type)) return 'json';
  if (NDJSON_TYPES.includes(type)) return 'ndjson';
  throw common.unsupportedMedia('send a JSON array as application/json, or one event per line as application/x-ndjson');
}

export function mountDetectionRoutes(router: Router, table: RouteTable, deps: AppDeps): void {
  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/access-logs',
    tag: 'detection',
    summary:
      `Access events from a connected system: a JSON array, or NDJSON (application/x-ndjson), up to ${MAX_EVENTS_PER_REQUEST} per request. ` +
      'Accepted (202) only once stored; one invalid event refuses the whole request, naming it. ' +
      'Idempotency-Key header (optional): the batch id; the same key again answers the same and stores nothing twice',
    auth: 'logs',
    // 100,000 events of a few hundred bytes each; gzip/deflate request bodies are inflated.
    rawBody: { limit: '128mb' },
    body: z.array(accessEventIn) as never,
    responses: {
      202: { description: 'Stored: the events, resolved as of their instants, and the batch', schema: accessLogAccepted },
    },
    handler: async ({ req, body, now, actor }) => {
      const format = bodyFormat(req.get('content-type'));
      const keyHeader = req.get('idempotency-key');
      let key: string | undefined;
      if (keyHeader !== undefined) {
        const parsed = idempotencyKey.safeParse(keyHeader);
        if (!parsed.success) throw validationError(parsed.error, 'the Idempotency-Key header', '/headers/idempotency-key');
        key = parsed.data;
      }
      const raw = body as unknown as Buffer;
      const batch = validateAccessLogBody({ raw: Buffer.isBuffer(raw) ? raw : Buffer.alloc(0), format, now });
      const result = await ingestAccessLog({ db: deps.db, now, actor, batch, idempotencyKey: key });
      return {
        status: 202,
        body: { accepted: result.accepted, batchId: result.batchId },
        headers: result.replayed ? { 'idempotent-replayed': 'true' } : ({} as Record<string, string>),
      };
    },
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/findings',
    tag: 'detection',
    summary: 'Findings: rule breaches deduplicated per subject, with counts and first/last seen',
    auth: 'audit',
    query: findingsQuery,
    responses: { 200: { description: 'Findings', schema: z.object({ items: z.array(findingOut) }) } },
    handler: async ({ query }) => {
      const { limit, ...filter } = query;
      return { status: 200, body: { items: await listFindings(deps.db, filter, limit) } };
    },
  });

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/findings/{id}/status',
    tag: 'detection',
    summary: 'Acknowledge or resolve a finding, saying why; who and when are recorded. Resolved is final',
    auth: 'audit',
    params: idParams,
    body: findingStatusBody,
    responses: { 200: { description: 'The finding with its new status', schema: findingOut } },
    handler: async ({ params, body, now, actor }) => {
      const row = await setFindingStatus({ db: deps.db, now, actor, id: params.id, status: body.status, note: body.note });
      if (row === undefined) throw detectionProblems.findingNotFound(`finding '${params.id}' does not exist`);
      if (row === 'conflict') throw detectionProblems.findingTransition(`finding '${params.id}' cannot become ${body.status} from its present status`);
      return { status: 200, body: row };
    },
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/reports/nonpublic-access',
    tag: 'detection',
    summary:
      'Who outside the wheeling company saw non-public information in [from, to): viewers by company and site, customers, records, retailers concerned, first/last access (format=csv: the viewers)',
    auth: 'audit',
    query: nonpublicReportQuery,
    responses: { 200: { description: 'The report', schema: nonpublicReportOut } },
    handler: async ({ query }) => {
      const report = await nonpublicAccessReport({ db: deps.db, from: query.from, to: query.to, system: query.system });
      if (query.format === 'csv') {
        const name = `nonpublic-access-${query.from.toISOString().slice(0, 10)}-${query.to.toISOString().slice(0, 10)}.csv`;
        return { status: 200, raw: { contentType: 'text/csv; charset=utf-8', text: nonpublicAccessCsv(report) }, headers: { 'content-disposition': `attachment; filename="${name}"` } };
      }
      return { status: 200, body: report };
    },
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/reports/exposure',
    tag: 'detection',
    summary:
      "Who outside the wheeling company could have seen a customer's (or a system's) non-public fields in [from, to) — by grants, emergencies and terminals, from the history — and who actually did",
    auth: 'audit',
    query: exposureQuery,
    responses: { 200: { description: 'The exposure', schema: exposureOut } },
    handler: async ({ query }) => ({ status: 200, body: await exposureReport({ db: deps.db, ...query }) }),
  });
}
