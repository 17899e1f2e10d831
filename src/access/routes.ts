import type { Router } from 'express';
import { z } from 'zod';
import { findEffectiveCompanyAt, getPersonAt } from '../affiliation/persons.js';
import type { AppDeps } from '../http/deps.js';
import { mountRoute, type RouteTable } from '../http/route.js';
import { deleteBirthrightRule, listBirthrightRules, putBirthrightRule } from './birthright.js';
import { getSystem, putEntitlement, putSystem, putTerminal } from './catalog.js';
import { createGrant, listPersonGrants, revokeGrant } from './grants.js';
import {
  birthrightBody,
  birthrightOut,
  codeParams,
  entitlementBody,
  entitlementOut,
  grantBody,
  grantOut,
  grantParams,
  idParams,
  systemBody,
  systemOut,
  terminalBody,
  terminalOut,
} from './schemas.js';

export function mountAccessRoutes(router: Router, table: RouteTable, deps: AppDeps): void {
  mountRoute(router, table, deps, {
    method: 'put',
    path: '/v1/systems/{code}',
    tag: 'access',
    summary: "Declare a connected system, its fields' information classes and its emergency field set",
    auth: 'admin',
    params: codeParams,
    body: systemBody,
    responses: { 200: { description: 'Updated', schema: systemOut }, 201: { description: 'Created', schema: systemOut } },
    handler: async ({ params, body, now, actor }) => {
      const { created } = await putSystem({ db: deps.db, now, actor, code: params.code, ...body });
      return { status: created ? 201 : 200, body: await getSystem(deps.db, params.code) };
    },
  });

  mountRoute(router, table, deps, {
    method: 'put',
    path: '/v1/entitlements/{code}',
    tag: 'access',
    summary: 'Declare an entitlement on a system and the company kinds that may hold it',
    auth: 'admin',
    params: codeParams,
    body: entitlementBody,
    responses: { 200: { description: 'Updated', schema: entitlementOut }, 201: { description: 'Created', schema: entitlementOut } },
    handler: async ({ params, body, now, actor }) => {
      const { created } = await putEntitlement({ db: deps.db, now, actor, code: params.code, ...body });
      return { status: created ? 201 : 200, body: { code: params.code, ...body } };
    },
  });

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/grants',
    tag: 'access',
    summary: 'Grant a person an entitlement (409 …/firewall when their company kind may not hold it)',
    auth: 'admin',
    // Granting to anyone not judged as the wheeling company is a sensitive act for a person.
    stepUp: async ({ body, now }) => (await findEffectiveCompanyAt(deps.db, body.personId, now))?.rulesKind !== 'wheeling',
    body: grantBody,
    responses: { 201: { description: 'Granted', schema: grantOut } },
    handler: async ({ body, now, actor }) => ({ status: 201, body: await createGrant({ db: deps.db, now, actor, ...body }) }),
  });

  mountRoute(router, table, deps, {
    method: 'delete',
    path: '/v1/grants/{id}',
    tag: 'access',
    summary: 'Revoke a grant (kept in history)',
    auth: 'admin',
    params: grantParams,
    responses: { 200: { description: 'Revoked', schema: grantOut } },
    handler: async ({ params, now, actor }) => ({
      status: 200,
      body: await revokeGrant({ db: deps.db, now, actor, grantId: params.id, reason: 'revoked by API' }),
    }),
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/persons/{id}/grants',
    tag: 'access',
    summary: "A person's grants, revoked and expired ones included",
    auth: 'admin',
    params: idParams,
    responses: { 200: { description: 'Grants', schema: z.object({ items: z.array(grantOut) }) } },
    handler: async ({ params, now }) => {
      await getPersonAt(deps.db, params.id, now); // 404 for an unknown person
      return { status: 200, body: { items: await listPersonGrants(deps.db, params.id, now) } };
    },
  });

  mountRoute(router, table, deps, {
    method: 'put',
    path: '/v1/terminals/{id}',
    tag: 'access',
    summary: 'Register a terminal for the company it is configured and placed for',
    auth: 'admin',
    params: idParams,
    body: terminalBody,
    responses: { 200: { description: 'Updated', schema: terminalOut }, 201: { description: 'Registered', schema: terminalOut } },
    handler: async ({ params, body, now, actor }) => {
      const { terminal, created } = await putTerminal({ db: deps.db, now, actor, id: params.id, ...body });
      return { status: created ? 201 : 200, body: { id: terminal.id, company: terminal.companyCode, site: terminal.site, active: terminal.active } };
    },
  });

  mountRoute(router, table, deps, {
    method: 'put',
    path: '/v1/birthright-rules/{code}',
    tag: 'access',
    summary: 'What everyone of a company (or one of its org units) is granted when they join or move in (409 …/firewall when the company kind may not hold it)',
    auth: 'admin',
    params: codeParams,
    body: birthrightBody,
    responses: { 200: { description: 'Updated', schema: birthrightOut }, 201: { description: 'Created', schema: birthrightOut } },
    handler: async ({ params, body, now, actor }) => {
      const { rule, created } = await putBirthrightRule({ db: deps.db, now, actor, code: params.code, ...body });
      return { status: created ? 201 : 200, body: rule };
    },
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/birthright-rules',
    tag: 'access',
    summary: 'Birthright rules',
    auth: 'admin',
    responses: { 200: { description: 'Rules', schema: z.object({ items: z.array(birthrightOut) }) } },
    handler: async () => ({ status: 200, body: { items: await listBirthrightRules(deps.db) } }),
  });

  mountRoute(router, table, deps, {
    method: 'delete',
    path: '/v1/birthright-rules/{code}',
    tag: 'access',
    summary: 'Remove a birthright rule; grants it provisioned stay until revoked',
    auth: 'admin',
    params: codeParams,
    responses: { 204: { description: 'Removed' } },
    handler: async ({ params, now, actor }) => {
      await deleteBirthrightRule({ db: deps.db, now, actor, code: params.code });
      return { status: 204 };
    },
  });
}
