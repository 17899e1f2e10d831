import { SignJWT } from 'jose';
import { SET_ALG, type SigningKey } from './signing-keys.js';

/**
 * Security Event Tokens (RFC 8417) carrying OpenID CAEP 1.0 events, subject identified the
 * Shared Signals way (top-level `sub_id`, RFC 9493 "opaque" format: the person id).
 * Only events CAEP has a type for are sent as SETs; see SET_EVENT_TYPES.
 */
export const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
export const SESSION_REVOKED = `${CAEP}session-revoked`;
export const CREDENTIAL_CHANGE = `${CAEP}credential-change`;

/** Outbox event types a 'set' subscriber can receive. */
export const SET_EVENT_TYPES = ['credential.revoked', 'session.revoked'] as const;

/**
 * Our credential types → CAEP credential_type. CAEP lists password and FIDO types and allows
 * other values agreed with the receiver: badges and API tokens have no CAEP name.
 */
const CREDENTIAL_TYPES: Record<string, string> = {
  password: 'password',
  passkey: 'fido2-platform',
  badge: 'badge',
  api_token: 'api-token',
};

export interface SetEventInput {
  type: string;
  subjectType: string;
  subjectId: string;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

/** The CAEP `events` claim for an outbox event, or undefined when CAEP has no such event. */
export function caepEvents(e: SetEventInput): Record<string, Record<string, unknown>> | undefined {
  if (e.subjectType !== 'person') return undefined;
  const common = {
    event_timestamp: Math.floor(e.occurredAt.getTime() / 1000),
    initiating_entity: 'policy',
    ...(typeof e.payload.reason === 'string' ? { reason_admin: { en: e.payload.reason } } : {}),
  };
  if (e.type === 'session.revoked') return { [SESSION_REVOKED]: common };
  if (e.type === 'credential.revoked') {
    const t = String(e.payload.credentialType ?? '');
    return { [CREDENTIAL_CHANGE]: { credential_type: CREDENTIAL_TYPES[t] ?? t, change_type: 'revoke', ...common } };
  }
  return undefined;
}

/** Signs one SET: header {alg, kid, typ: secevent+jwt}; jti is the delivery's idempotency key. */
export async function signSet(args: {
  key: SigningKey;
  issuer: string;
  audience: string;
  jti: string;
  now: Date;
  subjectId: string;
  events: Record<string, Record<string, unknown>>;
}): Promise<string> {
  return new SignJWT({ sub_id: { format: 'opaque', id: args.subjectId }, events: args.events })
    .setProtectedHeader({ alg: SET_ALG, kid: args.key.kid, typ: 'secevent+jwt' })
    .setIssuer(args.issuer)
    .setJti(args.jti)
    .setIssuedAt(Math.floor(args.now.getTime() / 1000))
    .setAudience(args.audience)
    .sign(args.key.privateKey);
}
