import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RequestHandler } from 'express';
import { common } from '../errors.js';

/** The console's static files, read once: its stylesheet, its script, and @simplewebauthn/browser's bundle. */
const WEBAUTHN_BUNDLE = fileURLToPath(new URL('../../node_modules/@simplewebauthn/browser/dist/bundle/index.umd.min.js', import.meta.url));

let cache: Record<string, { type: string; body: string }> | undefined;

function assets(): Record<string, { type: string; body: string }> {
  cache ??= {
    'console.css': { type: 'text/css; charset=utf-8', body: CSS },
    'console.js': { type: 'text/javascript; charset=utf-8', body: SCRIPT },
    'simplewebauthn-browser.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(WEBAUTHN_BUNDLE, 'utf8') },
  };
  return cache;
}

export const serveAsset: RequestHandler = (req, res) => {
  const a = assets()[String(req.params.file)];
  if (!a) throw common.notFound('no such asset');
  res.setHeader('cache-control', 'public, max-age=300');
  res.type(a.type).send(a.body);
};

const CSS = `
:root{--fg:#1b1b1f;--muted:#5f6368;--bg:#f7f8fa;--card:#fff;--line:#d5d9e0;--accent:#0b57d0;--danger:#b3261e;--ok:#146c2e;--warn:#8a5300;--focus:#0b57d0}
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Hiragino Sans","Noto Sans JP","Yu Gothic UI",sans-serif;color:var(--fg);background:var(--bg);line-height:1.55;font-size:16px}
a{color:var(--accent)}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-9999px;top:0;background:#fff;padding:8px 12px;z-index:10}.skip:focus{left:8px;top:8px}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.top{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;padding:10px 16px;background:#10243e;color:#fff}
.top a{color:#fff}.brand{font-weight:700;font-size:1.1rem}.brand a{text-decoration:none}.who{flex:1 1 auto;min-width:12rem}.who .muted{color:#c7d0dc}
.lang a{margin-right:8px}.lang a[aria-current]{font-weight:700;text-decoration:none}
.logout{margin:0}.logout button{background:transparent;color:#fff;border:1px solid #9fb0c6}
.main-nav{background:#fff;border-bottom:1px solid var(--line);overflow-x:auto}
.main-nav ul{display:flex;gap:4px;list-style:none;margin:0;padding:0 8px}
.main-nav a{display:block;padding:12px 10px;text-decoration:none;white-space:nowrap}.main-nav a[aria-current]{font-weight:700;border-bottom:3px solid var(--accent)}
main{max-width:1240px;margin:0 auto;padding:16px}main.narrow{max-width:40rem}
h1{font-size:1.5rem;margin:8px 0 16px}h2{font-size:1.2rem;margin:24px 0 8px}h3{font-size:1.05rem;margin:0 0 8px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px;margin-bottom:16px}
.card.alert{border-left:6px solid var(--danger)}
.big{font-size:2.2rem;font-weight:700;margin:0}.muted{color:var(--muted)}
.plain{list-style:none;padding:0;margin:0}.plain li{padding:6px 0;border-bottom:1px solid #eceff3}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:8px 0 16px}.facts dt{font-weight:600}.facts dd{margin:0}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.85rem;background:#e8eaed}
.status-active,.decision-permit,.decision-certify,.ok{background:#d7f0dd;color:var(--ok)}.status-ended{background:#e8eaed}.status-pending_approval{background:#fff0c2;color:var(--warn)}
.decision-deny,.decision-revoke,.revoked{background:#fbe0de;color:var(--danger)}.rec{background:#fff0c2;color:var(--warn)}
.kind-wheeling{background:#dbe7fb;color:#1f5fae}.kind-retail{background:#fde4d0;color:#8a3c00}.kind-contractor{background:#ece1f7;color:#6b3fa0}.kind-other{background:#e8eaed}
.legend{display:inline-block;padding:0 8px;border-radius:4px;margin-right:6px}
.sev{font-weight:600;padding:0 6px;border-radius:4px}.sev-critical,.sev-high{background:#fbe0de;color:var(--danger)}.sev-medium{background:#fff0c2;color:var(--warn)}.sev-low{background:#e8eaed}
label{display:block;font-weight:600;margin:12px 0 4px}label.check{font-weight:400;display:flex;gap:8px;align-items:center;min-height:44px;margin:0}
input[type=text],input[type=number],input[type=search],input[type=date],input:not([type]),select,textarea{font:inherit;padding:8px 10px;border:1px solid #8a9099;border-radius:6px;width:100%;max-width:32rem;min-height:44px;background:#fff}
input[type=checkbox]{width:22px;height:22px}
fieldset{border:1px solid var(--line);border-radius:6px;padding:8px 12px;margin:12px 0}legend{font-weight:600;padding:0 4px}
button,.button-link{font:inherit;min-height:44px;padding:8px 16px;border-radius:6px;border:1px solid #8a9099;background:#fff;color:var(--fg);cursor:pointer;display:inline-block;text-decoration:none;margin:4px 4px 4px 0}
button.primary,.button-link.primary{background:var(--accent);color:#fff;border-color:var(--accent)}
button.danger{background:var(--danger);color:#fff;border-color:var(--danger)}
.danger-outline{box-shadow:0 0 0 2px #fff inset}
.inline-form{display:flex;flex-wrap:wrap;gap:4px 12px;align-items:flex-end}.inline-form label{margin:0}.inline-form input,.inline-form select{width:auto}
.acts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-end}
.table-wrap{overflow-x:auto;background:#fff;border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;min-width:640px}th,td{text-align:left;padding:8px 10px;border-bottom:1px solid #eceff3;vertical-align:top}thead th{background:#f1f3f6;font-size:.9rem}
tbody th{font-weight:400}
tr.decided{background:#fafbfc}.row-acts{display:flex;gap:4px;flex-wrap:wrap;margin:0}
.mini-timeline{width:220px;max-width:100%}.timeline{width:100%;height:auto;display:block}.timeline-figure{margin:0 0 8px;background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px}
.mini-timeline .timeline{height:40px}
.bulk-bar{position:sticky;bottom:0;background:#fff;border-top:2px solid var(--line);padding:8px;display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.flash{background:#d7f0dd;color:var(--ok);padding:8px 12px;border-radius:6px}.error{background:#fbe0de;color:var(--danger);padding:8px 12px;border-radius:6px}.note{background:#fff0c2;padding:8px 12px;border-radius:6px}
.dev-banner{background:#b00020;color:#fff;padding:10px 16px;font-weight:700}
code.secret{font-size:1.2rem;background:#f1f3f6;padding:4px 8px;border-radius:4px;word-break:break-all}
progress{width:100%;max-width:32rem;height:12px}
@media (max-width:640px){
table.inbox{min-width:0}table.inbox thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
table.inbox,table.inbox tbody,table.inbox tr,table.inbox td,table.inbox th{display:block;width:100%}
table.inbox tr{position:relative;border-bottom:2px solid var(--line);padding:8px 8px 8px 44px}
table.inbox td,table.inbox th{border:0;padding:4px 0}table.inbox td.select{position:absolute;left:8px;top:10px;width:auto}
table.inbox td[data-label]::before{content:attr(data-label);display:block;font-size:.8rem;color:var(--muted)}
.bulk-bar{flex-direction:column;align-items:stretch}
main{padding:12px}.facts{grid-template-columns:1fr}.facts dt{margin-top:8px}h1{font-size:1.3rem}table{min-width:560px}.who{order:3;flex-basis:100%}}
`;

const SCRIPT = `(() => {
  'use strict';
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';
  const lang = document.body.dataset.lang === 'en' ? 'en' : 'ja';
  const text = {
    ja: { confirming: 'パスキーで確認しています…', confirmed: 'パスキーで確認しました（5分間有効）。', failed: '確認できませんでした:', registered: 'パスキーを登録しました。', noWebAuthn: 'このブラウザはパスキーに対応していません。' },
    en: { confirming: 'Confirming with your passkey…', confirmed: 'Confirmed with your passkey (valid for 5 minutes).', failed: 'Could not confirm:', registered: 'Passkey registered.', noWebAuthn: 'This browser does not support passkeys.' },
  }[lang];
  const status = document.getElementById('status');
  const say = (s) => { if (status) status.textContent = s; };
  const webauthn = window.SimpleWebAuthnBrowser;
  // Step-up time left, counted on this page's own clock from what the server said at render time.
  let steppedUpUntil = performance.now() + Number(document.body.dataset.stepUpLeftMs || 0) - 15000;

  async function post(url, body) {
    const res = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body ?? {}) });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.detail || res.statusText);
    return json;
  }
  async function stepUp() {
    if (!webauthn?.browserSupportsWebAuthn()) throw new Error(text.noWebAuthn);
    say(text.confirming);
    const start = await post('/console/step-up/options');
    const response = await webauthn.startAuthentication({ optionsJSON: start.options });
    await post('/console/step-up/verify', { challengeId: start.challengeId, response });
    steppedUpUntil = performance.now() + 285000;
    say(text.confirmed);
    const state = document.getElementById('step-up-state');
    if (state) state.textContent = text.confirmed;
  }

  document.addEventListener('submit', async (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.confirm && form.dataset.confirmed !== '1') {
      if (!window.confirm(form.dataset.confirm)) { ev.preventDefault(); return; }
      form.dataset.confirmed = '1';
    }
    if (!form.hasAttribute('data-step-up') || performance.now() < steppedUpUntil) return;
    ev.preventDefault();
    try {
      await stepUp();
      form.requestSubmit(ev.submitter ?? undefined);
    } catch (err) {
      form.dataset.confirmed = '';
      say(text.failed + ' ' + err.message);
    }
  });

  document.getElementById('step-up-now')?.addEventListener('click', () => stepUp().catch((err) => say(text.failed + ' ' + err.message)));
  document.getElementById('register-passkey')?.addEventListener('click', async () => {
    try {
      if (!webauthn?.browserSupportsWebAuthn()) throw new Error(text.noWebAuthn);
      const start = await post('/console/passkeys/options');
      const response = await webauthn.startRegistration({ optionsJSON: start.options });
      await post('/console/passkeys/verify', { challengeId: start.challengeId, response });
      location.assign('/console/account?done=passkey-registered');
    } catch (err) {
      say(text.failed + ' ' + err.message);
    }
  });

  // Live lists: re-read every 5 seconds while the page is open.
  for (const el of document.querySelectorAll('[data-live-src]')) {
    setInterval(async () => {
      if (document.hidden) return;
      try {
        const res = await fetch(el.dataset.liveSrc, { credentials: 'same-origin', headers: { accept: 'text/html' } });
        if (res.ok) el.innerHTML = await res.text();
      } catch {}
    }, 5000);
  }
})();
`;
