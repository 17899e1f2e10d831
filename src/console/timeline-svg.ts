import type { AffiliationView } from '../affiliation/persons.js';
import { html, type Html } from './html.js';
import { formatDate, type Lang } from './i18n/index.js';

const KIND_COLOURS: Record<string, { fill: string; text: string }> = {
  wheeling: { fill: '#1f5fae', text: '#ffffff' },
  retail: { fill: '#c45a00', text: '#ffffff' },
  contractor: { fill: '#6b3fa0', text: '#ffffff' },
  other: { fill: '#5f6368', text: '#ffffff' },
};

const YEAR = 365.25 * 24 * 3600_000;

/**
 * A person's affiliation timeline as a picture: one bar per affiliation on a time axis, coloured
 * by the kind of company (wheeling, retail, contractor), gaps left empty, "now" marked. Scales to
 * its container (viewBox); a <title>/<desc> pair and the caller's text list make it readable
 * without sight.
 */
export function affiliationTimelineSvg(opts: {
  segments: AffiliationView[];
  now: Date;
  lang: Lang;
  title: string;
  nowLabel: string;
  compact?: boolean;
  /** Unique on the page: names the title and description for assistive technology. */
  id: string;
}): Html {
  const { segments, now, lang } = opts;
  const W = opts.compact ? 240 : 800;
  const H = opts.compact ? 44 : 96;
  const barY = opts.compact ? 6 : 18;
  const barH = opts.compact ? 22 : 36;
  const pad = 8;
  const starts = segments.map((s) => s.validFrom.getTime());
  const ends = segments.map((s) => (s.validTo ?? now).getTime());
  let from = Math.min(now.getTime() - YEAR, ...starts);
  const to = Math.max(now.getTime(), ...ends, ...starts) + YEAR / 6;
  from -= (to - from) * 0.02;
  const x = (t: number) => pad + ((t - from) / (to - from)) * (W - 2 * pad);
  const desc = segments
    .map((s) => `${s.company} (${s.companyKind})${s.orgUnit ? ' ' + s.orgUnit : ''}: ${formatDate(lang, s.validFrom)} – ${s.validTo ? formatDate(lang, s.validTo) : '…'}`)
    .join('; ');

  const years: number[] = [];
  const firstYear = new Date(from).getUTCFullYear() + 1;
  const lastYear = new Date(to).getUTCFullYear();
  const step = Math.max(1, Math.ceil((lastYear - firstYear + 1) / (opts.compact ? 4 : 10)));
  for (let y = firstYear; y <= lastYear; y += step) years.push(y);

  const bars = segments.map((s) => {
    const x1 = x(s.validFrom.getTime());
    const x2 = x((s.validTo ?? new Date(to)).getTime());
    const c = KIND_COLOURS[s.companyKind] ?? KIND_COLOURS.other!;
    const label = opts.compact ? s.company : `${s.company}${s.orgUnit ? ' · ' + s.orgUnit : ''}`;
    const fits = x2 - x1 > label.length * (opts.compact ? 8 : 9) + 8;
    return html`<g>
      <rect x="${x1.toFixed(1)}" y="${barY}" width="${Math.max(2, x2 - x1).toFixed(1)}" height="${barH}" rx="3" fill="${c.fill}" ${s.validTo ? '' : html`fill-opacity="0.92"`}></rect>
      ${fits ? html`<text x="${(x1 + 6).toFixed(1)}" y="${barY + barH / 2 + 5}" fill="${c.text}" font-size="${opts.compact ? 12 : 14}">${label}</text>` : ''}
    </g>`;
  });
  const nowX = x(now.getTime());
  return html`<svg class="timeline" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${opts.id}-t ${opts.id}-d"  xmlns="http://www.w3.org/2000/svg">
  <title id="${opts.id}-t">${opts.title}</title>
  <desc id="${opts.id}-d">${desc || '—'}</desc>
  <line x1="${pad}" y1="${barY + barH + 2}" x2="${W - pad}" y2="${barY + barH + 2}" stroke="#9aa0a6" stroke-width="1"></line>
  ${opts.compact ? '' : years.map((y) => {
    const tx = x(Date.UTC(y, 0, 1) - 9 * 3600_000);
    return html`<g><line x1="${tx.toFixed(1)}" y1="${barY + barH + 2}" x2="${tx.toFixed(1)}" y2="${barY + barH + 8}" stroke="#9aa0a6"></line><text x="${(tx + 2).toFixed(1)}" y="${H - 4}" font-size="12" fill="#3c4043">${y}</text></g>`;
  })}
  ${bars}
  <line x1="${nowX.toFixed(1)}" y1="2" x2="${nowX.toFixed(1)}" y2="${barY + barH + 4}" stroke="#d93025" stroke-width="2" stroke-dasharray="4 2"></line>
  ${opts.compact ? '' : html`<text x="${(nowX - 4).toFixed(1)}" y="12" font-size="12" text-anchor="end" fill="#d93025">${opts.nowLabel}</text>`}
</svg>`;
}
