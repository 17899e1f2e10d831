import { z } from 'zod';
import { approveEmergency, declareEmergency, endedAt, endEmergency, extendEmergency, getEmergency, listEmergencies, statusAt, type Emergency } from '../../emergency/declarations.js';
import { html, type Html } from '../html.js';
import { csrfField, label, layout, when, type PageContext } from '../layout.js';
import { decisionsUnder, knownAreas, rosterFor, transitionsOf, type DecisionRow } from '../queries.js';
import { canSee } from '../roles.js';
import { assertSteppedUp } from '../session-auth.js';
import { formError, parseForm } from './forms.js';

const area = z.string().trim().regex(/^[A-Za-z0-9._:-]{1,64}$/);
const declareForm = z.object({
  areas: z.preprocess((v) => (Array.isArray(v) ? v : v === undefined ? [] : [v]), z.array(z.string())),
  otherAreas: z.string().max(500).optional(),
  durationMinutes: z.coerce.number().int().min(1),
  reason: z.string().trim().min(1).max(1000),
});
const extendForm = z.object({ minutes: z.coerce.number().int().min(1), reason: z.string().trim().min(1).max(1000) });
const endForm = z.object({ reason: z.string().trim().max(1000).optional() });

const actor = (c: PageContext) => `console:${c.identity.personId}`;

function emergencyCard(c: PageContext, e: Emergency, withActs: boolean): Html {
  const { t, now } = c;
  const status = statusAt(e, now);
  const acts = withActs && canSee(c.identity, 'emergency-acts');
  return html`<article class="card ${status === 'active' ? 'alert' : ''}" aria-labelledby="e-${e.id}">
    <h3 id="e-${e.id}"><a href="/console/emergencies/${e.id}">${e.areas.join(', ')}</a> <span class="badge status-${status}">${label(t, `em.status.${status}`, status)}</span></h3>
    <p>${e.reason}</p>
    <dl class="facts">
      <dt>${t('em.declaredBy')}</dt><dd>${e.declaredBy}</dd>
      <dt>${t('em.started')}</dt><dd>${when(c, e.startedAt)}</dd>
      <dt>${status === 'ended' ? t('em.ended') : t('em.expires')}</dt><dd>${status === 'ended' ? when(c, endedAt(e, now)) : when(c, e.expiresAt)}</dd>
    </dl>
    ${acts && status === 'pending_approval'
      ? html`<form method="post" action="/console/emergencies/${e.id}/approve" data-step-up>${csrfField(c)}<button type="submit" class="primary">${t('em.approve')}</button></form>`
      : ''}
    ${acts && status === 'active'
      ? html`<div class="acts">
      <form method="post" action="/console/emergencies/${e.id}/end" data-step-up data-confirm="${t('em.confirmEnd')}">${csrfField(c)}
        <button type="submit" class="danger">${t('em.end')}</button></form>
      <form method="post" action="/console/emergencies/${e.id}/extend" data-step-up class="inline-form">${csrfField(c)}
        <label for="ext-min-${e.id}">${t('em.extendMinutes')}</label>
        <input id="ext-min-${e.id}" name="minutes" type="number" min="1" max="${c.deps.config.emergency.maxMinutes}" value="60" required inputmode="numeric">
        <label for="ext-reason-${e.id}">${t('em.reason')}</label>
        <input id="ext-reason-${e.id}" name="reason" type="text" required maxlength="1000">
        <button type="submit">${t('em.extend')}</button></form>
    </div>`
      : ''}
  </article>`;
}

export async function emergenciesPage(c: PageContext, error?: string): Promise<void> {
  const { t, deps, now } = c;
  const pending = await listEmergencies(deps.db, now, 'pending_approval');
  const active = await listEmergencies(deps.db, now, 'active');
  const ended = (await listEmergencies(deps.db, now, 'ended')).slice(0, 10);
  const areas = await knownAreas(deps.db);
  const policy = deps.config.emergency;
  const declare = canSee(c.identity, 'emergency-acts')
    ? html`<section aria-labelledby="declare-h" class="card">
    <h2 id="declare-h">${t('em.declare')}</h2>
    ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
    <form method="post" action="/console/emergencies" data-step-up data-confirm="${t('em.confirmDeclare')}">
      ${csrfField(c)}
      <fieldset><legend>${t('em.areas')}</legend>
        ${areas.map((a) => html`<label class="check"><input type="checkbox" name="areas" value="${a}"> ${label(t, `area.${a}`, a)} (${a})</label>`)}
        <label for="other-areas">${t('em.otherAreas')}</label>
        <input id="other-areas" name="otherAreas" type="text" placeholder="miyagi, iwate" aria-describedby="other-areas-help">
        <p id="other-areas-help" class="muted">${t('em.otherAreasHelp')}</p>
      </fieldset>
      <label for="duration">${t('em.duration')}</label>
      <input id="duration" name="durationMinutes" type="number" min="1" max="${policy.maxMinutes}" value="${Math.min(240, policy.maxMinutes)}" required inputmode="numeric" aria-describedby="duration-help">
      <p id="duration-help" class="muted">${t('em.durationHelp', { max: policy.maxMinutes })}</p>
      <label for="reason">${t('em.reason')}</label>
      <textarea id="reason" name="reason" required maxlength="1000" rows="3"></textarea>
      <p class="muted">${t('stepup.needed')}</p>
      <button type="submit" class="primary danger-outline">${t('em.declareButton')}</button>
    </form>
  </section>`
    : '';
  const body = html`
    ${declare}
    <section aria-labelledby="active-h"><h2 id="active-h">${t('em.activeList')}</h2>
      ${pending.length + active.length === 0 ? html`<p>${t('dash.noEmergency')}</p>` : [...pending, ...active].map((e) => emergencyCard(c, e, true))}
    </section>
    <section aria-labelledby="ended-h"><h2 id="ended-h">${t('em.endedList')}</h2>
      ${ended.length === 0 ? html`<p>—</p>` : html`<ul class="plain">${ended.map((e) => html`<li><a href="/console/emergencies/${e.id}">${e.areas.join(', ')}</a> — ${e.reason} (${when(c, endedAt(e, now))})</li>`)}</ul>`}
    </section>`;
  c.res.status(error ? 400 : 200).type('html').send(layout(c, { title: t('em.title'), current: 'emergencies', body }).value);
}

export function decisionsTable(c: PageContext, rows: DecisionRow[]): Html {
  const { t } = c;
  if (rows.length === 0) return html`<p>${t('em.noDecisions')}</p>`;
  return html`<div class="table-wrap"><table>
    <caption class="sr-only">${t('em.decisions')}</caption>
    <thead><tr><th scope="col">${t('col.at')}</th><th scope="col">${t('col.person')}</th><th scope="col">${t('col.terminal')}</th><th scope="col">${t('col.customer')}</th><th scope="col">${t('col.area')}</th><th scope="col">${t('col.decision')}</th><th scope="col">${t('col.allowedFields')}</th></tr></thead>
    <tbody>${rows.map(
      (d) => html`<tr><td>${when(c, d.at)}</td><td>${d.personId}</td><td>${d.terminalId ?? '—'}</td><td>${d.customerId ?? '—'}</td><td>${d.area ?? '—'}</td>
        <td><span class="badge decision-${d.decision}">${label(t, `decision.${d.decision}`, d.decision)}</span></td><td>${d.allowed.join(', ')}</td></tr>`,
    )}</tbody></table></div>`;
}

export async function emergencyPage(c: PageContext, id: string): Promise<void> {
  const { t, deps } = c;
  const e = await getEmergency(deps.db, id);
  const transitions = await transitionsOf(deps.db, id);
  const roster = await rosterFor(deps.db, e.areas);
  const decisions = await decisionsUnder(deps.db, id);
  const body = html`
    ${emergencyCard(c, e, true)}
    <section aria-labelledby="dec-h">
      <h2 id="dec-h">${t('em.decisions')}</h2>
      <p class="muted">${t('em.decisionsLive')} <a href="/console/reports/emergencies/${e.id}.csv" download>${t('em.downloadCsv')}</a></p>
      <div id="decisions" data-live-src="/console/emergencies/${e.id}/decisions" aria-live="polite" aria-busy="false">${decisionsTable(c, decisions)}</div>
    </section>
    <section aria-labelledby="roster-h"><h2 id="roster-h">${t('em.roster')}</h2>
      ${roster.length === 0 ? html`<p>—</p>` : html`<ul class="plain">${roster.map((r) => html`<li>${r.personId} ${r.name} (${r.areas.join(', ')})</li>`)}</ul>`}
    </section>
    <section aria-labelledby="tr-h"><h2 id="tr-h">${t('em.history')}</h2>
      <ol class="plain">${transitions.map((x) => html`<li>${when(c, x.at)} — ${label(t, `em.transition.${x.kind}`, x.kind)} (${x.actor})</li>`)}</ol>
    </section>`;
  c.res.type('html').send(layout(c, { title: `${t('em.one')}: ${e.areas.join(', ')}`, current: 'emergencies', body }).value);
}

/** The live list's fragment, fetched by the page's script every few seconds. */
export async function emergencyDecisionsFragment(c: PageContext, id: string): Promise<void> {
  await getEmergency(c.deps.db, id);
  c.res.type('html').send(decisionsTable(c, await decisionsUnder(c.deps.db, id)).value);
}

export async function declareAction(c: PageContext): Promise<void> {
  assertSteppedUp(c.session, c.now);
  const parsed = parseForm(declareForm, c.req.body);
  if (!parsed.ok) return emergenciesPage(c, formError(c, parsed.errors));
  const areas = [...parsed.data.areas, ...(parsed.data.otherAreas ?? '').split(/[\s,、]+/).filter(Boolean)];
  if (areas.length === 0 || areas.length > 50 || !areas.every((a) => area.safeParse(a).success)) return emergenciesPage(c, c.t('em.areasInvalid'));
  const e = await declareEmergency({ db: c.deps.db, now: c.now, actor: actor(c), policy: c.deps.config.emergency, areas, reason: parsed.data.reason, durationMinutes: parsed.data.durationMinutes });
  c.res.redirect(303, `/console/emergencies/${e.id}?done=declared`);
}

export async function endAction(c: PageContext, id: string): Promise<void> {
  assertSteppedUp(c.session, c.now);
  const parsed = parseForm(endForm, c.req.body);
  await endEmergency({ db: c.deps.db, now: c.now, actor: actor(c), id, reason: parsed.ok ? parsed.data.reason || undefined : undefined });
  c.res.redirect(303, `/console/emergencies/${id}?done=ended`);
}

export async function extendAction(c: PageContext, id: string): Promise<void> {
  assertSteppedUp(c.session, c.now);
  const parsed = parseForm(extendForm, c.req.body);
  if (!parsed.ok) return emergenciesPage(c, formError(c, parsed.errors));
  await extendEmergency({ db: c.deps.db, now: c.now, actor: actor(c), policy: c.deps.config.emergency, id, ...parsed.data });
  c.res.redirect(303, `/console/emergencies/${id}?done=extended`);
}

export async function approveAction(c: PageContext, id: string): Promise<void> {
  assertSteppedUp(c.session, c.now);
  await approveEmergency({ db: c.deps.db, now: c.now, actor: actor(c), policy: c.deps.config.emergency, id });
  c.res.redirect(303, `/console/emergencies/${id}?done=approved`);
}
