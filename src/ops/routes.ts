import type { Router } from 'express';
import { z } from 'zod';
import { migrationsApplied } from '../db/migrations-status.js';
import type { AppDeps } from '../http/deps.js';
import { buildOpenApi } from '../http/openapi.js';
import { mountRoute, type RouteTable } from '../http/route.js';

const status = z.object({ status: z.enum(['ok', 'unavailable']), detail: z.string().optional() });

export function mountOpsRoutes(router: Router, table: RouteTable, deps: AppDeps, version: string): void {
  mountRoute(router, table, deps, {
    method: 'get',
    path: '/healthz',
    tag: 'operations',
    summary: 'The process is up',
    auth: 'public',
    responses: { 200: { description: 'Up', schema: status } },
    handler: async () => ({ status: 200, body: { status: 'ok' } }),
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/readyz',
    tag: 'operations',
    summary: 'The database is reachable and every migration is applied',
    auth: 'public',
    responses: { 200: { description: 'Ready', schema: status }, 503: { description: 'Not ready', schema: status } },
    handler: async () => {
      try {
        if (await migrationsApplied(deps.db)) return { status: 200, body: { status: 'ok' } };
        return { status: 503, body: { status: 'unavailable', detail: 'migrations pending' } };
      } catch (err) {
        deps.logger.warn({ err }, 'readiness check failed');
        return { status: 503, body: { status: 'unavailable', detail: 'database unreachable' } };
      }
    },
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/metrics',
    tag: 'operations',
    summary: 'Prometheus metrics',
    auth: 'public',
    responses: { 200: { description: 'Prometheus text format' } },
    handler: async () => ({
      status: 200,
      raw: { contentType: deps.metrics.registry.contentType, text: await deps.metrics.registry.metrics() },
    }),
  });

  let cached: unknown;
  mountRoute(router, table, deps, {
    method: 'get',
    path: '/openapi.json',
    tag: 'operations',
    summary: 'This API as OpenAPI 3.1',
    auth: 'public',
    responses: { 200: { description: 'OpenAPI document' } },
    handler: async () => ({ status: 200, body: (cached ??= buildOpenApi(table, version)) }),
  });
}
