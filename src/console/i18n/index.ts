import type { Request } from 'express';
import { en } from './en.js';
import { ja } from './ja.js';

export type Lang = 'ja' | 'en';
export type MessageKey = keyof typeof ja;
export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

const dictionaries: Record<Lang, Record<MessageKey, string>> = { ja, en };

/** ?lang= wins (and is remembered in a cookie by the caller), then the cookie, then Accept-Language; Japanese by default. */
export function pickLang(req: Request, cookie: string | undefined): { lang: Lang; explicit: boolean } {
  const q = req.query.lang;
  if (q === 'ja' || q === 'en') return { lang: q, explicit: true };
  if (cookie === 'ja' || cookie === 'en') return { lang: cookie, explicit: false };
  const preferred = (req.get('accept-language') ?? '')
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().toLowerCase().split(';');
      const q = params.find((p) => p.trim().startsWith('q='));
      return { tag: tag ?? '', q: q ? Number(q.trim().slice(2)) : 1 };
    })
    .filter((x) => x.tag && !Number.isNaN(x.q))
    .sort((a, b) => b.q - a.q)
    .find((x) => x.tag.startsWith('ja') || x.tag.startsWith('en'));
  return { lang: preferred?.tag.startsWith('en') ? 'en' : 'ja', explicit: false };
}

export function translator(lang: Lang): Translate {
  const d = dictionaries[lang];
  return (key, vars) => {
    let s = d[key] ?? key;
    if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
    return s;
  };
}

const formats: Record<Lang, Intl.DateTimeFormat> = {
  ja: new Intl.DateTimeFormat('ja-JP', { timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }),
  en: new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }),
};
const dateFormats: Record<Lang, Intl.DateTimeFormat> = {
  ja: new Intl.DateTimeFormat('ja-JP', { timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit' }),
  en: new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', year: 'numeric', month: 'short', day: 'numeric' }),
};

/** Times shown in Japan time (the utility's time), marked JST. */
export const formatInstant = (lang: Lang, d: Date): string => `${formats[lang].format(d)} JST`;
export const formatDate = (lang: Lang, d: Date): string => dateFormats[lang].format(d);
