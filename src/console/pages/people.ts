import { z } from 'zod';
import { createGrant, listPersonGrants } from '../../access/grants.js';
import { findEffectiveCompanyAt, getPersonAt, listAffiliations } from '../../affiliation/persons.js';
import { listPersonCredentials } from '../../credentials/issue.js';
import { html } from '../html.js';
import { csrfField, day, label, layout, when, type PageContext } from '../layout.js';
import { listEntitlementChoices, listFindingsFor, rosterMembership, searchPeople } from '../queries.js';
import { canSee } from '../roles.js';
import { assertSteppedUp } from '../session-auth.js';
import { countLiveSessions } from '../sessions.js';
import { affiliationTimelineSvg } from '../timeline-svg.js';
import { formError, parseForm } from './forms.js';

const grantForm = z.object({
  entitlement: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/),
  reason: z.string().trim().min(1).max(1000),
  validTo: z
    .string()
    .optional()
    .transform((s) => (s ? new Date(`${s}T00:00:00+09:00`) : undefined))
    .refine((d) => d === undefined || !Number.isNaN(d.getTime())),
});

export async function peopleSearchPage(c: PageContext): Promise<void> {
  const { t } = c;
  const q = typeof c.req.query.q === 'string' ? c.req.query.q.slice(0, 64) : '';
  const hits = await searchPeople(c.deps.db, c.now, q);
  const body = html`<form method="get" action="/console/people" role="search" class="inline-form">
      <label for="q">${t('people.search')}</label>
      <input id="q" name="q" type="search" value="${q}" autocomplete="off">
      <button type="submit">${t('people.searchButton')}</button>
    </form>
    <div class="table-wrap"><table><caption class="sr-only">${t('people.results')}</caption>
      <thead><tr><th scope="col">${t('col.person')}</th><th scope="col">${t('col.company')}</th></tr></thead>
      <tbody>${hits.map((p) => html`<tr><td><a href="/console/people/${p.id}">${p.id} ${p.name}</a></td><td>${p.company ? html`${p.company} <span class="badge kind-${p.kind}">${label(t, `kind.${p.kind}`, p.kind ?? '')}</span>` : t('rv.noCompany')}</td></tr>`)}</tbody>
    </table></div>`;
  c.res.type('html').send(layout(c, { title: t('people.title'), current: 'people', body }).value);
}

export async function personPage(c: PageContext, personId: string, error?: string): Promise<void> {
  const { t, deps, now } = c;
  const person = await getPersonAt(deps.db, personId, now);
  const timeline = await listAffiliations(deps.db, personId);
  const credentials = await listPersonCredentials(deps.db, personId);
  const grants = await listPersonGrants(deps.db, personId, now);
  const findings = await listFindingsFor(deps.db, { personId }, 50);
  const sessions = await countLiveSessions(deps.db, personId, now);
  const roster = await rosterMembership(deps.db, personId);
  const company = await findEffectiveCompanyAt(deps.db, personId, now);
  const mayGrant = canSee(c.identity, 'secrets'); // admin
  const entitlements = mayGrant ? await listEntitlementChoices(deps.db) : [];
  const nonWheeling = company?.rulesKind !== 'wheeling';
  const body = html`
    <dl class="facts">
      <dt>${t('person.status')}</dt><dd>${label(t, `person.status.${person.status}`, person.status)}</dd>
      <dt>${t('col.company')}</dt><dd>${person.affiliation ? html`${person.affiliation.company} <span class="badge kind-${person.affiliation.companyKind}">${label(t, `kind.${person.affiliation.companyKind}`, person.affiliation.companyKind)}</span> ${person.affiliation.orgUnit ?? ''}` : t('rv.noCompany')}</dd>
      <dt>${t('person.roster')}</dt><dd>${roster ? roster.join(', ') : '—'}</dd>
      <dt>${t('person.sessions')}</dt><dd>${sessions}</dd>
    </dl>
    <section aria-labelledby="tl-h"><h2 id="tl-h">${t('person.timeline')}</h2>
      <figure class="timeline-figure">
        ${affiliationTimelineSvg({ segments: timeline, now, lang: c.lang, title: t('person.timelineOf', { who: personId }), nowLabel: t('tl.now'), id: 'tl-main' })}
        <figcaption><span class="legend kind-wheeling">${t('kind.wheeling')}</span> <span class="legend kind-retail">${t('kind.retail')}</span> <span class="legend kind-contractor">${t('kind.contractor')}</span> <span class="legend kind-other">${t('kind.other')}</span></figcaption>
      </figure>
      <ol class="plain">${timeline.map((s) => html`<li>${day(c, s.validFrom)} – ${s.validTo ? day(c, s.validTo) : t('tl.open')}: ${s.company} (${label(t, `kind.${s.companyKind}`, s.companyKind)}) ${s.orgUnit ?? ''}</li>`)}</ol>
    </section>
    <section aria-labelledby="cr-h"><h2 id="cr-h">${t('person.credentials')}</h2>
      <div class="table-wrap"><table><caption class="sr-only">${t('person.credentials')}</caption>
        <thead><tr><th scope="col">${t('col.type')}</th><th scope="col">${t('col.detail')}</th><th scope="col">${t('col.company')}</th><th scope="col">${t('col.status')}</th><th scope="col">${t('col.created')}</th></tr></thead>
        <tbody>${credentials.map((cr) => html`<tr><td>${label(t, `cred.${cr.type}`, cr.type)}</td><td>${cr.loginId ? `${cr.system}:${cr.loginId}` : (cr.badgeId ?? '')}</td><td>${cr.companyCode}</td>
          <td>${cr.revokedAt ? html`<span class="badge revoked">${t('status.revoked')}</span> ${cr.revokedReason ?? ''}` : html`<span class="badge ok">${t('status.active')}</span>`}</td><td>${when(c, cr.createdAt)}</td></tr>`)}</tbody>
      </table></div>
    </section>
    <section aria-labelledby="gr-h"><h2 id="gr-h">${t('person.grants')}</h2>
      <div class="table-wrap"><table><caption class="sr-only">${t('person.grants')}</caption>
        <thead><tr><th scope="col">${t('col.entitlement')}</th><th scope="col">${t('col.status')}</th><th scope="col">${t('col.from')}</th><th scope="col">${t('col.reason')}</th></tr></thead>
        <tbody>${grants.map((g) => html`<tr><td>${g.entitlement} <span class="muted">${g.system}</span></td><td>${label(t, `status.${g.status}`, g.status)} ${g.revokedReason ?? ''}</td><td>${day(c, g.validFrom)}</td><td>${g.reason}</td></tr>`)}</tbody>
      </table></div>
      ${mayGrant && person.affiliation
        ? html`<form method="post" action="/console/people/${personId}/grants" class="card" ${nonWheeling ? html`data-step-up` : ''}>
        <h3>${t('grant.title')}</h3>
        ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
        ${csrfField(c)}
        <label for="ent">${t('col.entitlement')}</label>
        <select id="ent" name="entitlement" required>${entitlements.map((e) => html`<option value="${e.code}">${e.code} — ${e.name} (${e.allowed.join(', ')})</option>`)}</select>
        <label for="greason">${t('col.reason')}</label><input id="greason" name="reason" required maxlength="1000">
        <label for="gto">${t('grant.validTo')}</label><input id="gto" name="validTo" type="date">
        ${nonWheeling ? html`<p class="note">${t('grant.nonWheeling')}</p>` : ''}
        <button type="submit" class="primary">${t('grant.button')}</button>
      </form>`
        : ''}
    </section>
    <section aria-labelledby="fi-h"><h2 id="fi-h">${t('nav.findings')}</h2>
      ${findings.length === 0 ? html`<p>—</p>` : html`<ul class="plain">${findings.map((f) => html`<li><span class="sev sev-${f.severity}">${label(t, `sev.${f.severity}`, f.severity)}</span> ${label(t, `rule.${f.rule}`, f.rule)} · ${label(t, `fstatus.${f.status}`, f.status)} · ${when(c, f.lastSeen)} (${f.count})</li>`)}</ul>`}
    </section>`;
  c.res.status(error ? 400 : 200).type('html').send(layout(c, { title: `${person.name} (${person.id})`, current: 'people', body }).value);
}

/** Granting: a sensitive act when the person is not judged as the wheeling company. */
export async function grantAction(c: PageContext, personId: string): Promise<void> {
  const company = await findEffectiveCompanyAt(c.deps.db, personId, c.now);
  if (company?.rulesKind !== 'wheeling') assertSteppedUp(c.session, c.now);
  const parsed = parseForm(grantForm, c.req.body);
  if (!parsed.ok) return personPage(c, personId, formError(c, parsed.errors));
  await createGrant({ db: c.deps.db, now: c.now, actor: `console:${c.identity.personId}`, personId, entitlement: parsed.data.entitlement, reason: parsed.data.reason, validTo: parsed.data.validTo });
  c.res.redirect(303, `/console/people/${personId}?done=granted`);
}
