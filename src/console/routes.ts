import { randomBytes } from 'node:crypto';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { Keyring } from '../credentials/encryption.js';
import { appendAudit } from '../audit/chain.js';
import { withTx } from '../db/tx.js';
import { common, DomainError } from '../errors.js';
import type { AppDeps } from '../http/deps.js';
import { serveAsset } from './assets.js';
import { clearCookie, cookieNames, readCookie, setCookie } from './cookies.js';
import { devIdpIssuer, mountDevIdp, newDevIdpClient } from './dev-idp.js';
import { consoleProblems } from './errors.js';
import { html } from './html.js';
import { pickLang, translator, type Lang, type Translate } from './i18n/index.js';
import { barePage, layout, type PageContext } from './layout.js';
import { LOGIN_TTL_MS, ConsoleRelyingParty } from './oidc.js';
import { accountPage, registrationOptions, registrationVerify, rotateAction, secretsPage, stepUpOptions, stepUpVerify } from './pages/account.js';
import { dashboardPage } from './pages/dashboard.js';
import { approveAction, declareAction, emergenciesPage, emergencyDecisionsFragment, emergencyPage, endAction, extendAction } from './pages/emergencies.js';
import { campaignCsvDownload, emergencyCsvDownload, findingsCsvDownload, findingsPage, nonpublicReportRedirect, reportsPage } from './pages/findings-reports.js';
import { grantAction, peopleSearchPage, personPage } from './pages/people.js';
import { bulkAction, bulkConfirmPage, campaignsPage, closeCampaignAction, decideAction, inboxPage } from './pages/reviews.js';
import { canSee, consoleIdentity, homeOf, type ConsolePage } from './roles.js';
import { checkCsrf, isSecure, sessionFromRequest } from './session-auth.js';
import { createConsoleSession, csrfToken, endConsoleSession } from './sessions.js';

type Kind = 'html' | 'json';

/**
 * The console: server-rendered pages under /console, signed in through OpenID Connect, with
 * server-side sessions. Pages call the capabilities' domain functions directly (as the API
 * routes do); what a person may see and do comes from roles.ts, and sensitive acts need a
 * fresh passkey step-up.
 */
export function mountConsole(router: Router, deps: AppDeps): void {
  const { config, logger } = deps;
  const secure = isSecure(deps);
  const names = cookieNames(secure);
  const origin = new URL(config.publicUrl).origin;

  if (!deps.keyring && (config.console.devIdp || config.oidc.issuer)) {
    logger.warn('SEKISHO_ENCRYPTION_KEYS is not set: console sign-ins are sealed with a per-process key, so a sign-in must finish on the replica that started it');
  }
  const keyring = deps.keyring ?? new Keyring([{ id: 'process', key: randomBytes(32) }]);
  let rp: ConsoleRelyingParty | undefined;
  if (config.console.devIdp) {
    const client = newDevIdpClient(config.publicUrl);
    mountDevIdp(router, deps, client);
    rp = new ConsoleRelyingParty({ issuer: devIdpIssuer(config.publicUrl), ...client, personClaim: config.oidc.personClaim, allowHttp: true, authorizationParams: { prompt: 'login' }, keyring, logger });
  } else if (config.oidc.issuer) {
    rp = new ConsoleRelyingParty({
      issuer: config.oidc.issuer,
      clientId: config.oidc.clientId!,
      clientSecret: config.oidc.clientSecret,
      redirectUri: `${origin}/console/callback`,
      personClaim: config.oidc.personClaim,
      allowHttp: false,
      keyring,
      logger,
    });
  }

  const bare = (req: Request, res: Response) => {
    const { lang, explicit } = pickLang(req, readCookie(req, names.lang));
    if (explicit) setCookie(res, names.lang, lang, { secure, maxAgeSeconds: 365 * 86400 });
    return { lang, t: translator(lang), req };
  };

  const errorPage = (c: { lang: Lang; t: Translate; req: Request }, res: Response, err: DomainError, ctx?: PageContext) => {
    const stepUp = err.code === consoleProblems.stepUpRequired('').code;
    const title = stepUp ? c.t('stepup.title') : err.status === 403 ? c.t('err.forbidden') : err.status === 404 ? c.t('err.notFound') : c.t('err.title');
    const body = html`<div class="card alert" role="alert">
      <p>${stepUp ? c.t('stepup.explain') : err.message}</p>
      ${stepUp ? html`<p><button type="button" id="step-up-now" class="primary">${c.t('acc.stepUpNow')}</button></p><p class="muted">${c.t('stepup.thenRetry')}</p>` : ''}
      <p class="muted"><code>${err.code}</code></p>
      <p><a href="${ctx ? '/console' : '/console/login'}">${c.t('err.back')}</a></p></div>`;
    res.status(err.status).type('html').send((ctx ? layout(ctx, { title, body }) : barePage(c, { title, body })).value);
  };

  async function context(req: Request, res: Response): Promise<PageContext | undefined> {
    const now = deps.clock();
    const b = bare(req, res);
    const s = await sessionFromRequest(deps, req, now);
    if (!s) return undefined;
    return { deps, req, res, now, lang: b.lang, t: b.t, session: s.session, identity: s.identity, csrf: csrfToken(s.session) };
  }

  const parsers: Record<Kind, RequestHandler> = {
    html: express.urlencoded({ extended: false, limit: '256kb', parameterLimit: 2000 }),
    json: express.json({ limit: '160kb' }),
  };

  /** A console route: session, role, CSRF on writes; DomainErrors as pages (html) or problems (json). */
  function page(need: ConsolePage | null, handler: (c: PageContext) => Promise<void>, kind: Kind = 'html'): RequestHandler[] {
    const run: RequestHandler = async (req, res, next) => {
      const c = await context(req, res);
      try {
        if (!c) {
          if (kind === 'html' && req.method === 'GET') return res.redirect(303, `/console/login?returnTo=${encodeURIComponent(req.originalUrl)}`);
          throw consoleProblems.signInRequired('your console session has ended; sign in again');
        }
        if (need && !canSee(c.identity, need)) throw consoleProblems.roleRequired('your console role does not cover this page');
        checkCsrf(deps, req, c.session, (req.body as Record<string, unknown> | undefined)?._csrf);
        await handler(c);
      } catch (err) {
        if (kind === 'json' || !(err instanceof DomainError)) return next(err);
        if (err.status >= 500) logger.error({ err }, 'console error');
        errorPage(c ?? bare(req, res), res, err, c);
      }
    };
    // Body parsers act only on their own content type, so GETs pass straight through.
    return [parsers[kind], run];
  }

  router.get('/', (_req, res) => res.redirect(302, '/console'));
  // Pages only load their own scripts and styles, post only to themselves, and are never framed.
  router.use('/console', (_req, res, next) => {
    res.setHeader(
      'content-security-policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('referrer-policy', 'same-origin');
    next();
  });
  router.get('/console/assets/:file', serveAsset);

  // ---- sign-in ----
  router.get('/console/login', async (req, res) => {
    const b = bare(req, res);
    const existing = await sessionFromRequest(deps, req, deps.clock());
    if (existing) return res.redirect(303, homeOf(existing.identity));
    const returnTo = safeReturnTo(req.query.returnTo);
    const failed = req.query.error === 'signin';
    const body = rp
      ? html`${failed ? html`<p class="error" role="alert">${b.t('signin.failed')}</p>` : ''}
        <p>${b.t('signin.intro')}</p>
        <p><a class="button-link primary" id="sign-in" href="/console/login/start?returnTo=${encodeURIComponent(returnTo)}">${config.console.devIdp ? b.t('signin.withDev') : b.t('signin.withOrg')}</a></p>
        ${config.console.devIdp ? html`<p class="note">${b.t('signin.devNote')}</p>` : ''}`
      : html`<p class="error" role="alert">${b.t('signin.notConfigured')}</p>`;
    res.status(rp ? 200 : 503).type('html').send(barePage(b, { title: b.t('signin.title'), body, devBanner: config.console.devIdp }).value);
  });

  router.get('/console/login/start', async (req, res) => {
    if (!rp) throw consoleProblems.notConfigured('set OIDC_ISSUER and OIDC_CLIENT_ID, or run in demo mode');
    const { url, cookie } = await rp.start(safeReturnTo(req.query.returnTo), deps.clock());
    setCookie(res, names.login, cookie, { secure, maxAgeSeconds: LOGIN_TTL_MS / 1000 });
    res.redirect(303, url.href);
  });

  router.get('/console/callback', async (req, res) => {
    const b = bare(req, res);
    if (!rp) throw consoleProblems.notConfigured('console sign-in is not configured');
    const now = deps.clock();
    clearCookie(res, names.login, secure);
    try {
      const callbackUrl = new URL(req.originalUrl, origin);
      const { personId, returnTo, subject } = await rp.finish(callbackUrl, readCookie(req, names.login), now);
      const identity = await consoleIdentity(deps.db, now, config, personId);
      if (!identity) {
        await withTx(deps.db, (tx) =>
          appendAudit(tx, now, { actor: `oidc:${subject}`, action: 'console-session.refused', subjectType: 'person', subjectId: personId, data: { reason: 'not-affiliated-or-unknown' } }),
        );
        throw consoleProblems.roleRequired(b.t('signin.notAffiliated'));
      }
      const { id } = await createConsoleSession({ db: deps.db, now, personId, minutes: config.console.sessionMinutes, via: config.console.devIdp ? 'dev-idp' : 'oidc' });
      setCookie(res, names.session, id, { secure, maxAgeSeconds: config.console.sessionMinutes * 60 });
      res.redirect(303, returnTo === '/console' ? homeOf(identity) : returnTo);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      errorPage(b, res, err);
    }
  });

  router.post('/console/logout', ...page(null, async (c) => {
    await endConsoleSession({ db: deps.db, now: c.now, session: c.session, reason: 'signed-out' });
    clearCookie(c.res, names.session, secure);
    c.res.redirect(303, '/console/login');
  }));

  // ---- pages ----
  const param = (c: PageContext, name: string) => {
    const v = c.req.params[name];
    if (typeof v !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(v)) throw common.notFound('no such page');
    return v;
  };
  const uuidParam = (c: PageContext, name: string) => {
    const v = param(c, name);
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) throw common.notFound('no such page');
    return v;
  };

  router.get('/console', ...page(null, async (c) => (canSee(c.identity, 'dashboard') ? dashboardPage(c) : void c.res.redirect(303, homeOf(c.identity)))));
  router.get('/console/account', ...page('account', accountPage));
  router.post('/console/passkeys/options', ...page('account', registrationOptions, 'json'));
  router.post('/console/passkeys/verify', ...page('account', registrationVerify, 'json'));
  router.post('/console/step-up/options', ...page('account', stepUpOptions, 'json'));
  router.post('/console/step-up/verify', ...page('account', stepUpVerify, 'json'));

  router.get('/console/emergencies', ...page('emergencies', (c) => emergenciesPage(c)));
  router.post('/console/emergencies', ...page('emergency-acts', declareAction));
  router.get('/console/emergencies/:id', ...page('emergencies', (c) => emergencyPage(c, uuidParam(c, 'id'))));
  router.get('/console/emergencies/:id/decisions', ...page('emergencies', (c) => emergencyDecisionsFragment(c, uuidParam(c, 'id'))));
  router.post('/console/emergencies/:id/end', ...page('emergency-acts', (c) => endAction(c, uuidParam(c, 'id'))));
  router.post('/console/emergencies/:id/extend', ...page('emergency-acts', (c) => extendAction(c, uuidParam(c, 'id'))));
  router.post('/console/emergencies/:id/approve', ...page('emergency-acts', (c) => approveAction(c, uuidParam(c, 'id'))));

  router.get('/console/reviews', ...page('reviews', inboxPage));
  router.post('/console/reviews/items/:id/decision', ...page('reviews', (c) => decideAction(c, param(c, 'id'))));
  router.post('/console/reviews/bulk', ...page('reviews', bulkConfirmPage));
  router.post('/console/reviews/bulk/confirm', ...page('reviews', bulkAction));
  router.get('/console/campaigns', ...page('campaigns', campaignsPage));
  router.post('/console/campaigns/:id/close', ...page('campaigns', (c) => closeCampaignAction(c, param(c, 'id'))));

  router.get('/console/people', ...page('people', peopleSearchPage));
  router.get('/console/people/:id', ...page('people', (c) => personPage(c, param(c, 'id'))));
  router.post('/console/people/:id/grants', ...page('secrets', (c) => grantAction(c, param(c, 'id'))));

  router.get('/console/findings', ...page('findings', findingsPage));
  router.get('/console/reports', ...page('reports', reportsPage));
  router.get('/console/reports/findings.csv', ...page('reports', findingsCsvDownload));
  router.get('/console/reports/nonpublic-access.csv', ...page('reports', nonpublicReportRedirect));
  router.get('/console/reports/emergencies/:file', ...page('reports', (c) => emergencyCsvDownload(c, csvId(c))));
  router.get('/console/reports/campaigns/:file', ...page('reports', (c) => campaignCsvDownload(c, csvId(c))));

  router.get('/console/secrets', ...page('secrets', (c) => secretsPage(c)));
  router.post('/console/secrets/:id/rotate', ...page('secrets', (c) => rotateAction(c, param(c, 'id'))));

  const csvId = (c: PageContext) => {
    const m = /^([0-9a-f-]{36})\.csv$/i.exec(String(c.req.params.file));
    if (!m) throw common.notFound('no such report');
    return m[1]!;
  };
}

/** Only console paths: never an open redirect. */
function safeReturnTo(v: unknown): string {
  return typeof v === 'string' && /^\/console(\/[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]*)?$/.test(v) && !v.startsWith('//') && !v.includes('\\') ? v : '/console';
}
