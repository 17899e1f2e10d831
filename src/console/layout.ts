import type { Request, Response } from 'express';
import type { AppDeps } from '../http/deps.js';
import { html, type Html } from './html.js';
import { formatDate, formatInstant, type Lang, type Translate } from './i18n/index.js';
import { canSee, type ConsoleIdentity, type ConsolePage } from './roles.js';
import { STEP_UP_MS, type ConsoleSession } from './sessions.js';

/** Everything a page handler needs about the request. */
export interface PageContext {
  deps: AppDeps;
  req: Request;
  res: Response;
  now: Date;
  lang: Lang;
  t: Translate;
  session: ConsoleSession;
  identity: ConsoleIdentity;
  csrf: string;
}

export const when = (c: { lang: Lang }, d: Date | null | undefined): Html =>
  d ? html`<time datetime="${d.toISOString()}">${formatInstant(c.lang, d)}</time>` : html`—`;
export const day = (c: { lang: Lang }, d: Date | null | undefined): Html =>
  d ? html`<time datetime="${d.toISOString()}">${formatDate(c.lang, d)}</time>` : html`—`;

/** Hidden CSRF field for every form that changes something. */
export const csrfField = (c: PageContext): Html => html`<input type="hidden" name="_csrf" value="${c.csrf}">`;

/** Milliseconds of step-up left at render time (the page's script counts down from there). */
export const stepUpLeftMs = (c: PageContext): number =>
  c.session.steppedUpAt ? Math.max(0, STEP_UP_MS - (c.now.getTime() - c.session.steppedUpAt.getTime())) : 0;

const NAV: { page: ConsolePage; href: string; key: Parameters<Translate>[0] }[] = [
  { page: 'dashboard', href: '/console', key: 'nav.dashboard' },
  { page: 'emergencies', href: '/console/emergencies', key: 'nav.emergencies' },
  { page: 'reviews', href: '/console/reviews', key: 'nav.reviews' },
  { page: 'campaigns', href: '/console/campaigns', key: 'nav.campaigns' },
  { page: 'people', href: '/console/people', key: 'nav.people' },
  { page: 'findings', href: '/console/findings', key: 'nav.findings' },
  { page: 'reports', href: '/console/reports', key: 'nav.reports' },
  { page: 'secrets', href: '/console/secrets', key: 'nav.secrets' },
  { page: 'account', href: '/console/account', key: 'nav.account' },
];

export function langSwitch(c: { lang: Lang; req: Request }): Html {
  const path = c.req.path;
  return html`<nav class="lang" aria-label="Language / 言語">
    <a href="${path}?lang=ja" lang="ja" hreflang="ja" ${c.lang === 'ja' ? html`aria-current="true"` : ''}>日本語</a>
    <a href="${path}?lang=en" lang="en" hreflang="en" ${c.lang === 'en' ? html`aria-current="true"` : ''}>English</a>
  </nav>`;
}

/** A complete page: skip link, header with who is signed in, navigation by role, main content. */
export function layout(c: PageContext, opts: { title: string; body: Html; current?: ConsolePage; flash?: string | undefined }): Html {
  const { t, identity } = c;
  const flash = opts.flash ?? (typeof c.req.query.done === 'string' ? c.req.query.done : undefined);
  return html`<!doctype html>
<html lang="${c.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${c.csrf}">
<title>${opts.title} — ${t('app.name')}</title>
<link rel="stylesheet" href="/console/assets/console.css">
</head>
<body data-step-up-left-ms="${stepUpLeftMs(c)}" data-lang="${c.lang}">
<a class="skip" href="#main">${t('nav.skip')}</a>
<header class="top">
  <div class="brand"><a href="/console">${t('app.name')}</a></div>
  <div class="who"><span>${identity.name} (${identity.personId})</span> <span class="muted">${identity.companyName}</span></div>
  ${langSwitch(c)}
  <form method="post" action="/console/logout" class="logout">${csrfField(c)}<button type="submit">${t('nav.signOut')}</button></form>
</header>
<nav class="main-nav" aria-label="${t('nav.label')}"><ul>
  ${NAV.filter((n) => canSee(identity, n.page)).map(
    (n) => html`<li><a href="${n.href}" ${opts.current === n.page ? html`aria-current="page"` : ''}>${t(n.key)}</a></li>`,
  )}
</ul></nav>
<main id="main" tabindex="-1">
  <h1>${opts.title}</h1>
  <div id="status" role="status" aria-live="polite">${flash ? html`<p class="flash">${flashText(t, flash)}</p>` : ''}</div>
  ${opts.body}
</main>
<script src="/console/assets/simplewebauthn-browser.js"></script>
<script src="/console/assets/console.js"></script>
</body>
</html>`;
}

function flashText(t: Translate, code: string): string {
  const key = `done.${code}` as Parameters<Translate>[0];
  const text = t(key);
  return text === key ? t('done.generic') : text;
}

/** A bare page (sign-in, errors before a session exists). */
export function barePage(c: { lang: Lang; t: Translate; req: Request }, opts: { title: string; body: Html; devBanner?: boolean }): Html {
  return html`<!doctype html>
<html lang="${c.lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${opts.title} — ${c.t('app.name')}</title>
<link rel="stylesheet" href="/console/assets/console.css"></head>
<body>
${opts.devBanner ? html`<div class="dev-banner" role="note">${c.t('signin.devBanner')}</div>` : ''}
<header class="top"><div class="brand">${c.t('app.name')}</div>${langSwitch(c)}</header>
<main id="main" class="narrow"><h1>${opts.title}</h1>${opts.body}</main>
</body></html>`;
}

/** A dictionary entry built from data (a rule code, a status), or the raw value when there is none. */
export function label(t: Translate, key: string, fallback: string): string {
  const s = t(key as Parameters<Translate>[0]);
  return s === key ? fallback : s;
}
