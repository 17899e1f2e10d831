import { expect } from 'vitest';
import type { TestServer } from './http.js';
import { SoftAuthenticator } from './soft-authenticator.js';

export type PasskeyClient = ReturnType<typeof passkeyClient>;

/**
 * The calls a connected system's back end makes to drive passkey ceremonies for its users,
 * with its `authn` token, answered by software authenticators for the server's origin.
 */
export function passkeyClient(server: TestServer, authnToken: string) {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${authnToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const softAuthenticator = (opts?: { counts?: boolean }) => new SoftAuthenticator({ origin: server.publicUrl, id: 'localhost' }, opts);
  return {
    post,
    softAuthenticator,
    registrationOptions: (personId: string) => post('/v1/webauthn/registration/options', { personId }),
    authenticationOptions: (personId?: string) => post('/v1/webauthn/authentication/options', personId ? { personId } : {}),
    /** Registers a fresh software passkey for the person; returns it and the credential view. */
    async enrol(personId: string, opts?: { counts?: boolean }) {
      const authenticator = softAuthenticator(opts);
      const { body: start } = await post('/v1/webauthn/registration/options', { personId });
      const done = await post('/v1/webauthn/registration/verify', { challengeId: start.challengeId, response: authenticator.register(start.options as { challenge: string }) });
      expect(done.status).toBe(201);
      return { authenticator, credential: done.body };
    },
    /** One sign-in ceremony: options, an assertion from the authenticator, verification. */
    async signIn(authenticator: SoftAuthenticator, opts: { personId?: string; signCount?: number; terminalId?: string } = {}) {
      const { body: start } = await post('/v1/webauthn/authentication/options', opts.personId ? { personId: opts.personId } : {});
      const response = authenticator.assert(start.options as { challenge: string }, { signCount: opts.signCount });
      const res = await post('/v1/webauthn/authentication/verify', { challengeId: start.challengeId, response, ...(opts.terminalId ? { terminalId: opts.terminalId } : {}) });
      return { ...res, challengeId: start.challengeId as string, response };
    },
  };
}
