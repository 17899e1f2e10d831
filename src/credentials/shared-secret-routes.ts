import type { Request, Router } from 'express';
import { z } from 'zod';
import { common } from '../errors.js';
import type { AppDeps } from '../http/deps.js';
import { validationError } from '../http/problem.js';
import { mountRoute, type RouteTable } from '../http/route.js';
import { orgId } from '../http/zod-types.js';
import { credentialProblems } from './errors.js';
import { createSharedSecret, getSharedSecret, rotateSharedSecret } from './shared-secrets.js';

const knownBy = z.array(orgId).max(1000);
const createBody = z.strictObject({
  system: orgId,
  name: z.string().min(1).max(200),
  knownBy,
  /** The value people already use; omitted, one is generated and shown once. */
  value: z.string().min(1).max(1024).optional(),
  maxAgeDays: z.number().int().min(1).max(3650).optional(),
});
const rotateBody = z.strictObject({ knownBy: knownBy.optional() });
const idParams = z.strictObject({ id: z.uuid() });

const status = z.enum(['ok', 'rotation_required']);
const createdOut = z.object({ id: z.string(), status, secret: z.string().optional() });
const viewOut = z.object({
  id: z.string(),
  system: z.string(),
  name: z.string(),
  status,
  exposedTo: z.array(z.object({ personId: z.string(), company: z.string().nullable() })),
});
const rotatedOut = z.object({ id: z.string(), status: z.literal('ok'), version: z.number().int(), secret: z.string() });

const JSON_TYPES = ['application/json', 'application/*+json'];

/** The rotate body is optional (the API documents none): no body means `{}`. */
function parseRotateBody(req: Request, raw: unknown): z.infer<typeof rotateBody> {
  if (!Buffer.isBuffer(raw) || raw.length === 0) return {};
  if (!req.is(JSON_TYPES)) throw common.unsupportedMedia('send the body as application/json');
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw common.validation('the body is not valid JSON');
  }
  const r = rotateBody.safeParse(json);
  if (!r.success) throw validationError(r.error, 'body');
  return r.data;
}

export function mountSharedSecretRoutes(router: Router, table: RouteTable, deps: AppDeps): void {
  const keyring = () => {
    if (!deps.keyring) throw credentialProblems.notConfigured('set SEKISHO_ENCRYPTION_KEYS to store shared secrets');
    return deps.keyring;
  };

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/shared-secrets',
    tag: 'credentials',
    summary: 'Register a shared secret and who knows it (a generated value is shown once)',
    auth: 'admin',
    body: createBody,
    responses: { 201: { description: 'Registered', schema: createdOut } },
    handler: async ({ body, now, actor }) => {
      const created = await createSharedSecret({ db: deps.db, now, actor, keyring: keyring(), ...body });
      return { status: 201, body: { id: created.id, status: created.status, secret: created.secret } };
    },
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/shared-secrets/{id}',
    tag: 'credentials',
    summary: 'A shared secret’s status and the people who took its current version to another company (never the value)',
    auth: 'admin',
    params: idParams,
    responses: { 200: { description: 'Shared secret', schema: viewOut } },
    handler: async ({ params, now }) => ({ status: 200, body: await getSharedSecret({ db: deps.db, now, id: params.id }) }),
  });

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/shared-secrets/{id}/rotate',
    tag: 'credentials',
    summary: 'Rotate a shared secret to a generated value, shown once; optional body {knownBy} names the new version’s holders',
    auth: 'admin',
    stepUp: true,
    params: idParams,
    rawBody: { limit: '64kb' },
    responses: { 200: { description: 'Rotated', schema: rotatedOut } },
    handler: async ({ params, req, body, now, actor }) => {
      const { knownBy: holders } = parseRotateBody(req, body);
      const rotated = await rotateSharedSecret({ db: deps.db, now, actor, keyring: keyring(), id: params.id, knownBy: holders });
      return { status: 200, body: rotated };
    },
  });
}
