import type { Request } from 'express';
import { findActiveToken } from '../credentials/api-tokens.js';
import type { Scope } from '../credentials/schema.js';
import { common } from '../errors.js';
import type { AppDeps } from './deps.js';

export interface Principal {
  kind: 'token';
  tokenId: string;
  scopes: Scope[];
  /** How audit records name who acted. */
  actor: string;
}

/** Bearer token with the required scope: missing/invalid → 401, valid without the scope → 403. */
export async function authenticate(deps: AppDeps, req: Request, scope: Scope): Promise<Principal> {
  const header = req.get('authorization');
  const match = header && /^Bearer\s+([A-Za-z0-9._~+/=-]{16,512})$/.exec(header);
  if (!match) throw common.unauthenticated('send Authorization: Bearer <token>');
  const token = await findActiveToken(deps.db, match[1]!);
  if (!token) throw common.unauthenticated('the token is not valid');
  if (!token.scopes.includes(scope)) throw common.forbidden(`this endpoint needs the '${scope}' scope`);
  return { kind: 'token', tokenId: token.tokenId, scopes: token.scopes, actor: `token:${token.name}:${token.tokenId}` };
}
