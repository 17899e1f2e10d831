import type { Router } from 'express';
import { common } from '../errors.js';
import type { AppDeps } from '../http/deps.js';
import { validationError } from '../http/problem.js';
import { mountRoute, type RouteTable } from '../http/route.js';
import { hrProblems } from './errors.js';
import { receiveHrEvent } from './intake.js';
import { hrEventAccepted, hrEventBody } from './schemas.js';
import { verifyWebhook } from './signature.js';

export function mountHrRoutes(router: Router, table: RouteTable, deps: AppDeps): void {
  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/hr/events',
    tag: 'hr',
    summary: 'Receive a signed HR event (Standard Webhooks): hired, transferred, left',
    auth: 'public',
    rawBody: { limit: '64kb' },
    body: hrEventBody as never,
    responses: {
      202: { description: 'Accepted: applied now or scheduled for its effective instant', schema: hrEventAccepted },
      200: { description: 'Already accepted under this webhook-id; nothing applied twice', schema: hrEventAccepted },
    },
    handler: async ({ req, body, now }) => {
      if (!deps.hrWebhookKey) throw hrProblems.notConfigured('set SEKISHO_HR_WEBHOOK_SECRET');
      const raw = body as unknown as Buffer;
      const { webhookId } = verifyWebhook(
        deps.hrWebhookKey,
        { id: req.get('webhook-id'), timestamp: req.get('webhook-timestamp'), signature: req.get('webhook-signature') },
        Buffer.isBuffer(raw) ? raw : Buffer.alloc(0),
        now,
      );
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        throw common.validation('the body is not valid JSON');
      }
      const parsed = hrEventBody.safeParse(json);
      if (!parsed.success) throw validationError(parsed.error, 'HR event');
      const receipt = await receiveHrEvent({ db: deps.db, now, webhookId, event: parsed.data });
      deps.metrics.hrEvents.inc({ type: parsed.data.type, outcome: receipt.duplicate ? 'duplicate' : receipt.status });
      return { status: receipt.duplicate ? 200 : 202, body: { eventId: receipt.eventId, status: receipt.status } };
    },
  });
}
