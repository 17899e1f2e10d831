import { appendAudit } from '../audit/chain.js';
import type { Db } from '../db/client.js';
import type { HrEventType } from './schema.js';

export interface DueEvent {
  eventId: string;
  type: HrEventType;
  personId: string;
  effectiveAt: Date;
}

/**
 * What happens once HR events' instants have come, inside the transaction that marks them
 * applied (so it runs exactly once). Batch-shaped: an April-1 reorganisation is thousands at
 * once. Verification never waits for this: credentials are checked against the affiliation
 * at the instant of use.
 */
export async function applyEventEffects(tx: Db, events: DueEvent[], now: Date): Promise<void> {
  await appendAudit(
    tx,
    now,
    events.map((e) => ({
      actor: 'system:hr',
      action: `${e.type}.effective`,
      subjectType: 'person',
      subjectId: e.personId,
      data: { eventId: e.eventId, effectiveAt: e.effectiveAt.toISOString() },
    })),
  );
}
