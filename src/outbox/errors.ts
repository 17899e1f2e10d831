import { problems } from '../errors.js';

export const outboxProblems = problems({
  subscriberNotFound: { code: 'outbox.subscriber-not-found', status: 404, title: 'Subscriber not found', type: 'not-found' },
  eventNotFound: { code: 'outbox.event-not-found', status: 404, title: 'Outbox event not found', type: 'not-found' },
  notConfigured: { code: 'outbox.encryption-not-configured', status: 503, title: 'Encryption keys are not configured' },
});
