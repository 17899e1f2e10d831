import { problems } from '../errors.js';

export const emergencyProblems = problems({
  notFound: { code: 'emergency.not-found', status: 404, title: 'Emergency not found', type: 'not-found' },
  tooLong: { code: 'emergency.duration-too-long', status: 422, title: 'Duration exceeds the configured maximum' },
  notActive: { code: 'emergency.not-active', status: 409, title: 'The emergency is not active' },
  notPending: { code: 'emergency.not-pending', status: 409, title: 'The emergency is not awaiting approval' },
  sameApprover: { code: 'emergency.same-approver', status: 409, title: 'A second, different person must approve' },
  extensionBound: { code: 'emergency.extension-beyond-bound', status: 422, title: 'The extension goes past the longest allowed emergency' },
  unknownPerson: { code: 'emergency.unknown-person', status: 422, title: 'Unknown person' },
  notOnRoster: { code: 'emergency.not-on-roster', status: 404, title: 'Not on the roster', type: 'not-found' },
});
