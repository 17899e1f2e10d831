import { generateKeyPairSync, randomBytes } from 'node:crypto';
import express, { type Request, type RequestHandler, type Router } from 'express';
import type { Provider } from 'oidc-provider';
import { sql } from 'drizzle-orm';
import { queryRows } from '../db/client.js';
import type { AppDeps } from '../http/deps.js';
import { html } from './html.js';

/**
 * DEVELOPMENT ONLY: an OpenID Provider (panva's oidc-provider) mounted in this process under
 * /dev-idp, whose accounts are the people in Sekisho's own database and which asks for no
 * password: whoever can reach it signs in as anyone. It exists so that `npm start` in demo mode
 * offers a real OpenID Connect sign-in; config.ts turns it on by itself only in demo mode
 * (embedded database, demo seed) and with DATABASE_URL only on SEKISHO_DEV_IDP=on. Its state
 * (interactions, codes, grants) lives in this process's memory.
 */
export interface DevIdpClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export const devIdpIssuer = (publicUrl: string): string => `${new URL(publicUrl).origin}/dev-idp`;

export function newDevIdpClient(publicUrl: string): DevIdpClient {
  return { clientId: 'sekisho-console-dev', clientSecret: randomBytes(32).toString('base64url'), redirectUri: `${new URL(publicUrl).origin}/console/callback` };
}

interface PersonRow {
  id: string;
  name: string;
  email: string | null;
  company: string | null;
  companyName: string | null;
}

export function mountDevIdp(router: Router, deps: AppDeps, rpClient: DevIdpClient): void {
  const issuer = devIdpIssuer(deps.config.publicUrl);
  const { logger, db } = deps;
  logger.warn({ issuer, developmentOnly: true }, 'DEVELOPMENT-ONLY OpenID Provider mounted at /dev-idp: anyone who reaches it signs in as any person, without a password');

  let provider: Promise<{ provider: Provider; handle: ReturnType<Provider['callback']> }> | undefined;
  const get = () =>
    (provider ??= (async () => {
      const { default: Provider } = await import('oidc-provider');
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const p = new Provider(issuer, {
        clients: [
          {
            client_id: rpClient.clientId,
            client_secret: rpClient.clientSecret,
            redirect_uris: [rpClient.redirectUri],
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_basic',
            id_token_signed_response_alg: 'ES256',
          },
        ],
        jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: `dev-${randomBytes(4).toString('hex')}`, alg: 'ES256', use: 'sig' }] },
        cookies: { keys: [randomBytes(32).toString('base64url')] },
        claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'] },
        pkce: { required: () => true },
        ttl: { AuthorizationCode: 60, Interaction: 600, Session: 8 * 3600, Grant: 8 * 3600, AccessToken: 600, IdToken: 600 },
        features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: false } },
        interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/dev-idp/interaction/${interaction.uid}` },
        async findAccount(_ctx: unknown, id: string) {
          const [person] = await queryRows<{ id: string; name: string; email: string | null }>(db, sql`select id, name, email from persons where id = ${id}`);
          if (!person) return undefined;
          return {
            accountId: person.id,
            claims: async () => ({ sub: person.id, name: person.name, preferred_username: person.id, ...(person.email ? { email: person.email } : {}) }),
          };
        },
        async renderError(ctx: { type: string; body: string }, out: Record<string, string>) {
          ctx.type = 'html';
          ctx.body = page('Error', html`<p>${out.error ?? 'error'}: ${out.error_description ?? ''}</p>`).value;
        },
      });
      p.on('server_error', (_ctx: unknown, err: unknown) => logger.error({ err }, 'development OpenID Provider error'));
      return { provider: p, handle: p.callback() };
    })());

  const devOnly: RequestHandler = (_req, res, next) => {
    res.setHeader('x-sekisho-dev-idp', 'development-only');
    next();
  };

  router.get('/dev-idp/interaction/:uid', devOnly, async (req, res) => {
    const { provider: p } = await get();
    const details = await p.interactionDetails(req, res);
    if (details.prompt.name === 'consent') {
      // The console is this provider's only client, first-party: consent is given for it.
      const d = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      const grant = (details.grantId && (await p.Grant.find(details.grantId))) || new p.Grant({ accountId: details.session!.accountId!, clientId: details.params.client_id });
      if (d.missingOIDCScope?.length) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims?.length) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      return p.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    }
    const t = deps.clock().toISOString();
    const people = await queryRows<PersonRow>(
      db,
      sql`select p.id, p.name, p.email, a.company_code as company, c.name as "companyName"
          from persons p
          left join affiliations a on a.person_id = p.id and a.superseded_at is null
            and a.valid_from <= ${t}::timestamptz and (a.valid_to is null or a.valid_to > ${t}::timestamptz)
          left join companies c on c.code = a.company_code
          order by a.company_code is null, c.kind::text is distinct from 'wheeling', a.company_code, p.id limit 2000`,
    );
    res.type('html').send(loginPage(details.uid, people).value);
  });

  const form = express.urlencoded({ extended: false, limit: '8kb' });
  router.post('/dev-idp/interaction/:uid/login', devOnly, form, async (req: Request, res) => {
    const { provider: p } = await get();
    const personId = typeof req.body?.personId === 'string' ? req.body.personId : '';
    const [person] = await queryRows<{ id: string }>(db, sql`select id from persons where id = ${personId}`);
    if (!person) return void res.status(400).type('html').send(page('Unknown person', html`<p>No such person: ${personId}</p>`).value);
    logger.warn({ personId, developmentOnly: true }, 'development OpenID Provider: signed in without a password');
    await p.interactionFinished(req, res, { login: { accountId: person.id, remember: false } }, { mergeWithLastSubmission: false });
  });

  router.post('/dev-idp/interaction/:uid/abort', devOnly, async (req, res) => {
    const { provider: p } = await get();
    await p.interactionFinished(req, res, { error: 'access_denied', error_description: 'the person cancelled the sign-in' }, { mergeWithLastSubmission: false });
  });

  router.use('/dev-idp', devOnly, async (req, res) => {
    const { handle } = await get();
    handle(req, res);
  });
}

const STYLE = `body{font-family:system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;margin:0;background:#fff7f0;color:#1a1a1a}
.banner{background:#b00020;color:#fff;padding:12px 16px;font-weight:700;font-size:1.05rem}
main{max-width:34rem;margin:24px auto;padding:0 16px}label{display:block;font-weight:600;margin:16px 0 6px}
select,button{font-size:1rem;padding:10px;min-height:44px}select{width:100%}button{margin-top:16px;margin-right:8px;cursor:pointer}
button:focus-visible,select:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}.primary{background:#0b57d0;color:#fff;border:0;border-radius:4px}`;

function page(title: string, body: ReturnType<typeof html>) {
  return html`<!doctype html>
<html lang="ja">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} — 開発用 IdP / development-only IdP</title><style>${STYLE}</style></head>
<body>
<div class="banner" role="alert">開発専用の OpenID Provider です。パスワードなしで誰としてでもサインインできます。本番では使わないでください。<br>DEVELOPMENT ONLY — anyone can sign in as anyone here, without a password. Never use in production.</div>
<main>${body}</main>
</body></html>`;
}

function loginPage(uid: string, people: PersonRow[]) {
  const groups = new Map<string, PersonRow[]>();
  for (const p of people) {
    const key = p.company ? `${p.companyName ?? p.company} (${p.company})` : '所属なし / no affiliation';
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  return page(
    'Sign in',
    html`<h1>サインインする人 / Sign in as</h1>
<form method="post" action="/dev-idp/interaction/${uid}/login">
  <label for="person">人 / Person</label>
  <select id="person" name="personId" required>
    ${[...groups.entries()].map(([label, ps]) => html`<optgroup label="${label}">${ps.map((p) => html`<option value="${p.id}">${p.id} ${p.name}</option>`)}</optgroup>`)}
  </select>
  <button type="submit" class="primary">サインイン / Sign in</button>
</form>
<form method="post" action="/dev-idp/interaction/${uid}/abort"><button type="submit">キャンセル / Cancel</button></form>`,
  );
}
