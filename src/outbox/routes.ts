import type { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../http/deps.js';
import { mountRoute, type RouteTable } from '../http/route.js';
import { outboxProblems } from './errors.js';
import { createSubscriberBody, deliveriesOut, idParams, jwksOut, subscriberCreatedOut, subscriberOut } from './schemas.js';
import { listPublicJwks } from './signing-keys.js';
import { getEventDeliveries } from './status.js';
import { createSubscriber, deactivateSubscriber, listSubscribers } from './subscribers.js';

export function mountOutboxRoutes(router: Router, table: RouteTable, deps: AppDeps): void {
  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/subscribers',
    tag: 'outbox',
    summary: 'Register a connected system to receive events (Standard Webhooks, or CAEP Security Event Tokens); the secret is shown once',
    auth: 'admin',
    body: createSubscriberBody,
    responses: { 201: { description: 'Registered', schema: subscriberCreatedOut } },
    handler: async ({ body, now, actor }) => {
      if (!deps.keyring) throw outboxProblems.notConfigured('set SEKISHO_ENCRYPTION_KEYS');
      const { subscriber, secret } = await createSubscriber({ db: deps.db, now, actor, keyring: deps.keyring, ...body });
      return { status: 201, body: { ...subscriber, secret } };
    },
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/subscribers',
    tag: 'outbox',
    summary: 'Registered subscribers (never their secrets)',
    auth: 'admin',
    responses: { 200: { description: 'Subscribers', schema: z.object({ items: z.array(subscriberOut) }) } },
    handler: async () => ({ status: 200, body: { items: await listSubscribers(deps.db) } }),
  });

  mountRoute(router, table, deps, {
    method: 'delete',
    path: '/v1/subscribers/{id}',
    tag: 'outbox',
    summary: 'Deactivate a subscriber: nothing more is sent to it and its pending deliveries are cancelled',
    auth: 'admin',
    params: idParams,
    responses: { 200: { description: 'Deactivated', schema: subscriberOut } },
    handler: async ({ params, now, actor }) => ({ status: 200, body: await deactivateSubscriber({ db: deps.db, now, actor, id: params.id }) }),
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/outbox/events/{id}/deliveries',
    tag: 'outbox',
    summary: "An event's delivery status per subscriber: attempts, status, next attempt, last error",
    auth: 'admin',
    params: idParams,
    responses: { 200: { description: 'Deliveries', schema: deliveriesOut } },
    handler: async ({ params }) => ({ status: 200, body: await getEventDeliveries(deps.db, params.id) }),
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/.well-known/jwks.json',
    tag: 'outbox',
    summary: 'Public keys that sign our Security Event Tokens (JWK Set)',
    auth: 'public',
    responses: { 200: { description: 'JWK Set', schema: jwksOut } },
    handler: async () => ({
      status: 200,
      body: await listPublicJwks(deps.db),
      // Verifiers may cache; a new kid makes them refetch (jose does on an unknown kid).
      headers: { 'cache-control': 'public, max-age=300' },
    }),
  });
}
