import type { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../http/deps.js';
import { mountRoute, type RouteTable } from '../http/route.js';
import { campaignEvidence, campaignEvidenceCsv, closeCampaign, createCampaign, decideItem, getCampaign, listItems, type Campaign, type ReviewItem } from './campaigns.js';
import { getSchedule, putSchedule, type Schedule } from './schedules.js';
import {
  campaignBody,
  campaignOut,
  decisionBody,
  idParams,
  itemOut,
  itemsQuery,
  nameParams,
  reportQuery,
  scheduleBody,
  scheduleOut,
} from './schemas.js';

const campaignView = (c: Campaign) => ({
  id: c.id,
  name: c.name,
  scope: {
    ...(c.scopeSystem ? { system: c.scopeSystem } : {}),
    ...(c.scopeEntitlement ? { entitlement: c.scopeEntitlement } : {}),
    ...(c.scopeCompanyKind ? { companyKind: c.scopeCompanyKind } : {}),
  },
  reviewerId: c.reviewerId,
  dueAt: c.dueAt,
  onNoResponse: c.onNoResponse as 'revoke' | 'keep',
  status: c.status as 'open' | 'closed',
  itemCount: c.itemCount,
  createdAt: c.createdAt,
  closedAt: c.closedAt,
  closeReport: c.closeReport ?? null,
});

const itemView = (i: ReviewItem) => ({
  id: i.id,
  grantId: i.grantId,
  personId: i.personId,
  entitlement: i.entitlementCode,
  system: i.systemCode,
  reviewerId: i.reviewerId,
  companyAtGrant: i.companyAtGrant,
  companyAtStart: i.companyAtStart,
  recommendation: i.recommendations,
  decision: i.decision as 'certify' | 'revoke' | null,
  decidedBy: i.decidedBy,
  decidedAt: i.decidedAt,
  comment: i.comment,
  outcome: i.outcome,
  verified: i.verified,
});

const scheduleView = (s: Schedule) => ({ name: s.name, cron: s.cron, timezone: s.timezone, campaign: { ...s.campaign }, lastOccurrenceAt: s.lastOccurrenceAt });

export function mountReviewRoutes(router: Router, table: RouteTable, deps: AppDeps): void {
  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/review-campaigns',
    tag: 'reviews',
    summary: 'Open an access certification campaign over the grants in scope, one item per active grant',
    auth: 'reviews',
    body: campaignBody,
    responses: { 201: { description: 'Opened', schema: campaignOut } },
    handler: async ({ body, now, actor }) => {
      const campaign = await createCampaign({ db: deps.db, now, actor, spec: body });
      return { status: 201, body: campaignView(campaign!) };
    },
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/review-campaigns/{id}',
    tag: 'reviews',
    summary: 'A campaign, with its close report once closed',
    auth: 'reviews',
    params: idParams,
    responses: { 200: { description: 'The campaign', schema: campaignOut } },
    handler: async ({ params }) => ({ status: 200, body: campaignView(await getCampaign(deps.db, params.id)) }),
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/review-campaigns/{id}/items',
    tag: 'reviews',
    summary: "A campaign's items with recommendations and decisions (pages: ?after=<last id>)",
    auth: 'reviews',
    params: idParams,
    query: itemsQuery,
    responses: { 200: { description: 'Items', schema: z.object({ items: z.array(itemOut), nextAfter: z.string().nullable() }) } },
    handler: async ({ params, query }) => {
      const items = await listItems(deps.db, params.id, query);
      return { status: 200, body: { items: items.map(itemView), nextAfter: items.length === query.limit ? items.at(-1)!.id : null } };
    },
  });

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/review-items/{id}/decision',
    tag: 'reviews',
    summary: 'Certify or revoke one item; may be changed until the campaign closes',
    auth: 'reviews',
    params: idParams,
    body: decisionBody,
    responses: { 200: { description: 'Decided', schema: itemOut } },
    handler: async ({ params, body, now, actor }) => ({ status: 200, body: itemView(await decideItem({ db: deps.db, now, actor, itemId: params.id, ...body })) }),
  });

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/review-campaigns/{id}/close',
    tag: 'reviews',
    summary: 'Apply the decisions and onNoResponse; revoked grants stop permitting at once, and each is verified',
    auth: 'reviews',
    stepUp: true,
    params: idParams,
    responses: { 200: { description: 'Closed', schema: campaignOut } },
    handler: async ({ params, now, actor }) => ({
      status: 200,
      body: campaignView(await closeCampaign({ db: deps.db, now, actor, campaignId: params.id, policy: deps.policy })),
    }),
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/review-campaigns/{id}/report',
    tag: 'reviews',
    summary: 'Evidence: every item with who decided what, when and why, and the verified outcome (JSON or CSV)',
    auth: 'reviews',
    params: idParams,
    query: reportQuery,
    responses: { 200: { description: 'The report', schema: z.object({ campaign: campaignOut, items: z.array(itemOut) }) } },
    handler: async ({ params, query }) => {
      const { campaign, items } = await campaignEvidence(deps.db, params.id);
      if (query.format === 'json') return { status: 200, body: { campaign: campaignView(campaign), items: items.map(itemView) } };
      const csv = campaignEvidenceCsv(items);
      return { status: 200, raw: { contentType: 'text/csv; charset=utf-8', text: csv }, headers: { 'content-disposition': `attachment; filename="review-${params.id}.csv"` } };
    },
  });

  mountRoute(router, table, deps, {
    method: 'put',
    path: '/v1/review-schedules/{name}',
    tag: 'reviews',
    summary: 'A recurring campaign: cron (five fields) in a time zone (default Asia/Tokyo), the campaign due dueInDays after each occurrence',
    auth: 'reviews',
    params: nameParams,
    body: scheduleBody,
    responses: { 200: { description: 'Updated', schema: scheduleOut }, 201: { description: 'Created', schema: scheduleOut } },
    handler: async ({ params, body, now, actor }) => {
      const { schedule, created } = await putSchedule({ db: deps.db, now, actor, name: params.name, ...body });
      return { status: created ? 201 : 200, body: scheduleView(schedule) };
    },
  });

  mountRoute(router, table, deps, {
    method: 'get',
    path: '/v1/review-schedules/{name}',
    tag: 'reviews',
    summary: 'A review schedule and its latest occurrence',
    auth: 'reviews',
    params: nameParams,
    responses: { 200: { description: 'The schedule', schema: scheduleOut } },
    handler: async ({ params }) => ({ status: 200, body: scheduleView(await getSchedule(deps.db, params.name)) }),
  });
}
