import pino, { type Logger } from 'pino';

/** Structured JSON logs; anything that looks like a secret is redacted wherever it appears. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'sekisho' },
    redact: {
      paths: ['authorization', '*.authorization', 'password', '*.password', 'secret', '*.secret', 'token', '*.token', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}
