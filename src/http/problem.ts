import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { common, DomainError, type FieldError } from '../errors.js';

export function zodToFieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  return error.issues.map((i) => ({
    path: prefix + (i.path.length ? '/' + i.path.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/') : ''),
    message: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
  }));
}

export function validationError(error: z.ZodError, where: string, prefix = ''): DomainError {
  const errors = zodToFieldErrors(error, prefix);
  const detail = `${where} is not valid: ` + errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ');
  return common.validation(detail, errors);
}

function toDomainError(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return err;
  const e = err as { type?: string; status?: number } | undefined;
  // body-parser's errors: malformed JSON, size limit.
  if (e?.type === 'entity.parse.failed') return common.validation('the body is not valid JSON');
  if (e?.type === 'entity.too.large') return common.tooLarge('the body is larger than this endpoint accepts');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return common.unsupportedMedia('the body must be UTF-8');
  return undefined;
}

/** RFC 9457 for every error; unknown errors become a bare 500, logged in full with the request id. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const requestId = res.locals.requestId as string | undefined;
    const known = toDomainError(err);
    if (!known) {
      logger.error({ err, requestId, method: req.method, path: req.path }, 'unhandled error');
      return void res
        .status(500)
        .type('application/problem+json')
        .json({ type: 'about:blank', title: 'Internal Server Error', status: 500, requestId });
    }
    if (known.status === 401 && 'reason' in known) logger.info({ requestId, reason: known.reason }, 'authentication rejected');
    res
      .status(known.status)
      .type('application/problem+json')
      .json({
        type: known.type,
        title: known.title,
        status: known.status,
        detail: known.message,
        code: known.code,
        requestId,
        ...(known.errors ? { errors: known.errors } : {}),
      });
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(common.notFound(`no endpoint ${req.method} ${req.path}`));
};
