import type { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../http/deps.js';
import { instantOut } from '../http/zod-types.js';
import { mountRoute, type RouteTable } from '../http/route.js';
import { listAudit, verifyAudit } from './chain.js';

const auditOut = z.object({
  items: z.array(
    z.object({
      seq: z.number(),
      at: instantOut,
      actor: z.string(),
      action: z.string(),
      subjectType: z.string(),
      subjectId: z.string(),
      data: z.record(z.string(), z.unknown()),
      prevHash: z.string(),
      hash: z.string(),
    }),
  ),
  nextAfterSeq: z.number().nullable(),
});

export function mountAuditRoutes(router: Router, table: RouteTable, deps: AppDeps): void {
  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/audit',
    tag: 'audit',
    summary: 'Audit records in chain order',
    auth: 'audit',
    query: z.strictObject({
      afterSeq: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
    responses: { 200: { description: 'A page of the chain', schema: auditOut } },
    handler: async ({ query }) => {
      const items = await listAudit(deps.db, query.afterSeq, query.limit);
      return { status: 200, body: { items, nextAfterSeq: items.length === query.limit ? items.at(-1)!.seq : null } };
    },
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/audit/verify',
    tag: 'audit',
    summary: 'Verify the hash chain; names the first bad record',
    auth: 'audit',
    responses: {
      200: {
        description: 'Verification result',
        schema: z.object({ ok: z.boolean(), checked: z.number(), firstBadSeq: z.number().optional() }),
      },
    },
    handler: async () => ({ status: 200, body: await verifyAudit(deps.db) }),
  });
}
