import { problems } from '../errors.js';

/** The console's problems; codes and types never change once published. */
export const consoleProblems = problems({
  stepUpRequired: { code: 'console.step-up-required', status: 403, title: 'A passkey confirmation less than 5 minutes old is required' },
  csrfRejected: { code: 'console.csrf-rejected', status: 403, title: 'Cross-site request refused' },
  roleRequired: { code: 'console.role-required', status: 403, title: 'Your console role does not cover this' },
  signInRequired: { code: 'console.sign-in-required', status: 401, title: 'Sign in to the console' },
  signInFailed: { code: 'console.sign-in-failed', status: 401, title: 'Sign-in failed' },
  notConfigured: { code: 'console.not-configured', status: 503, title: 'Console sign-in is not configured' },
});
