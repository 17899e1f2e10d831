import { problems } from '../errors.js';

export const accessProblems = problems({
  firewall: { code: 'access.firewall', status: 409, title: 'The information firewall forbids this', type: 'firewall' },
  unknownSystem: { code: 'access.unknown-system', status: 422, title: 'Unknown system' },
  unknownCompany: { code: 'access.unknown-company', status: 422, title: 'Unknown company' },
  unknownEntitlement: { code: 'access.unknown-entitlement', status: 422, title: 'Unknown entitlement' },
  unknownPerson: { code: 'access.unknown-person', status: 422, title: 'Unknown person' },
  notAffiliated: { code: 'access.not-affiliated', status: 422, title: 'The person has no affiliation now' },
  invalidEmergencyFields: { code: 'access.invalid-emergency-fields', status: 422, title: 'Emergency fields must be declared fields' },
  invalidValidity: { code: 'access.invalid-validity', status: 422, title: 'The validity interval is not valid' },
  policyStale: { code: 'access.policy-stale', status: 503, title: 'Policy is temporarily unavailable' },
  birthrightNotFound: { code: 'access.birthright-not-found', status: 404, title: 'Birthright rule not found', type: 'not-found' },
  grantNotFound: { code: 'access.grant-not-found', status: 404, title: 'Grant not found', type: 'not-found' },
});
