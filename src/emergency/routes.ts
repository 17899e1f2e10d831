import type { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../http/deps.js';
import { mountRoute, type RouteTable } from '../http/route.js';
import { approveEmergency, declareEmergency, endedAt, endEmergency, extendEmergency, listEmergencies, statusAt, type Emergency } from './declarations.js';
import { emergencyReport, emergencyReportCsv } from './report.js';
import { listRoster, putRosterMember, removeRosterMember } from './roster.js';
import { declareBody, emergencyOut, emergencyParams, extendBody, listQuery, reportOut, reportQuery, rosterBody, rosterOut, rosterParams } from './schemas.js';

const view = (e: Emergency, now: Date) => ({ ...e, status: statusAt(e, now), endedAt: endedAt(e, now) });

export function mountEmergencyRoutes(router: Router, table: RouteTable, deps: AppDeps): void {
  const policy = deps.config.emergency;

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/emergencies',
    tag: 'emergencies',
    summary: 'Declare an emergency for areas; roster members get the emergency field set there until it ends or expires',
    auth: 'emergency',
    stepUp: true,
    body: declareBody,
    responses: { 201: { description: 'Declared (active, or pending a second approver)', schema: emergencyOut } },
    handler: async ({ body, now, actor }) => ({ status: 201, body: view(await declareEmergency({ db: deps.db, now, actor, policy, ...body }), now) }),
  });

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/emergencies/{id}/approve',
    tag: 'emergencies',
    summary: 'Second approver starts a declared emergency (dual control)',
    auth: 'emergency',
    stepUp: true,
    params: emergencyParams,
    responses: { 200: { description: 'Active', schema: emergencyOut } },
    handler: async ({ params, now, actor }) => ({ status: 200, body: view(await approveEmergency({ db: deps.db, now, actor, policy, id: params.id }), now) }),
  });

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/emergencies/{id}/end',
    tag: 'emergencies',
    summary: 'End an emergency now',
    auth: 'emergency',
    stepUp: true,
    params: emergencyParams,
    responses: { 200: { description: 'Ended', schema: emergencyOut } },
    handler: async ({ params, now, actor }) => ({ status: 200, body: view(await endEmergency({ db: deps.db, now, actor, id: params.id }), now) }),
  });

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/emergencies/{id}/extend',
    tag: 'emergencies',
    summary: 'Extend an active emergency (bounded per step and in total)',
    auth: 'emergency',
    stepUp: true,
    params: emergencyParams,
    body: extendBody,
    responses: { 200: { description: 'Extended', schema: emergencyOut } },
    handler: async ({ params, body, now, actor }) => ({
      status: 200,
      body: view(await extendEmergency({ db: deps.db, now, actor, policy, id: params.id, ...body }), now),
    }),
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/emergencies',
    tag: 'emergencies',
    summary: 'Emergencies, newest first, optionally by status as of now',
    auth: 'emergency',
    query: listQuery,
    responses: { 200: { description: 'Emergencies', schema: z.object({ items: z.array(emergencyOut) }) } },
    handler: async ({ query, now }) => ({ status: 200, body: { items: (await listEmergencies(deps.db, now, query.status)).map((e) => view(e, now)) } }),
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/emergencies/{id}/report',
    tag: 'emergencies',
    summary: 'Every decision made under the emergency: who, when, which records, which fields (JSON or CSV)',
    auth: 'emergency',
    params: emergencyParams,
    query: reportQuery,
    responses: { 200: { description: 'The report', schema: reportOut } },
    handler: async ({ params, query, now }) => {
      const report = await emergencyReport(deps.db, params.id);
      if (query.format === 'json') return { status: 200, body: { emergency: view(report.emergency, now), decisions: report.decisions } };
      const csv = emergencyReportCsv(report.decisions);
      return { status: 200, raw: { contentType: 'text/csv; charset=utf-8', text: csv }, headers: { 'content-disposition': `attachment; filename="emergency-${params.id}.csv"` } };
    },
  });

  mountRoute(router, table, deps, {
    method: 'put',
    path: '/v1/emergency-roster/{personId}',
    tag: 'emergencies',
    summary: 'Put a person on the disaster-support roster (grants nothing by itself)',
    auth: 'admin',
    params: rosterParams,
    body: rosterBody,
    responses: { 200: { description: 'Updated', schema: rosterOut }, 201: { description: 'Added', schema: rosterOut } },
    handler: async ({ params, body, now, actor }) => {
      const { member, created } = await putRosterMember({ db: deps.db, now, actor, personId: params.personId, ...body });
      return { status: created ? 201 : 200, body: member };
    },
  });

  mountRoute(router, table, deps, {
    method: 'delete',
    path: '/v1/emergency-roster/{personId}',
    tag: 'emergencies',
    summary: 'Take a person off the roster',
    auth: 'admin',
    params: rosterParams,
    responses: { 204: { description: 'Removed' } },
    handler: async ({ params, now, actor }) => {
      await removeRosterMember({ db: deps.db, now, actor, personId: params.personId });
      return { status: 204 };
    },
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/emergency-roster',
    tag: 'emergencies',
    summary: 'The disaster-support roster',
    auth: 'emergency',
    responses: { 200: { description: 'Roster', schema: z.object({ items: z.array(rosterOut) }) } },
    handler: async () => ({ status: 200, body: { items: await listRoster(deps.db) } }),
  });
}
