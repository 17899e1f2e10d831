import { z } from 'zod';
import { instant, orgId } from '../http/zod-types.js';

const base = {
  personId: orgId,
  name: z.string().min(1).max(200).optional(),
  email: z.email().max(320).optional(),
  orgUnit: z.string().min(1).max(200).optional(),
  /** The person's manager (reviews route items to them). */
  managerId: orgId.optional(),
  effectiveAt: instant,
};

export const hrEventBody = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('person.hired'), ...base, name: z.string().min(1).max(200), company: orgId }),
  z.strictObject({ type: z.literal('person.transferred'), ...base, company: orgId }),
  z.strictObject({ type: z.literal('person.left'), ...base, company: orgId.optional() }),
]);
export type HrEventBody = z.infer<typeof hrEventBody>;

export const hrEventAccepted = z.object({
  eventId: z.uuid(),
  status: z.enum(['applied', 'scheduled']),
});
