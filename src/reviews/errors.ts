import { problems } from '../errors.js';

export const reviewProblems = problems({
  campaignNotFound: { code: 'review.campaign-not-found', status: 404, title: 'Review campaign not found', type: 'not-found' },
  itemNotFound: { code: 'review.item-not-found', status: 404, title: 'Review item not found', type: 'not-found' },
  scheduleNotFound: { code: 'review.schedule-not-found', status: 404, title: 'Review schedule not found', type: 'not-found' },
  campaignClosed: { code: 'review.campaign-closed', status: 409, title: 'The review campaign is closed' },
  invalidDue: { code: 'review.invalid-due', status: 422, title: 'The due date is not valid' },
  unknownReference: { code: 'review.unknown-reference', status: 422, title: 'Unknown system, entitlement or person' },
});
