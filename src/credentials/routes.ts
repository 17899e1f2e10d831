import type { Router } from 'express';
import { z } from 'zod';
import { getPersonAt } from '../affiliation/persons.js';
import type { AppDeps } from '../http/deps.js';
import { mountRoute, type RouteTable } from '../http/route.js';
import { issueBadge, issuePassword, issuePersonToken, listPersonCredentials, toCredentialView } from './issue.js';
import { authnOut, badgeAuthnBody, credentialOut, issueBody, issuedOut, passwordAuthnBody, personParams, tokenAuthnBody } from './schemas.js';
import { authenticateBadge, authenticatePassword, authenticatePersonToken } from './verify.js';

export function mountCredentialRoutes(router: Router, table: RouteTable, deps: AppDeps): void {
  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/persons/{id}/credentials',
    tag: 'credentials',
    summary: 'Issue a credential under the person’s current company (password and token shown once)',
    auth: 'admin',
    params: personParams,
    body: issueBody,
    responses: { 201: { description: 'Issued', schema: issuedOut } },
    handler: async ({ params, body, now, actor }) => {
      const base = { db: deps.db, now, actor, personId: params.id };
      if (body.type === 'password') {
        const { credential, password } = await issuePassword({ ...base, system: body.system, loginId: body.loginId });
        return { status: 201, body: { ...toCredentialView(credential), password } };
      }
      if (body.type === 'badge') return { status: 201, body: toCredentialView(await issueBadge({ ...base, badgeId: body.badgeId })) };
      const { credential, token } = await issuePersonToken(base);
      return { status: 201, body: { ...toCredentialView(credential), token } };
    },
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/persons/{id}/credentials',
    tag: 'credentials',
    summary: "A person's credentials with the company each was issued under",
    auth: 'admin',
    params: personParams,
    responses: { 200: { description: 'Credentials', schema: z.object({ items: z.array(credentialOut) }) } },
    handler: async ({ params, now }) => {
      await getPersonAt(deps.db, params.id, now); // 404 for an unknown person
      return { status: 200, body: { items: (await listPersonCredentials(deps.db, params.id)).map(toCredentialView) } };
    },
  });

  const authnRoute = <B extends { terminalId?: string; clientIp?: string }>(
    path: string,
    summary: string,
    body: z.ZodType<B>,
    verify: (b: B, base: { db: AppDeps['db']; now: Date; caller: string; terminalId?: string; clientIp?: string }) => Promise<{ personId: string; company: string }>,
  ) =>
    mountRoute(router, table, deps, {
      method: 'post',
      path,
      tag: 'authn',
      summary,
      auth: 'authn',
      body,
      responses: { 200: { description: 'Authenticated', schema: authnOut } },
      handler: async ({ body: b, now, actor }) => ({
        status: 200,
        body: await verify(b, { db: deps.db, now, caller: actor, terminalId: b.terminalId, clientIp: b.clientIp }),
      }),
    });

  authnRoute('/v1/authn/password', 'Verify a password for an account in a connected system (401 says only "invalid credentials")', passwordAuthnBody, (b, base) =>
    authenticatePassword({ ...base, system: b.system, loginId: b.loginId, password: b.password }),
  );
  authnRoute('/v1/authn/badge', 'Verify an ID badge (401 says only "invalid credentials")', badgeAuthnBody, (b, base) =>
    authenticateBadge({ ...base, badgeId: b.badgeId }),
  );
  authnRoute('/v1/authn/token', "Verify a person's API token (401 says only \"invalid credentials\")", tokenAuthnBody, (b, base) =>
    authenticatePersonToken({ ...base, token: b.token }),
  );
}
