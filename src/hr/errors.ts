import { problems } from '../errors.js';

export const hrProblems = problems({
  badSignature: { code: 'hr.signature-invalid', status: 401, title: 'Webhook signature is not valid', type: 'webhook-signature' },
  notConfigured: { code: 'hr.not-configured', status: 503, title: 'HR webhook secret is not configured' },
});
