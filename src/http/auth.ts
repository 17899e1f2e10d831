import type { Request } from 'express';
import { authenticateSession, hasSessionCookie, type SessionPrincipal } from '../console/session-auth.js';
import { findActiveToken } from '../credentials/api-tokens.js';
import type { Scope } from '../credentials/schema.js';
import { common } from '../errors.js';
import type { AppDeps } from './deps.js';

export interface TokenPrincipal {
  kind: 'token';
  tokenId: string;
  scopes: Scope[];
  /** How audit records name who acted. */
  actor: string;
}

/** A machine client's bearer token, or a person's console session (cookie + CSRF token). */
export type Principal = TokenPrincipal | SessionPrincipal;

/**
 * Bearer token with the required scope: missing/invalid → 401, valid without the scope → 403.
 * Without an Authorization header, a console session cookie authenticates the person instead
 * (console/session-auth.ts): their roles give the scopes, and sensitive routes need a fresh
 * passkey step-up. An Authorization header always wins, so integrations behave as before.
 */
export async function authenticate(deps: AppDeps, req: Request, scope: Scope): Promise<Principal> {
  const header = req.get('authorization');
  if (!header && hasSessionCookie(deps, req)) return authenticateSession(deps, req, scope);
  const match = header && /^Bearer\s+([A-Za-z0-9._~+/=-]{16,512})$/.exec(header);
  if (!match) throw common.unauthenticated('send Authorization: Bearer <token>');
  const token = await findActiveToken(deps.db, match[1]!);
  if (!token) throw common.unauthenticated('the token is not valid');
  if (!token.scopes.includes(scope)) throw common.forbidden(`this endpoint needs the '${scope}' scope`);
  return { kind: 'token', tokenId: token.tokenId, scopes: token.scopes, actor: `token:${token.name}:${token.tokenId}` };
}
