import { problems } from '../errors.js';

export const credentialProblems = problems({
  invalidCredentials: { code: 'authn.invalid-credentials', status: 401, title: 'Invalid credentials', type: 'invalid-credentials' },
  unknownPerson: { code: 'credentials.unknown-person', status: 404, title: 'Person not found', type: 'not-found' },
  notAffiliated: { code: 'credentials.not-affiliated', status: 422, title: 'The person has no affiliation now' },
  unknownSystem: { code: 'credentials.unknown-system', status: 422, title: 'Unknown system' },
  loginTaken: { code: 'credentials.login-taken', status: 409, title: 'That login id is already in use in this system' },
  badgeTaken: { code: 'credentials.badge-taken', status: 409, title: 'That badge is already in use' },
  credentialNotFound: { code: 'credentials.not-found', status: 404, title: 'Credential not found', type: 'not-found' },
  notConfigured: { code: 'credentials.encryption-not-configured', status: 503, title: 'Encryption keys are not configured' },
});
