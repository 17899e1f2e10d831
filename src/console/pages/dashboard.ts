import { listEmergencies } from '../../emergency/declarations.js';
import { html } from '../html.js';
import { day, label, layout, when, type PageContext } from '../layout.js';
import { campaignsWithProgress, countOpenFindings, listFindingsFor, reviewInbox, scheduledTransfers } from '../queries.js';
import { canSee } from '../roles.js';

/** Dashboard: active emergencies, open findings, due reviews, scheduled transfers — each as the roles allow. */
export async function dashboardPage(c: PageContext): Promise<void> {
  const { t, deps, now, identity } = c;
  const sections = [];

  if (canSee(identity, 'emergencies')) {
    const active = [...(await listEmergencies(deps.db, now, 'pending_approval')), ...(await listEmergencies(deps.db, now, 'active'))];
    sections.push(html`<section class="card ${active.length ? 'alert' : ''}" aria-labelledby="d-em">
      <h2 id="d-em">${t('dash.emergencies')}</h2>
      ${active.length === 0
        ? html`<p>${t('dash.noEmergency')}</p>`
        : html`<ul class="plain">${active.map(
            (e) => html`<li><a href="/console/emergencies/${e.id}"><strong>${e.areas.join(', ')}</strong></a> — ${e.reason}<br>
              <span class="muted">${t(e.status === 'pending_approval' ? 'em.status.pending_approval' : 'em.status.active')} · ${t('em.expires')} ${when(c, e.expiresAt)}</span></li>`,
          )}</ul>`}
      <p><a href="/console/emergencies">${t('dash.toEmergencies')}</a></p>
    </section>`);
  }

  if (canSee(identity, 'findings')) {
    const counts = await countOpenFindings(deps.db);
    const latest = await listFindingsFor(deps.db, { status: 'open' }, 5);
    sections.push(html`<section class="card" aria-labelledby="d-fi">
      <h2 id="d-fi">${t('dash.findings')}</h2>
      <p class="big">${counts.total}</p>
      <p class="muted">${['critical', 'high', 'medium', 'low'].filter((s) => counts.bySeverity[s]).map((s) => `${label(t, `sev.${s}`, s)} ${counts.bySeverity[s]}`).join(' · ')}</p>
      <ul class="plain">${latest.map((f) => html`<li><span class="sev sev-${f.severity}">${label(t, `sev.${f.severity}`, f.severity)}</span> ${label(t, `rule.${f.rule}`, f.rule)} ${f.personId ? html`— <a href="/console/people/${f.personId}">${f.personId}</a>` : ''}</li>`)}</ul>
      <p><a href="/console/findings">${t('dash.toFindings')}</a></p>
    </section>`);
  }

  if (canSee(identity, 'reviews')) {
    const mine = await reviewInbox(deps.db, now, identity);
    const pending = mine.filter((i) => i.decision === null).length;
    sections.push(html`<section class="card" aria-labelledby="d-rv">
      <h2 id="d-rv">${t('dash.myReviews')}</h2>
      <p class="big">${pending}</p><p class="muted">${t('dash.pendingItems')}</p>
      <p><a href="/console/reviews">${t('dash.toReviews')}</a></p>
    </section>`);
  }
  if (canSee(identity, 'campaigns')) {
    const open = await campaignsWithProgress(deps.db, 'open', 10);
    sections.push(html`<section class="card" aria-labelledby="d-cp">
      <h2 id="d-cp">${t('dash.dueReviews')}</h2>
      ${open.length === 0 ? html`<p>${t('dash.noCampaign')}</p>` : html`<ul class="plain">${open.map(
        (o) => html`<li><a href="/console/campaigns#c-${o.id}">${o.name}</a> — ${t('rv.due')} ${day(c, o.dueAt)} · ${o.decided}/${o.itemCount}</li>`,
      )}</ul>`}
    </section>`);
  }

  if (canSee(identity, 'people')) {
    const changes = await scheduledTransfers(deps.db, now, 10);
    sections.push(html`<section class="card" aria-labelledby="d-tr">
      <h2 id="d-tr">${t('dash.transfers')}</h2>
      ${changes.length === 0 ? html`<p>${t('dash.noTransfers')}</p>` : html`<ul class="plain">${changes.map(
        (s) => html`<li>${day(c, s.effectiveAt)} — <a href="/console/people/${s.personId}">${s.personId} ${s.name}</a>: ${s.type === 'person.left' ? t('hr.left') : html`${t('hr.transferTo')} ${s.company}`}</li>`,
      )}</ul>`}
    </section>`);
  }

  c.res.type('html').send(layout(c, { title: t('dash.title'), current: 'dashboard', body: html`<div class="cards">${sections}</div>` }).value);
}
