import type { Router } from 'express';
import type { AppDeps } from '../http/deps.js';
import { mountRoute, type RouteTable } from '../http/route.js';
import { decide, type DecisionRequest } from './decide.js';
import { toLogRow } from './decision-log.js';
import { decisionBatchOut, decisionBatchRequest, decisionOut, decisionRequest } from './decision-schemas.js';

export function mountDecisionRoutes(router: Router, table: RouteTable, deps: AppDeps): void {
  /**
   * Decides against policy synced at request time (every commit before the request is seen),
   * logs every decision durably (group commit) and only then answers.
   */
  const decideAll = async (requests: DecisionRequest[], now: Date, caller: string) => {
    await deps.policy.sync();
    const snapshot = deps.policy.current();
    const t = now.getTime();
    const rows = [];
    const out = [];
    for (const req of requests) {
      const d = decide(snapshot, req, t);
      const decisionId = deps.decisions.newId();
      rows.push(toLogRow(decisionId, now, caller, req, d));
      out.push({ decision: d.decision, fields: d.fields, reasons: d.reasons, decisionId });
    }
    await deps.decisions.record(rows);
    deps.metrics.decisions.inc({ decision: 'permit' }, out.filter((o) => o.decision === 'permit').length);
    deps.metrics.decisions.inc({ decision: 'deny' }, out.filter((o) => o.decision === 'deny').length);
    return out;
  };

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/decisions',
    tag: 'decisions',
    summary: 'Decide field by field what this person, on this terminal, may see of this record',
    auth: 'decide',
    body: decisionRequest,
    responses: { 200: { description: 'The decision', schema: decisionOut } },
    handler: async ({ body, now, actor }) => ({ status: 200, body: (await decideAll([body], now, actor))[0] }),
  });

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/decisions:batch',
    tag: 'decisions',
    summary: 'Up to 10,000 decisions in one call, answered in order',
    auth: 'decide',
    body: decisionBatchRequest,
    bodyLimit: '16mb',
    responses: { 200: { description: 'The decisions, in request order', schema: decisionBatchOut } },
    handler: async ({ body, now, actor }) => ({ status: 200, body: { items: await decideAll(body.items, now, actor) } }),
  });
}
