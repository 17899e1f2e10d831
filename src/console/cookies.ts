import type { Request, Response } from 'express';

/** Cookie names: the __Host- prefix (Secure, Path=/, no Domain) when the public URL is https. */
export function cookieNames(secure: boolean) {
  const p = secure ? '__Host-' : '';
  return { session: `${p}sekisho_session`, login: `${p}sekisho_login`, lang: 'sekisho_lang' };
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function setCookie(
  res: Response,
  name: string,
  value: string,
  opts: { secure: boolean; maxAgeSeconds?: number; httpOnly?: boolean; sameSite?: 'Lax' | 'Strict' },
): void {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', `SameSite=${opts.sameSite ?? 'Lax'}`];
  if (opts.httpOnly !== false) parts.push('HttpOnly');
  if (opts.secure) parts.push('Secure');
  if (opts.maxAgeSeconds !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(opts.maxAgeSeconds))}`);
  res.append('set-cookie', parts.join('; '));
}

export const clearCookie = (res: Response, name: string, secure: boolean): void => setCookie(res, name, '', { secure, maxAgeSeconds: 0 });
