import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import type { AppDeps } from '../http/deps.js';
import { mountRoute, type RouteTable } from '../http/route.js';
import { instantOut, orgId } from '../http/zod-types.js';
import { findings } from './schema.js';

const STATUSES = ['open', 'acknowledged', 'resolved'] as const;

const findingsQuery = z.strictObject({
  status: z.enum(STATUSES).optional(),
  personId: orgId.optional(),
  rule: z.string().regex(/^[a-z0-9-]{1,64}$/, 'a rule code such as terminal-company-mismatch').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const findingOut = z.object({
  id: z.string(),
  rule: z.string(),
  severity: z.string(),
  personId: z.string().nullable(),
  terminalId: z.string().nullable(),
  firstSeen: instantOut,
  lastSeen: instantOut,
  count: z.number(),
  status: z.enum(STATUSES),
  details: z.record(z.string(), z.unknown()),
});

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

export function mountDetectionRoutes(router: Router, table: RouteTable, deps: AppDeps): void {
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
}
