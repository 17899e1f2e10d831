import { z } from 'zod';
import type { RouteTable } from './route.js';

const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    requestId: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): unknown {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any' });
}

/** OpenAPI 3.1 built from the same zod schemas the routes validate with, so it cannot drift. */
export function buildOpenApi(table: RouteTable, version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { spec } of table.routes) {
    const parameters: unknown[] = [];
    for (const [where, schema] of [['path', spec.params], ['query', spec.query]] as const) {
      if (!schema) continue;
      const js = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(js.properties ?? {})) {
        parameters.push({ name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema: s });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(spec.responses)) {
      responses[status] = r.schema
        ? { description: r.description, content: { 'application/json': { schema: jsonSchema(r.schema, 'output') } } }
        : { description: r.description };
    }
    responses.default = { description: 'Problem (RFC 9457)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
    (paths[spec.path] ??= {})[spec.method] = {
      summary: spec.summary,
      tags: [spec.tag],
      ...(spec.auth === 'public' ? { security: [] } : { security: [{ bearer: [spec.auth] }, { consoleSession: [spec.auth] }] }),
      ...(spec.stepUp ? { 'x-sekisho-step-up': spec.stepUp === true ? 'always' : 'conditional' } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Sekisho', version, description: 'Identity and credential lifecycle governance across the unbundling firewall.' },
    paths,
    components: {
      schemas: { Problem: problemSchema },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'API token; scopes: hr, admin, emergency, decide, authn, logs, reviews, audit' },
        consoleSession: {
          type: 'apiKey',
          in: 'cookie',
          name: 'sekisho_session',
          description:
            "A person's console session (cookie `__Host-sekisho_session` on https) with the x-csrf-token header on writes; console roles give the scopes (admin, audit, emergency, reviews). Operations marked x-sekisho-step-up need a passkey assertion less than 5 minutes old in the session.",
        },
      },
    },
  };
}
