/**
 * Sekisho's firewall policy written for two general-purpose engines, so the decision benchmark
 * can run the same policy through @cedar-policy/cedar-wasm and casbin and check that every
 * field gets the same answer as src/access/decide.ts.
 *
 * What neither engine can express is resolving time: "the affiliation segment containing now",
 * "a grant interval containing now", "an emergency active now". That is the attribute lookup
 * (a policy information point) done here per request from the same in-memory snapshot decide()
 * reads, and it is counted in each peer's time. Everything else — the terminal rule, the
 * contractor-acts-for rule, grant-or-emergency, the class rules and the customer's retailer, the
 * emergency field set — is in the Cedar policies and the casbin model/policy below.
 *
 * Cedar is given its usual shape: principal and resource as entities with attributes, the
 * record in the context, the entities of the request passed with each call (the wasm API keeps
 * policies and schemas, never entities). Most of its time is converting those values across the
 * wasm boundary: on the bench machine a call with no entities and a trivial policy took ~20 µs,
 * with this request's four entities ~300 µs; moving everything into the context saved only
 * about a third, so the idiomatic encoding stays.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { newEnforcer, newModelFromString, StringAdapter, type Enforcer } from 'casbin';
import type { CompanyKind } from '../../src/affiliation/schema.js';
import { holdsGrant, type DecisionRequest, type FieldVerdict, type PolicySnapshot } from '../../src/access/decide.js';

/** Facts at `now` about the request's person, terminal, system and record. */
export interface Facts {
  /** Company of the affiliation in force at now, if any. */
  company?: { code: string; kind: CompanyKind; actsFor?: { code: string; kind: CompanyKind } };
  /** Systems the person holds a grant on that is in force at now. */
  grantedSystems: string[];
  rosterAreas: string[];
  terminal?: { company: string; active: boolean };
  /** Areas under an emergency active at now. */
  emergencyAreas: string[];
  /** The requested fields the system declares (an unknown system declares none). */
  fields: Map<string, { cls: string; emergency: boolean }>;
}

const inside = (iv: { from: number; to: number }, t: number) => iv.from <= t && t < iv.to;

export function resolveFacts(s: PolicySnapshot, req: DecisionRequest, now: number): Facts {
  const facts: Facts = { grantedSystems: [], rosterAreas: [], emergencyAreas: [], fields: new Map() };
  const segment = s.timelines.get(req.personId)?.find((seg) => inside(seg, now));
  const company = segment ? s.companies.get(segment.company) : undefined;
  if (segment && company) {
    const target = company.actsFor ? s.companies.get(company.actsFor) : undefined;
    facts.company = { code: segment.company, kind: company.kind, ...(company.actsFor && target ? { actsFor: { code: company.actsFor, kind: target.kind } } : {}) };
  }
  const rulesKind = facts.company?.actsFor?.kind ?? facts.company?.kind;
  for (const system of s.grants.get(req.personId)?.keys() ?? []) {
    if (rulesKind && holdsGrant(s, req.personId, system, now, rulesKind)) facts.grantedSystems.push(system);
  }
  facts.rosterAreas = [...(s.roster.get(req.personId) ?? [])];
  if (req.terminalId !== undefined) facts.terminal = s.terminals.get(req.terminalId);
  for (const e of s.emergencies) if (inside(e, now)) facts.emergencyAreas.push(...e.areas);
  const system = s.systems.get(req.system);
  if (system) {
    for (const f of req.fields) {
      const cls = system.fields.get(f);
      if (cls !== undefined) facts.fields.set(f, { cls, emergency: system.emergencyFields.has(f) });
    }
  }
  return facts;
}

// ---------------------------------------------------------------------------------------------
// Cedar: one authorization per field; principal Person, resource Field, the record in context.

/** The person is affiliated, on an active terminal of their company or of the company it acts for. */
const CEDAR_PERSON_ON_OWN_TERMINAL = `
  principal has company && context has terminal && context.terminal.active &&
  (context.terminal.company == principal.company ||
    (principal.company has actsFor && context.terminal.company == principal.company.actsFor))`;

export const CEDAR_POLICIES = `
// Through a grant on the field's system: public fields to anyone; everything to the wheeling
// company (a contractor judged as the company it acts for); retailer-only fields to the
// retailer the customer is contracted with.
@id("grant")
permit (principal is Person, action == Action::"view", resource is Field)
when {
  ${CEDAR_PERSON_ON_OWN_TERMINAL} &&
  resource has class && principal.grantedSystems.contains(resource.system) &&
  (resource.class == "network.public" ||
    (if principal.company has actsFor then principal.company.actsFor.kind else principal.company.kind) == "wheeling" ||
    (resource.class == "customer.retailer-only" && context has retailer &&
      context.retailer == (if principal.company has actsFor then principal.company.actsFor else principal.company)))
};

// Disaster support: roster members, while an emergency covers the record's area, see the
// system's emergency field set and nothing else.
@id("emergency")
permit (principal is Person, action == Action::"view", resource is Field)
when {
  ${CEDAR_PERSON_ON_OWN_TERMINAL} &&
  resource has inEmergencySet && resource.inEmergencySet &&
  context has area && principal.rosterAreas.contains(context.area) && context.emergencyAreas.contains(context.area)
};
`;

const POLICY_SET_ID = 'sekisho-firewall';
const ACTION = { type: 'Action', id: 'view' };

type CedarEntity = { uid: { type: string; id: string }; attrs: Record<string, unknown>; parents: never[] };
const ref = (type: string, id: string) => ({ __entity: { type, id } });

export class CedarPeer {
  private constructor() {}

  /** Parses the policies once (the stateful API keeps them in the module). */
  static create(): CedarPeer {
    const parsed = cedar.preparsePolicySet(POLICY_SET_ID, { staticPolicies: CEDAR_POLICIES });
    if (parsed.type !== 'success') throw new Error(`cedar policies do not parse: ${JSON.stringify(parsed.errors)}`);
    return new CedarPeer();
  }

  decide(s: PolicySnapshot, req: DecisionRequest, now: number): Record<string, FieldVerdict> {
    const facts = resolveFacts(s, req, now);
    const principal = { type: 'Person', id: req.personId };
    const person: Record<string, unknown> = {
      grantedSystems: facts.grantedSystems.map((code) => ref('System', code)),
      rosterAreas: facts.rosterAreas,
    };
    const entities: CedarEntity[] = [{ uid: principal, attrs: person, parents: [] }];
    if (facts.company) {
      const { code, kind, actsFor } = facts.company;
      person.company = ref('Company', code);
      entities.push({ uid: { type: 'Company', id: code }, attrs: actsFor ? { kind, actsFor: ref('Company', actsFor.code) } : { kind }, parents: [] });
      if (actsFor) entities.push({ uid: { type: 'Company', id: actsFor.code }, attrs: { kind: actsFor.kind }, parents: [] });
    }
    for (const [f, { cls, emergency }] of facts.fields) {
      entities.push({ uid: { type: 'Field', id: `${req.system}/${f}` }, attrs: { class: cls, system: ref('System', req.system), inEmergencySet: emergency }, parents: [] });
    }
    const context: Record<string, unknown> = { emergencyAreas: facts.emergencyAreas };
    if (facts.terminal) context.terminal = { company: ref('Company', facts.terminal.company), active: facts.terminal.active };
    if (req.record.retailer != null) context.retailer = ref('Company', req.record.retailer);
    if (req.record.area != null) context.area = req.record.area;

    const out: Record<string, FieldVerdict> = {};
    for (const f of req.fields) {
      const answer = cedar.statefulIsAuthorized({
        principal,
        action: ACTION,
        resource: { type: 'Field', id: `${req.system}/${f}` },
        context: context as cedar.Context,
        preparsedPolicySetId: POLICY_SET_ID,
        entities: entities as cedar.Entities,
      });
      if (answer.type !== 'success') throw new Error(`cedar failed: ${JSON.stringify(answer.errors)}`);
      if (answer.response.diagnostics.errors.length > 0) throw new Error(`cedar policy errors: ${JSON.stringify(answer.response.diagnostics.errors)}`);
      out[f] = answer.response.decision === 'allow' ? 'allow' : 'mask';
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// casbin: ABAC over request objects; the policy rows are the class rules, the matcher the rest.

export const CASBIN_MODEL = `
[request_definition]
r = sub, obj, ctx

[policy_definition]
p = cls, kind, rel

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.sub.affiliated && r.ctx.terminalActive && (r.ctx.terminalCompany == r.sub.company || r.ctx.terminalCompany == r.sub.actsFor) && ((p.cls == r.obj.cls && has(r.sub.grantedSystems, r.obj.system) && (p.kind == "*" || p.kind == (r.sub.actsFor ? r.sub.actsForKind : r.sub.kind)) && (p.rel == "*" || r.ctx.retailer == (r.sub.actsFor ? r.sub.actsFor : r.sub.company))) || (p.cls == "emergency" && r.obj.emergency && has(r.sub.rosterAreas, r.ctx.area) && has(r.ctx.emergencyAreas, r.ctx.area)))
`;

/** Class rules: public to anyone, everything to the wheeling company, retailer-only to the customer's own retailer. */
export const CASBIN_POLICY = `
p, network.public, *, *
p, customer.retailer-only, wheeling, *
p, customer.retailer-only, *, own
p, network.internal, wheeling, *
p, emergency, *, *
`;

export class CasbinPeer {
  private constructor(private readonly enforcer: Enforcer) {}

  static async create(): Promise<CasbinPeer> {
    const enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL), new StringAdapter(CASBIN_POLICY));
    await enforcer.addFunction('has', (set: unknown, item: unknown) => set instanceof Set && set.has(item));
    return new CasbinPeer(enforcer);
  }

  decide(s: PolicySnapshot, req: DecisionRequest, now: number): Record<string, FieldVerdict> {
    const facts = resolveFacts(s, req, now);
    const sub = {
      affiliated: facts.company !== undefined,
      company: facts.company?.code,
      kind: facts.company?.kind,
      actsFor: facts.company?.actsFor?.code,
      actsForKind: facts.company?.actsFor?.kind,
      grantedSystems: new Set(facts.grantedSystems),
      rosterAreas: new Set(facts.rosterAreas),
    };
    const ctx = {
      terminalActive: facts.terminal?.active === true,
      terminalCompany: facts.terminal?.company,
      retailer: req.record.retailer ?? undefined,
      area: req.record.area ?? undefined,
      emergencyAreas: new Set(facts.emergencyAreas),
    };
    const out: Record<string, FieldVerdict> = {};
    for (const f of req.fields) {
      const field = facts.fields.get(f);
      const obj = { system: req.system, cls: field?.cls, emergency: field?.emergency === true };
      out[f] = this.enforcer.enforceSync(sub, obj, ctx) ? 'allow' : 'mask';
    }
    return out;
  }
}
