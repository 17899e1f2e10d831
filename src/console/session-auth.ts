import type { Request } from 'express';
import type { Scope } from '../credentials/schema.js';
import { common } from '../errors.js';
import type { AppDeps } from '../http/deps.js';
import { cookieNames, readCookie } from './cookies.js';
import { consoleProblems } from './errors.js';
import { consoleIdentity, scopesOf, type ConsoleIdentity } from './roles.js';
import { csrfTokenValid, findLiveSession, isSteppedUp, type ConsoleSession } from './sessions.js';

export interface SessionContext {
  session: ConsoleSession;
  identity: ConsoleIdentity;
}

export const isSecure = (deps: AppDeps): boolean => new URL(deps.config.publicUrl).protocol === 'https:';

export const hasSessionCookie = (deps: AppDeps, req: Request): boolean => readCookie(req, cookieNames(isSecure(deps)).session) !== undefined;

/** The live session behind the request's cookie and who it belongs to now, or undefined. */
export async function sessionFromRequest(deps: AppDeps, req: Request, now: Date): Promise<SessionContext | undefined> {
  const id = readCookie(req, cookieNames(isSecure(deps)).session);
  if (!id) return undefined;
  const session = await findLiveSession({ db: deps.db, now, id, idleMinutes: deps.config.console.idleMinutes });
  if (!session) return undefined;
  const identity = await consoleIdentity(deps.db, now, deps.config, session.personId);
  return identity && { session, identity };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A state-changing request riding on the session cookie must prove it came from the console:
 * an Origin header, when sent, equal to the public origin; and the session's synchronizer token
 * in x-csrf-token (scripts) or the `_csrf` form field (pages).
 */
export function checkCsrf(deps: AppDeps, req: Request, session: ConsoleSession, formToken?: unknown): void {
  if (SAFE_METHODS.has(req.method)) return;
  const origin = req.get('origin');
  if (origin !== undefined && origin !== new URL(deps.config.publicUrl).origin) throw consoleProblems.csrfRejected('the request came from another origin');
  if (!csrfTokenValid(session, req.get('x-csrf-token') ?? formToken)) throw consoleProblems.csrfRejected('the CSRF token is missing or not this session’s');
}

/** Sensitive acts: refused with 403 unless the session holds a passkey assertion less than 5 minutes old. */
export function assertSteppedUp(session: ConsoleSession, now: Date): void {
  if (!isSteppedUp(session, now)) {
    throw consoleProblems.stepUpRequired('confirm with your passkey (POST /console/step-up/options, then /console/step-up/verify) and retry within 5 minutes');
  }
}

export interface SessionPrincipal {
  kind: 'session';
  personId: string;
  scopes: Scope[];
  actor: string;
  session: ConsoleSession;
}

/**
 * The API called by a person through their console session (no Authorization header): the
 * session must be live, the request must carry the CSRF token, and the person's console roles
 * must give the scope. Sensitive routes additionally check the step-up (route.ts).
 */
export async function authenticateSession(deps: AppDeps, req: Request, scope: Scope): Promise<SessionPrincipal> {
  const now = deps.clock();
  const ctx = await sessionFromRequest(deps, req, now);
  if (!ctx) throw common.unauthenticated('the console session has ended; sign in again, or send Authorization: Bearer <token>');
  checkCsrf(deps, req, ctx.session);
  const scopes = scopesOf(ctx.identity);
  if (!scopes.includes(scope)) throw consoleProblems.roleRequired(`this endpoint needs the '${scope}' scope, which your console roles do not give`);
  return { kind: 'session', personId: ctx.identity.personId, scopes, actor: `console:${ctx.identity.personId}`, session: ctx.session };
}
