import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { z } from 'zod';
import { getSharedSecret, rotateSharedSecret } from '../../credentials/shared-secrets.js';
import { authenticatePasskey, finishPasskeyRegistration, relyingParty, startPasskeyAuthentication, startPasskeyRegistration } from '../../credentials/passkeys.js';
import { authenticationVerifyBody, registrationVerifyBody } from '../../credentials/passkey-routes.js';
import { credentialProblems } from '../../credentials/errors.js';
import { validationError } from '../../http/problem.js';
import { html } from '../html.js';
import { csrfField, label, layout, when, type PageContext } from '../layout.js';
import { challengePerson, listSharedSecretIds, passkeysOf } from '../queries.js';
import { assertSteppedUp } from '../session-auth.js';
import { isSteppedUp, recordStepUp } from '../sessions.js';

const rp = (c: PageContext) => relyingParty(c.deps.config.publicUrl);
const actor = (c: PageContext) => `console:${c.identity.personId}`;

export async function accountPage(c: PageContext): Promise<void> {
  const { t, identity } = c;
  const passkeys = await passkeysOf(c.deps.db, identity.personId);
  const live = passkeys.filter((p) => !p.revokedAt);
  const body = html`
    <dl class="facts">
      <dt>${t('col.person')}</dt><dd>${identity.personId} ${identity.name}</dd>
      <dt>${t('col.company')}</dt><dd>${identity.companyName} (${identity.company}) <span class="badge kind-${identity.companyKind}">${label(t, `kind.${identity.companyKind}`, identity.companyKind)}</span></dd>
      <dt>${t('acc.roles')}</dt><dd>${identity.roles.size ? [...identity.roles].map((r) => label(t, `role.${r}`, r)).join(', ') : t('acc.noRoles')}</dd>
      <dt>${t('acc.stepUp')}</dt><dd id="step-up-state">${isSteppedUp(c.session, c.now) ? t('acc.steppedUp') : t('acc.notSteppedUp')}</dd>
    </dl>
    <section aria-labelledby="pk-h"><h2 id="pk-h">${t('acc.passkeys')}</h2>
      <p>${t('acc.passkeysHelp')}</p>
      ${passkeys.length === 0 ? html`<p id="no-passkey">${t('acc.noPasskey')}</p>` : html`<ul class="plain" id="passkeys">${passkeys.map(
        (p) => html`<li>${t('acc.passkeyUnder', { company: p.company })} · ${t('col.created')} ${when(c, p.createdAt)} · ${p.revokedAt ? html`<span class="badge revoked">${t('status.revoked')}</span>` : html`<span class="badge ok">${t('status.active')}</span>`}${p.lastUsedAt ? html` · ${t('acc.lastUsed')} ${when(c, p.lastUsedAt)}` : ''}</li>`,
      )}</ul>`}
      <button type="button" id="register-passkey" class="primary">${t('acc.register')}</button>
      ${live.length > 0 ? html`<button type="button" id="step-up-now">${t('acc.stepUpNow')}</button>` : ''}
    </section>`;
  c.res.type('html').send(layout(c, { title: t('acc.title'), current: 'account', body }).value);
}

/*
 * The ceremonies for the signed-in person only: the person is the session's, never the request's.
 * JSON in and out (the console's script calls them with the CSRF header).
 */
export async function registrationOptions(c: PageContext): Promise<void> {
  c.res.json(await startPasskeyRegistration({ db: c.deps.db, now: c.now, rp: rp(c), personId: c.identity.personId }));
}

export async function registrationVerify(c: PageContext): Promise<void> {
  const body = registrationVerifyBody.safeParse(c.req.body);
  if (!body.success) throw validationError(body.error, 'body');
  // Only a challenge issued for this session's person: a challenge an integration obtained for
  // someone else must not enrol a passkey to them from here. (Unknown or spent: the ceremony says so.)
  const owner = await challengePerson(c.deps.db, body.data.challengeId, 'registration');
  if (owner !== undefined && owner !== c.identity.personId) throw credentialProblems.invalidCredentials('invalid credentials');
  const credential = await finishPasskeyRegistration({
    db: c.deps.db,
    now: c.now,
    rp: rp(c),
    logger: c.deps.logger,
    actor: actor(c),
    challengeId: body.data.challengeId,
    response: body.data.response as RegistrationResponseJSON,
  });
  if (credential.personId !== c.identity.personId) throw credentialProblems.invalidCredentials('invalid credentials');
  // A passkey just created is a passkey assertion of this person, now.
  await recordStepUp({ db: c.deps.db, now: c.now, session: c.session });
  c.res.status(201).json({ id: credential.id, type: 'passkey', company: credential.companyCode, steppedUp: true });
}

export async function stepUpOptions(c: PageContext): Promise<void> {
  c.res.json(await startPasskeyAuthentication({ db: c.deps.db, now: c.now, rp: rp(c), personId: c.identity.personId }));
}

/** Verifies an assertion bound to the session's person; on success the session is stepped up for 5 minutes. */
export async function stepUpVerify(c: PageContext): Promise<void> {
  const body = authenticationVerifyBody.safeParse(c.req.body);
  if (!body.success) throw validationError(body.error, 'body');
  const owner = await challengePerson(c.deps.db, body.data.challengeId, 'authentication');
  if (owner !== undefined && owner !== c.identity.personId) throw credentialProblems.invalidCredentials('invalid credentials');
  const result = await authenticatePasskey({
    db: c.deps.db,
    now: c.now,
    caller: actor(c),
    rp: rp(c),
    logger: c.deps.logger,
    challengeId: body.data.challengeId,
    response: body.data.response as AuthenticationResponseJSON,
  });
  if (result.personId !== c.identity.personId) throw credentialProblems.invalidCredentials('invalid credentials');
  await recordStepUp({ db: c.deps.db, now: c.now, session: c.session });
  c.res.json({ steppedUp: true, validForSeconds: 300 });
}

const idParam = z.uuid();

export async function secretsPage(c: PageContext, rotated?: { id: string; secret: string; version: number }): Promise<void> {
  const { t, deps, now } = c;
  const rows = await listSharedSecretIds(deps.db);
  const views = await Promise.all(rows.map(async (r) => ({ ...r, view: await getSharedSecret({ db: deps.db, now, id: r.id }) })));
  const body = html`
    ${rotated ? html`<div class="card alert" role="alert"><h2>${t('sec.rotated')}</h2><p>${t('sec.showOnce')}</p><p><code class="secret" id="new-secret">${rotated.secret}</code> (v${rotated.version})</p></div>` : ''}
    ${rows.length === 0 ? html`<p>${t('sec.none')}</p>` : html`<div class="table-wrap"><table><caption class="sr-only">${t('sec.title')}</caption>
      <thead><tr><th scope="col">${t('sec.system')}</th><th scope="col">${t('sec.name')}</th><th scope="col">${t('col.status')}</th><th scope="col">${t('sec.exposedTo')}</th><th scope="col">${t('sec.rotatedAt')}</th><th scope="col">${t('col.actions')}</th></tr></thead>
      <tbody>${views.map((s) => html`<tr><td>${s.system}</td><td>${s.name}</td>
        <td><span class="badge ${s.view.status === 'ok' ? 'ok' : 'revoked'}">${label(t, `sec.status.${s.view.status}`, s.view.status)}</span></td>
        <td>${s.view.exposedTo.map((e) => `${e.personId} → ${e.company ?? '—'}`).join(', ') || '—'}</td><td>${when(c, s.rotatedAt)} (v${s.version})</td>
        <td><form method="post" action="/console/secrets/${s.id}/rotate" data-step-up data-confirm="${t('sec.confirmRotate')}">${csrfField(c)}<button type="submit" class="danger">${t('sec.rotate')}</button></form></td></tr>`)}</tbody>
    </table></div>`}`;
  c.res.type('html').send(layout(c, { title: t('sec.title'), current: 'secrets', body }).value);
}

export async function rotateAction(c: PageContext, id: string): Promise<void> {
  assertSteppedUp(c.session, c.now);
  if (!idParam.safeParse(id).success) return void c.res.redirect(303, '/console/secrets');
  if (!c.deps.keyring) throw credentialProblems.notConfigured('set SEKISHO_ENCRYPTION_KEYS to store shared secrets');
  const rotated = await rotateSharedSecret({ db: c.deps.db, now: c.now, actor: actor(c), keyring: c.deps.keyring, id });
  // Shown once, on this response; never stored or redirected with.
  await secretsPage(c, rotated);
}
