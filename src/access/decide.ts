import type { CompanyKind } from '../affiliation/schema.js';
import type { FieldClass } from './schema.js';

/**
 * The firewall decision, as a pure function of a policy snapshot, a request and an instant.
 * It never looks at screens or workflow state: only the viewer's affiliation at `now`, the
 * terminal, the record's contracted retailer and area, grants and declared emergencies.
 */

export interface Interval {
  from: number;
  /** Exclusive; Infinity = open. */
  to: number;
}

/** A grant's validity, with the company kinds its entitlement allows. */
export interface GrantInterval extends Interval {
  kinds: readonly CompanyKind[];
}

export interface PolicySnapshot {
  companies: Map<string, { kind: CompanyKind; actsFor: string | null }>;
  /** Each person's affiliation timeline (current knowledge), non-overlapping. */
  timelines: Map<string, { company: string; from: number; to: number }[]>;
  terminals: Map<string, { company: string; active: boolean }>;
  systems: Map<string, { fields: Map<string, FieldClass>; emergencyFields: Set<string> }>;
  /** person → system → validity intervals of grants on that system (revocation closes them). */
  grants: Map<string, Map<string, GrantInterval[]>>;
  /** Disaster-support roster: person → areas they may support. Membership alone grants nothing. */
  roster: Map<string, Set<string>>;
  /** Declared emergencies; an emergency is active over [from, to) where `to` is its end or expiry. */
  emergencies: { id: string; areas: Set<string>; from: number; to: number }[];
}

export interface DecisionRequest {
  personId: string;
  terminalId?: string;
  system: string;
  record: { customerId?: string; retailer?: string | null; area?: string | null };
  fields: string[];
}

export type FieldVerdict = 'allow' | 'mask';

export interface Decision {
  decision: 'permit' | 'deny';
  fields: Record<string, FieldVerdict>;
  reasons: string[];
  /** The emergency that widened this decision, if any (for the post-emergency report). */
  emergencyId?: string;
}

const inside = (iv: { from: number; to: number }, t: number) => iv.from <= t && t < iv.to;

/**
 * Whether the snapshot holds an active grant of this person on this system at `now` — with
 * `rulesKind`, only a grant whose entitlement that company kind may hold: a grant that raced a
 * transfer, or outlived one until the HR job runs, permits nothing.
 */
export function holdsGrant(s: PolicySnapshot, personId: string, system: string, now: number, rulesKind?: CompanyKind): boolean {
  return s.grants.get(personId)?.get(system)?.some((iv) => inside(iv, now) && (rulesKind === undefined || iv.kinds.includes(rulesKind))) ?? false;
}

function deny(fields: string[], reason: string): Decision {
  const out: Record<string, FieldVerdict> = {};
  for (const f of fields) out[f] = 'mask';
  return { decision: 'deny', fields: out, reasons: [reason] };
}

export function decide(s: PolicySnapshot, req: DecisionRequest, now: number): Decision {
  const timeline = s.timelines.get(req.personId);
  const segment = timeline?.find((seg) => inside(seg, now));
  if (!segment) return deny(req.fields, 'no-affiliation');
  const company = s.companies.get(segment.company);
  if (!company) return deny(req.fields, 'no-affiliation');
  // A contractor is judged as the company it acts for.
  const rulesCompany = company.actsFor ?? segment.company;
  const rulesKind = company.actsFor ? (s.companies.get(company.actsFor)?.kind ?? company.kind) : company.kind;

  // Invariant 5: the person and a terminal registered to the person's company.
  if (req.terminalId === undefined) return deny(req.fields, 'terminal-required');
  const terminal = s.terminals.get(req.terminalId);
  if (!terminal) return deny(req.fields, 'terminal-unknown');
  if (!terminal.active) return deny(req.fields, 'terminal-inactive');
  if (terminal.company !== segment.company && terminal.company !== rulesCompany) return deny(req.fields, 'terminal-company-mismatch');

  const system = s.systems.get(req.system);
  if (!system) return deny(req.fields, 'unknown-system');

  const granted = holdsGrant(s, req.personId, req.system, now, rulesKind);
  const area = req.record.area ?? null;
  let emergencyId: string | undefined;
  if (area !== null && s.roster.get(req.personId)?.has(area)) {
    emergencyId = s.emergencies.find((e) => e.areas.has(area) && inside(e, now))?.id;
  }
  if (!granted && !emergencyId) {
    return deny(req.fields, s.roster.has(req.personId) ? 'emergency-not-active' : 'no-grant');
  }

  const wheeling = rulesKind === 'wheeling';
  // Unknown or missing retailer counts as someone else's customer.
  const ownCustomer = req.record.retailer != null && req.record.retailer === rulesCompany;
  const fields: Record<string, FieldVerdict> = {};
  let widened = false;
  for (const f of req.fields) {
    const cls = system.fields.get(f);
    let allow = false;
    if (granted && cls !== undefined) {
      allow = cls === 'network.public' || wheeling || (cls === 'customer.retailer-only' && ownCustomer);
    }
    // Invariant 4's only exception: during an active emergency, exactly the emergency field set.
    if (!allow && emergencyId && system.emergencyFields.has(f)) allow = widened = true;
    fields[f] = allow ? 'allow' : 'mask';
  }
  // Reasons name every basis a field was allowed on: a grant, the emergency, or both.
  const reasons = granted ? (widened ? ['grant', 'emergency'] : ['grant']) : ['emergency'];
  return { decision: 'permit', fields, reasons, ...(emergencyId ? { emergencyId } : {}) };
}
