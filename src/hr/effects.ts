import { provisionBirthright } from '../access/birthright.js';
import { revokeGrantsNotAllowed } from '../access/grants.js';
import { appendAudit, type AuditEntry } from '../audit/chain.js';
import { endConsoleSessions } from '../console/sessions.js';
import { revokeCredentialsOfMovers } from '../credentials/revocation.js';
import { flagSharedSecretsKnownBy, rotationRequiredNotices } from '../credentials/shared-secrets.js';
import type { Db } from '../db/client.js';
import { enqueueEvents, type OutboundEvent } from '../outbox/enqueue.js';
import type { HrEventType } from './schema.js';

export interface DueEvent {
  eventId: string;
  type: HrEventType;
  personId: string;
  effectiveAt: Date;
}

const ACTOR = 'system:hr';

/**
 * What happens once HR events' instants have come, inside the transaction that marks them
 * applied (so it runs exactly once). Batch-shaped and set-based: an April-1 reorganisation is
 * thousands at once. Verification never waits for this: credentials are checked against the
 * affiliation at the instant of use; this makes the revocations permanent and tells everyone.
 *
 * Movers and leavers: every credential issued under another company is revoked (reason
 * `transfer` / `leave`), grants their company may not hold are revoked, and connected systems
 * are told (person event, each revocation, and a session revocation). Joiners and movers then
 * get their new company's birthright grants.
 */
export async function applyEventEffects(tx: Db, events: DueEvent[], now: Date): Promise<void> {
  // A person's last event in the batch decides why their access goes.
  const lastByPerson = new Map<string, DueEvent>();
  for (const e of [...events].sort((a, b) => a.effectiveAt.getTime() - b.effectiveAt.getTime())) lastByPerson.set(e.personId, e);
  const movers = [...lastByPerson.values()].filter((e) => e.type !== 'person.hired');
  const outbound: OutboundEvent[] = [];
  const audit: AuditEntry[] = events.map((e) => ({
    actor: ACTOR,
    action: `${e.type}.effective`,
    subjectType: 'person',
    subjectId: e.personId,
    data: { eventId: e.eventId, effectiveAt: e.effectiveAt.toISOString() },
  }));

  for (const reason of ['transfer', 'leave'] as const) {
    const personIds = movers.filter((e) => (e.type === 'person.left') === (reason === 'leave')).map((e) => e.personId);
    if (personIds.length === 0) continue;
    const credentials = await revokeCredentialsOfMovers(tx, { personIds, now, reason });
    const grants = await revokeGrantsNotAllowed(tx, { personIds, now, reason, actor: ACTOR });
    // Shared secrets they knew under their old company: flagged for rotation, exposure recorded.
    const secrets = rotationRequiredNotices(await flagSharedSecretsKnownBy(tx, { personIds, now, reason: reason === 'transfer' ? 'holder-transferred' : 'holder-left' }), ACTOR, now);
    outbound.push(...secrets.outbound);
    audit.push(...secrets.audit);
    for (const c of credentials) {
      outbound.push({ type: 'credential.revoked', subjectType: 'person', subjectId: c.personId, occurredAt: now, payload: { credentialId: c.id, credentialType: c.type, company: c.company, reason } });
      audit.push({ actor: ACTOR, action: 'credential.revoked', subjectType: 'person', subjectId: c.personId, data: { credentialId: c.id, type: c.type, company: c.company, reason } });
    }
    for (const g of grants) {
      outbound.push({ type: 'grant.revoked', subjectType: 'person', subjectId: g.personId, occurredAt: now, payload: { grantId: g.id, entitlement: g.entitlement, reason } });
      audit.push({ actor: ACTOR, action: 'grant.revoked', subjectType: 'person', subjectId: g.personId, data: { grantId: g.id, entitlement: g.entitlement, reason } });
    }
    // Their console sessions end here too (sign-in checks the affiliation at each request anyway).
    for (const s of await endConsoleSessions(tx, { personIds, now, reason })) {
      audit.push({ actor: ACTOR, action: 'console-session.revoked', subjectType: 'person', subjectId: s.personId, data: { session: s.session, reason } });
    }
    for (const personId of personIds) {
      outbound.push({ type: 'session.revoked', subjectType: 'person', subjectId: personId, occurredAt: now, payload: { reason } });
    }
  }
  const joiners = [...lastByPerson.values()].filter((e) => e.type !== 'person.left').map((e) => e.personId);
  const birthright = await provisionBirthright(tx, { personIds: joiners, now, actor: ACTOR });
  outbound.push(...birthright.outbound);
  audit.push(...birthright.audit);
  for (const e of events) {
    outbound.push({ type: e.type, subjectType: 'person', subjectId: e.personId, occurredAt: e.effectiveAt, payload: { eventId: e.eventId, effectiveAt: e.effectiveAt.toISOString() } });
  }
  await enqueueEvents(tx, now, outbound);
  await appendAudit(tx, now, audit);
}
