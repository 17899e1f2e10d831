import type { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../http/deps.js';
import { mountRoute, type RouteTable } from '../http/route.js';
import { listCompanies, putCompany } from './companies.js';
import { getPersonAt, listAffiliations } from './persons.js';
import { affiliationsOut, affiliationsQuery, companyBody, companyOut, companyParams, personOut, personParams, personQuery } from './schemas.js';

const toCompanyOut = (c: { code: string; name: string; kind: string; actsFor: string | null }) => ({
  code: c.code,
  name: c.name,
  kind: c.kind,
  actsFor: c.actsFor,
});

export function mountAffiliationRoutes(router: Router, table: RouteTable, deps: AppDeps): void {
  mountRoute(router, table, deps, {
    method: 'put',
    path: '/v1/companies/{code}',
    tag: 'people',
    summary: 'Create or update a company (wheeling, retail, contractor acting for another, other)',
    auth: 'admin',
    params: companyParams,
    body: companyBody,
    responses: { 200: { description: 'Updated', schema: companyOut }, 201: { description: 'Created', schema: companyOut } },
    handler: async ({ params, body, now, actor }) => {
      const { company, created } = await putCompany({ db: deps.db, now, actor, code: params.code, ...body });
      return { status: created ? 201 : 200, body: toCompanyOut(company) };
    },
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/companies',
    tag: 'people',
    summary: 'List companies',
    auth: 'admin',
    responses: { 200: { description: 'Companies', schema: z.object({ items: z.array(companyOut) }) } },
    handler: async () => ({ status: 200, body: { items: (await listCompanies(deps.db)).map(toCompanyOut) } }),
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/persons/{id}',
    tag: 'people',
    summary: 'A person and their affiliation as of now or `at` (optionally as recorded at `knownAt`)',
    auth: 'admin',
    params: personParams,
    query: personQuery,
    responses: { 200: { description: 'The person', schema: personOut } },
    handler: async ({ params, query, now }) => ({
      status: 200,
      body: await getPersonAt(deps.db, params.id, query.at ?? now, query.knownAt),
    }),
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/persons/{id}/affiliations',
    tag: 'people',
    summary: "A person's affiliation timeline, oldest first",
    auth: 'admin',
    params: personParams,
    query: affiliationsQuery,
    responses: { 200: { description: 'Timeline', schema: affiliationsOut } },
    handler: async ({ params, query, now }) => {
      await getPersonAt(deps.db, params.id, now); // 404 for an unknown person
      return { status: 200, body: { items: await listAffiliations(deps.db, params.id, query.knownAt) } };
    },
  });
}
