import { z } from 'zod';
import { common } from '../../errors.js';
import { closeCampaign, decideItem } from '../../reviews/campaigns.js';
import { consoleProblems } from '../errors.js';
import { html, type Html } from '../html.js';
import { csrfField, day, label, layout, when, type PageContext } from '../layout.js';
import { campaignsWithProgress, inboxItemIds, reviewInbox, timelinesOf, type InboxItem } from '../queries.js';
import { assertSteppedUp } from '../session-auth.js';
import { affiliationTimelineSvg } from '../timeline-svg.js';
import { parseForm } from './forms.js';

const uuid = z.uuid();
const decision = z.enum(['certify', 'revoke']);
const decideForm = z.object({ decision, comment: z.string().trim().max(1000).optional() });
const bulkForm = z.object({
  decision,
  item: z.preprocess((v) => (Array.isArray(v) ? v : v === undefined ? [] : [v]), z.array(uuid).max(500)),
});

const actor = (c: PageContext) => `console:${c.identity.personId}`;

function recommendationBadges(c: PageContext, recs: string[]): Html {
  if (recs.length === 0) return html`<span class="muted">—</span>`;
  return html`${recs.map((r) => html`<span class="badge rec">${label(c.t, `rec.${r}`, r)}</span> `)}`;
}

function itemRow(c: PageContext, i: InboxItem, timeline: Html): Html {
  const { t } = c;
  return html`<tr id="item-${i.id}" class="${i.decision ? `decided decided-${i.decision}` : ''}">
    <td class="select"><input type="checkbox" name="item" value="${i.id}" form="bulk" id="sel-${i.id}" aria-label="${t('rv.select', { who: `${i.personId} ${i.personName}`, what: i.entitlement })}"></td>
    <th scope="row"><span class="person">${i.personId} ${i.personName}</span><div class="mini-timeline">${timeline}</div></th>
    <td data-label="${t('col.entitlement')}">${i.entitlement}<br><span class="muted">${i.system}</span></td>
    <td data-label="${t('rv.companyThenNow')}">${i.companyAtGrant ?? '—'} → ${i.companyAtStart ?? t('rv.noCompany')}</td>
    <td data-label="${t('rv.recommendations')}">${recommendationBadges(c, i.recommendations)}</td>
    <td data-label="${t('col.decision')}">${i.decision ? html`<span class="badge decision-${i.decision}">${label(t, `rv.decision.${i.decision}`, i.decision)}</span>` : html`<span class="muted">${t('rv.undecided')}</span>`}</td>
    <td data-label="${t('col.actions')}"><form method="post" action="/console/reviews/items/${i.id}/decision" class="row-acts">${csrfField(c)}
      <button type="submit" name="decision" value="certify" aria-label="${t('rv.certifyOne', { who: i.personId, what: i.entitlement })}">${t('rv.certify')}</button>
      <button type="submit" name="decision" value="revoke" class="danger" aria-label="${t('rv.revokeOne', { who: i.personId, what: i.entitlement })}">${t('rv.revoke')}</button>
    </form></td>
  </tr>`;
}

export async function inboxPage(c: PageContext): Promise<void> {
  const { t, deps, now, identity } = c;
  const items = await reviewInbox(deps.db, now, identity);
  const timelines = await timelinesOf(deps.db, items.map((i) => i.personId));
  const byCampaign = new Map<string, InboxItem[]>();
  for (const i of items) byCampaign.set(i.campaignId, [...(byCampaign.get(i.campaignId) ?? []), i]);
  let n = 0;
  const body = html`
    ${!identity.wheeling ? html`<p class="note">${t('rv.ownCompanyOnly', { company: identity.companyName })}</p>` : ''}
    ${items.length === 0 ? html`<p>${t('rv.empty')}</p>` : html`
    <form id="bulk" method="post" action="/console/reviews/bulk">${csrfField(c)}</form>
    ${[...byCampaign.values()].map(
      (list) => html`<section aria-labelledby="c-${list[0]!.campaignId}">
      <h2 id="c-${list[0]!.campaignId}">${list[0]!.campaignName} <span class="muted">${t('rv.due')} ${day(c, list[0]!.dueAt)} · ${list.filter((i) => i.decision).length}/${list.length}</span></h2>
      <div class="table-wrap"><table class="inbox">
        <caption class="sr-only">${list[0]!.campaignName}</caption>
        <thead><tr><th scope="col"><span class="sr-only">${t('rv.selectCol')}</span></th><th scope="col">${t('col.person')}</th><th scope="col">${t('col.entitlement')}</th><th scope="col">${t('rv.companyThenNow')}</th><th scope="col">${t('rv.recommendations')}</th><th scope="col">${t('col.decision')}</th><th scope="col">${t('col.actions')}</th></tr></thead>
        <tbody>${list.map((i) =>
          itemRow(c, i, affiliationTimelineSvg({ segments: timelines.get(i.personId) ?? [], now, lang: c.lang, title: t('person.timelineOf', { who: i.personId }), nowLabel: t('tl.now'), compact: true, id: `tl${++n}` })),
        )}</tbody>
      </table></div>
    </section>`,
    )}
    <div class="bulk-bar" role="group" aria-label="${t('rv.bulk')}">
      <span>${t('rv.bulkHelp')}</span>
      <button type="submit" form="bulk" name="decision" value="certify">${t('rv.certifySelected')}</button>
      <button type="submit" form="bulk" name="decision" value="revoke" class="danger">${t('rv.revokeSelected')}</button>
    </div>`}`;
  c.res.type('html').send(layout(c, { title: t('rv.title'), current: 'reviews', body }).value);
}

export async function decideAction(c: PageContext, itemId: string): Promise<void> {
  if (!uuid.safeParse(itemId).success) throw common.notFound('no such review item');
  const parsed = parseForm(decideForm, c.req.body);
  if (!parsed.ok) return void c.res.redirect(303, '/console/reviews');
  const [allowed] = await inboxItemIds(c.deps.db, c.now, c.identity, [itemId]);
  if (!allowed) throw consoleProblems.roleRequired('this review item is not assigned to you');
  await decideItem({ db: c.deps.db, now: c.now, actor: actor(c), itemId, decision: parsed.data.decision, comment: parsed.data.comment || undefined });
  c.res.redirect(303, `/console/reviews?done=${parsed.data.decision === 'certify' ? 'certified' : 'revoked'}#item-${itemId}`);
}

/** Bulk, step one: what would be decided, for the reviewer to confirm. */
export async function bulkConfirmPage(c: PageContext): Promise<void> {
  const { t } = c;
  const parsed = parseForm(bulkForm, c.req.body);
  if (!parsed.ok || parsed.data.item.length === 0) return void c.res.redirect(303, '/console/reviews?done=nothing-selected');
  const ids = await inboxItemIds(c.deps.db, c.now, c.identity, parsed.data.item);
  const items = (await reviewInbox(c.deps.db, c.now, c.identity, 5000)).filter((i) => ids.includes(i.id));
  const verb = parsed.data.decision === 'certify' ? t('rv.certify') : t('rv.revoke');
  const body = html`<p>${t('rv.bulkConfirm', { n: items.length, verb })}</p>
    <ul class="plain">${items.map((i) => html`<li>${i.personId} ${i.personName} — ${i.entitlement} ${recommendationBadges(c, i.recommendations)}</li>`)}</ul>
    <form method="post" action="/console/reviews/bulk/confirm">${csrfField(c)}
      <input type="hidden" name="decision" value="${parsed.data.decision}">
      ${items.map((i) => html`<input type="hidden" name="item" value="${i.id}">`)}
      <button type="submit" class="${parsed.data.decision === 'revoke' ? 'danger' : 'primary'}">${t('rv.confirmBulk', { n: items.length, verb })}</button>
      <a href="/console/reviews" class="button-link">${t('form.cancel')}</a>
    </form>`;
  c.res.type('html').send(layout(c, { title: t('rv.bulkTitle'), current: 'reviews', body }).value);
}

export async function bulkAction(c: PageContext): Promise<void> {
  const parsed = parseForm(bulkForm, c.req.body);
  if (!parsed.ok) return void c.res.redirect(303, '/console/reviews');
  const ids = await inboxItemIds(c.deps.db, c.now, c.identity, parsed.data.item);
  for (const itemId of ids) await decideItem({ db: c.deps.db, now: c.now, actor: actor(c), itemId, decision: parsed.data.decision });
  c.res.redirect(303, `/console/reviews?done=bulk-${parsed.data.decision}`);
}

export async function campaignsPage(c: PageContext): Promise<void> {
  const { t, deps } = c;
  const open = await campaignsWithProgress(deps.db, 'open');
  const closed = await campaignsWithProgress(deps.db, 'closed', 20);
  const body = html`
    <section aria-labelledby="open-h"><h2 id="open-h">${t('cp.open')}</h2>
    ${open.length === 0 ? html`<p>${t('dash.noCampaign')}</p>` : open.map(
      (o) => html`<article class="card" id="c-${o.id}" aria-labelledby="ch-${o.id}">
        <h3 id="ch-${o.id}">${o.name}</h3>
        <p>${t('rv.due')} ${day(c, o.dueAt)} · ${t('cp.progress', { decided: o.decided, total: o.itemCount })} · ${t('cp.onNoResponse')}: ${label(t, `cp.nr.${o.onNoResponse}`, o.onNoResponse)}</p>
        <progress max="${Math.max(1, o.itemCount)}" value="${o.decided}" aria-label="${t('cp.progress', { decided: o.decided, total: o.itemCount })}"></progress>
        <form method="post" action="/console/campaigns/${o.id}/close" data-step-up data-confirm="${t('cp.confirmClose')}">${csrfField(c)}
          <button type="submit" class="danger">${t('cp.close')}</button></form>
        <p><a href="/console/reports/campaigns/${o.id}.csv" download>${t('cp.evidence')}</a></p>
      </article>`,
    )}</section>
    <section aria-labelledby="closed-h"><h2 id="closed-h">${t('cp.closed')}</h2>
      ${closed.length === 0 ? html`<p>—</p>` : html`<ul class="plain">${closed.map((o) => html`<li>${o.name} — ${when(c, o.closedAt)} · <a href="/console/reports/campaigns/${o.id}.csv" download>${t('cp.evidence')}</a></li>`)}</ul>`}
    </section>`;
  c.res.type('html').send(layout(c, { title: t('cp.title'), current: 'campaigns', body }).value);
}

export async function closeCampaignAction(c: PageContext, id: string): Promise<void> {
  assertSteppedUp(c.session, c.now);
  if (!uuid.safeParse(id).success) throw common.notFound('no such review campaign');
  await closeCampaign({ db: c.deps.db, now: c.now, actor: actor(c), campaignId: id, policy: c.deps.policy });
  c.res.redirect(303, '/console/campaigns?done=closed');
}
