import { problems } from '../errors.js';

export const detectionProblems = problems({
  unknownSystem: { code: 'access-log.unknown-system', status: 422, title: 'Events name a system Sekisho does not know' },
  idempotencyKeyReused: {
    code: 'access-log.idempotency-key-reused',
    status: 422,
    title: 'This Idempotency-Key was used for a different batch',
  },
  tooManyEvents: { code: 'access-log.too-many-events', status: 413, title: 'Too many events in one request', type: 'too-large' },
  findingNotFound: { code: 'detection.finding-not-found', status: 404, title: 'Finding not found', type: 'not-found' },
  findingTransition: { code: 'detection.finding-status-transition', status: 409, title: 'The finding cannot move to that status' },
});
