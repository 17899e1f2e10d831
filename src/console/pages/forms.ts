import { z } from 'zod';
import type { PageContext } from '../layout.js';

/** Form bodies (urlencoded) through zod; the CSRF field is not part of any form's shape. */
export function parseForm<T>(schema: z.ZodType<T>, body: unknown): { ok: true; data: T } | { ok: false; errors: z.ZodError } {
  const { _csrf: _ignored, ...rest } = (body ?? {}) as Record<string, unknown>;
  const r = schema.safeParse(rest);
  return r.success ? { ok: true, data: r.data } : { ok: false, errors: r.error };
}

export function formError(c: PageContext, error: z.ZodError): string {
  return `${c.t('form.invalid')} ${error.issues.map((i) => i.path.join('.') || '/').join(', ')}`;
}
