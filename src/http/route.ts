import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import type { Scope } from '../credentials/schema.js';
import { common } from '../errors.js';
import { assertSteppedUp } from '../console/session-auth.js';
import { authenticate, type Principal } from './auth.js';
import type { AppDeps } from './deps.js';
import { validationError } from './problem.js';

export interface Reply {
  status: number;
  body?: unknown;
  /** Overrides the JSON response (CSV, text). */
  raw?: { contentType: string; text: string };
  headers?: Record<string, string>;
}

export interface HandlerInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal | null;
  actor: string;
  /** The request's instant: routes read the clock once, domain code takes it as `now`. */
  now: Date;
  req: Request;
  res: Response;
}

export interface RouteSpec<P, Q, B> {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI form: /v1/persons/{id}. */
  path: string;
  summary: string;
  tag: string;
  /** Required token scope; 'public' for unauthenticated endpoints (signed webhooks, health). */
  auth: Scope | 'public';
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Raw body (signed webhooks): `body` is then the Buffer, parsed by the handler after verifying. */
  rawBody?: { limit: string };
  /** JSON body size limit; default 1 MB. */
  bodyLimit?: string;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  /**
   * A sensitive act: when a person calls it through their console session, it needs a passkey
   * assertion less than 5 minutes old in that session (403 console.step-up-required otherwise).
   * A function decides from the parsed request (a grant to a non-wheeling person). Service
   * tokens are not asked: they are no person's (README "Console").
   */
  stepUp?: true | ((input: { params: P; query: Q; body: B; now: Date }) => Promise<boolean>);
  handler: (input: HandlerInput<P, Q, B>) => Promise<Reply>;
}

export interface RouteRecord {
  spec: RouteSpec<unknown, unknown, unknown>;
}

/** Every mounted route, for /openapi.json. */
export class RouteTable {
  readonly routes: RouteRecord[] = [];
}

const JSON_TYPES = ['application/json', 'application/*+json'];

/** OpenAPI path → Express 5 path: {id} → :id, and literal colons (decisions:batch) escaped. */
export function expressPath(path: string): string {
  return path.replaceAll(':', '\\:').replace(/\{(\w+)\}/g, ':$1');
}

function parseOrThrow<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(r.error, where);
  return r.data;
}

export function mountRoute<P, Q, B>(router: Router, table: RouteTable, deps: AppDeps, spec: RouteSpec<P, Q, B>): void {
  table.routes.push({ spec: spec as RouteSpec<unknown, unknown, unknown> });
  // Authenticate before reading a body: an anonymous caller learns nothing and costs little.
  const auth: RequestHandler = async (req, res, next) => {
    res.locals.principal = spec.auth === 'public' ? null : await authenticate(deps, req, spec.auth);
    if (spec.body && !spec.rawBody && !req.is(JSON_TYPES)) throw common.unsupportedMedia('send the body as application/json');
    next();
  };
  const bodyParsers: RequestHandler[] = [];
  if (spec.rawBody) bodyParsers.push(express.raw({ type: () => true, limit: spec.rawBody.limit }));
  else if (spec.body) bodyParsers.push(express.json({ limit: spec.bodyLimit ?? '1mb', type: JSON_TYPES, strict: false }));

  const handler: RequestHandler = async (req, res) => {
    const principal = res.locals.principal as Principal | null;
    const params = parseOrThrow(spec.params, req.params, 'path');
    const query = parseOrThrow(spec.query, req.query, 'query');
    const body = spec.rawBody ? (req.body as B) : parseOrThrow(spec.body, req.body, 'body');
    const now = deps.clock();
    const actor = principal ? principal.actor : 'anonymous';
    if (spec.stepUp && principal?.kind === 'session' && (spec.stepUp === true || (await spec.stepUp({ params, query, body, now })))) {
      assertSteppedUp(principal.session, now);
    }
    const reply = await spec.handler({ params, query, body, principal, actor, now, req, res });
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    if (reply.raw) return void res.status(reply.status).type(reply.raw.contentType).send(reply.raw.text);
    const out = spec.responses[reply.status]?.schema;
    // Responses are parsed through their schema: the last guard against leaking a field.
    const body_ = out ? out.parse(reply.body) : reply.body;
    if (body_ === undefined) return void res.status(reply.status).end();
    res.status(reply.status).json(body_);
  };
  router[spec.method](expressPath(spec.path), auth, ...bodyParsers, handler);
}
