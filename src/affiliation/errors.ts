import { problems } from '../errors.js';

export const affiliationProblems = problems({
  unknownCompany: { code: 'affiliation.unknown-company', status: 422, title: 'Unknown company' },
  unknownPerson: { code: 'affiliation.unknown-person', status: 422, title: 'Unknown person' },
  personNotFound: { code: 'affiliation.person-not-found', status: 404, title: 'Person not found', type: 'not-found' },
  contradiction: { code: 'affiliation.contradiction', status: 422, title: 'Event contradicts the recorded history' },
  overlap: { code: 'affiliation.overlap', status: 409, title: 'Two affiliations would overlap' },
  invalidActsFor: { code: 'affiliation.invalid-acts-for', status: 422, title: 'actsFor is not valid for this company' },
});
