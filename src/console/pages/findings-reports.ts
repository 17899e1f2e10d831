import { z } from 'zod';
import { listEmergencies } from '../../emergency/declarations.js';
import { emergencyReport, emergencyReportCsv } from '../../emergency/report.js';
import { toCsv } from '../../http/csv.js';
import { campaignEvidence, campaignEvidenceCsv } from '../../reviews/campaigns.js';
import { html } from '../html.js';
import { label, layout, when, type PageContext } from '../layout.js';
import { campaignsWithProgress, findingRules, listFindingsFor, type FindingRow } from '../queries.js';

const filterQuery = z.object({
  status: z.enum(['open', 'acknowledged', 'resolved', 'all']).catch('open'),
  rule: z.string().regex(/^[a-z0-9-]{1,64}$/).optional().catch(undefined),
});

const findingsCsv = (rows: FindingRow[]) =>
  toCsv(rows, [
    { header: 'id', value: (f) => f.id },
    { header: 'rule', value: (f) => f.rule },
    { header: 'severity', value: (f) => f.severity },
    { header: 'person_id', value: (f) => f.personId },
    { header: 'terminal_id', value: (f) => f.terminalId },
    { header: 'first_seen', value: (f) => f.firstSeen },
    { header: 'last_seen', value: (f) => f.lastSeen },
    { header: 'count', value: (f) => f.count },
    { header: 'status', value: (f) => f.status },
  ]);

export async function findingsPage(c: PageContext): Promise<void> {
  const { t, deps } = c;
  const q = filterQuery.parse({ status: c.req.query.status ?? 'open', rule: c.req.query.rule || undefined });
  const rows = await listFindingsFor(deps.db, { status: q.status === 'all' ? undefined : q.status, rule: q.rule }, 500);
  const rules = await findingRules(deps.db);
  const body = html`<form method="get" action="/console/findings" class="inline-form" aria-label="${t('fi.filter')}">
      <label for="fstatus">${t('col.status')}</label>
      <select id="fstatus" name="status">${['open', 'acknowledged', 'resolved', 'all'].map((s) => html`<option value="${s}" ${q.status === s ? html`selected` : ''}>${label(t, `fstatus.${s}`, s)}</option>`)}</select>
      <label for="frule">${t('fi.rule')}</label>
      <select id="frule" name="rule"><option value="">${t('fi.allRules')}</option>${rules.map((r) => html`<option value="${r}" ${q.rule === r ? html`selected` : ''}>${label(t, `rule.${r}`, r)}</option>`)}</select>
      <button type="submit">${t('fi.apply')}</button>
      <a href="/console/reports/findings.csv?status=${q.status}${q.rule ? `&rule=${q.rule}` : ''}" download>${t('fi.csv')}</a>
    </form>
    ${rows.length === 0 ? html`<p>${t('fi.none')}</p>` : html`<div class="table-wrap"><table><caption class="sr-only">${t('nav.findings')}</caption>
      <thead><tr><th scope="col">${t('col.severity')}</th><th scope="col">${t('fi.rule')}</th><th scope="col">${t('col.person')}</th><th scope="col">${t('col.terminal')}</th><th scope="col">${t('fi.seen')}</th><th scope="col">${t('fi.count')}</th><th scope="col">${t('col.status')}</th></tr></thead>
      <tbody>${rows.map((f) => html`<tr><td><span class="sev sev-${f.severity}">${label(t, `sev.${f.severity}`, f.severity)}</span></td><td>${label(t, `rule.${f.rule}`, f.rule)}<br><code>${f.rule}</code></td>
        <td>${f.personId ? html`<a href="/console/people/${f.personId}">${f.personId}</a>` : '—'}</td><td>${f.terminalId ?? '—'}</td><td>${when(c, f.firstSeen)} – ${when(c, f.lastSeen)}</td><td>${f.count}</td><td>${label(t, `fstatus.${f.status}`, f.status)}</td></tr>`)}</tbody>
    </table></div>`}`;
  c.res.type('html').send(layout(c, { title: t('fi.title'), current: 'findings', body }).value);
}

export async function reportsPage(c: PageContext): Promise<void> {
  const { t, deps, now } = c;
  const emergencies = (await listEmergencies(deps.db, now)).slice(0, 30);
  const campaigns = [...(await campaignsWithProgress(deps.db, 'open', 30)), ...(await campaignsWithProgress(deps.db, 'closed', 30))];
  const body = html`
    <section aria-labelledby="r-fi"><h2 id="r-fi">${t('nav.findings')}</h2>
      <ul class="plain"><li><a href="/console/reports/findings.csv?status=open" download>${t('rp.findingsOpen')}</a></li>
      <li><a href="/console/reports/findings.csv?status=all" download>${t('rp.findingsAll')}</a></li></ul></section>
    <section aria-labelledby="r-em"><h2 id="r-em">${t('rp.emergencies')}</h2>
      ${emergencies.length === 0 ? html`<p>—</p>` : html`<ul class="plain">${emergencies.map((e) => html`<li><a href="/console/reports/emergencies/${e.id}.csv" download>${e.areas.join(', ')} — ${e.reason}</a> (${when(c, e.declaredAt)})</li>`)}</ul>`}</section>
    <section aria-labelledby="r-cp"><h2 id="r-cp">${t('rp.campaigns')}</h2>
      ${campaigns.length === 0 ? html`<p>—</p>` : html`<ul class="plain">${campaigns.map((o) => html`<li><a href="/console/reports/campaigns/${o.id}.csv" download>${o.name}</a> (${label(t, `cp.status.${o.status}`, o.status)})</li>`)}</ul>`}</section>
    <section aria-labelledby="r-np"><h2 id="r-np">${t('rp.nonpublic')}</h2>
      <form method="get" action="/console/reports/nonpublic-access.csv" class="inline-form">
        <label for="np-from">${t('rp.from')}</label><input id="np-from" name="from" type="date" required value="${jstDate(new Date(now.getTime() - 30 * 86400_000))}">
        <label for="np-to">${t('rp.to')}</label><input id="np-to" name="to" type="date" required value="${jstDate(new Date(now.getTime() + 86400_000))}">
        <button type="submit">${t('rp.download')}</button>
      </form>
      <p class="muted">${t('rp.nonpublicHelp')}</p></section>
    <p class="muted">${t('rp.api')}</p>`;
  c.res.type('html').send(layout(c, { title: t('rp.title'), current: 'reports', body }).value);
}

/** The calendar day in Japan time, as <input type=date> shows it. */
const jstDate = (d: Date): string => new Date(d.getTime() + 9 * 3600_000).toISOString().slice(0, 10);
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/**
 * The non-public access report is detection's (GET /v1/reports/nonpublic-access, scope audit):
 * the console turns the form's days (Japan time) into its instants and hands over, so the
 * download rides on the session like any API read.
 */
export async function nonpublicReportRedirect(c: PageContext): Promise<void> {
  const from = day.safeParse(c.req.query.from);
  const to = day.safeParse(c.req.query.to);
  if (!from.success || !to.success) return void c.res.redirect(303, '/console/reports');
  const q = new URLSearchParams({ from: `${from.data}T00:00:00+09:00`, to: `${to.data}T00:00:00+09:00`, format: 'csv' });
  c.res.redirect(303, `/v1/reports/nonpublic-access?${q}`);
}

const csv = (c: PageContext, filename: string, text: string) =>
  void c.res.status(200).type('text/csv; charset=utf-8').setHeader('content-disposition', `attachment; filename="${filename}"`).send(text);

export async function findingsCsvDownload(c: PageContext): Promise<void> {
  const q = filterQuery.parse({ status: c.req.query.status ?? 'open', rule: c.req.query.rule || undefined });
  csv(c, `findings-${q.status}.csv`, findingsCsv(await listFindingsFor(c.deps.db, { status: q.status === 'all' ? undefined : q.status, rule: q.rule }, 100_000)));
}

export async function emergencyCsvDownload(c: PageContext, id: string): Promise<void> {
  const report = await emergencyReport(c.deps.db, id);
  csv(
    c,
    `emergency-${id}.csv`,
    emergencyReportCsv(report.decisions),
  );
}

export async function campaignCsvDownload(c: PageContext, id: string): Promise<void> {
  const { items } = await campaignEvidence(c.deps.db, id);
  csv(
    c,
    `review-${id}.csv`,
    campaignEvidenceCsv(items),
  );
}
