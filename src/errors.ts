/** One base for every expected failure; the HTTP edge renders it as RFC 9457. */
export interface FieldError {
  /** JSON Pointer into the request (`/effectiveAt`). */
  path: string;
  message: string;
}

export const PROBLEM_BASE = 'https://sekisho.dev/problems/';

export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly title: string,
    readonly typeSlug: string,
    detail: string,
    readonly errors?: FieldError[],
  ) {
    super(detail);
    this.name = 'DomainError';
  }
  get type(): string {
    return PROBLEM_BASE + this.typeSlug;
  }
}

export interface ProblemSpec {
  status: number;
  title: string;
  /** Last segment of the problem type URI; defaults to the code with dots as dashes. Never changes once published. */
  type?: string;
}

/** Declares a capability's problem catalogue: code → factory taking the detail. */
export function problems<K extends string>(
  specs: Record<K, ProblemSpec & { code: string }>,
): Record<K, (detail: string, errors?: FieldError[]) => DomainError> {
  const out = {} as Record<K, (detail: string, errors?: FieldError[]) => DomainError>;
  for (const key of Object.keys(specs) as K[]) {
    const s = specs[key];
    out[key] = (detail, errors) =>
      new DomainError(s.code, s.status, s.title, s.type ?? s.code.replaceAll('.', '-'), detail, errors);
  }
  return out;
}

export const common = problems({
  validation: { code: 'request.invalid', status: 400, title: 'Request is not valid', type: 'validation' },
  notFound: { code: 'resource.not-found', status: 404, title: 'Not found', type: 'not-found' },
  unauthenticated: { code: 'auth.unauthenticated', status: 401, title: 'Authentication required', type: 'unauthenticated' },
  forbidden: { code: 'auth.forbidden', status: 403, title: 'Not allowed', type: 'forbidden' },
  tooLarge: { code: 'request.too-large', status: 413, title: 'Request body too large', type: 'too-large' },
  unsupportedMedia: { code: 'request.unsupported-media-type', status: 415, title: 'Unsupported media type', type: 'unsupported-media-type' },
});
