import * as client from 'openid-client';
import type { Logger } from 'pino';
import type { Keyring } from '../credentials/encryption.js';
import { consoleProblems } from './errors.js';

/**
 * The console as an OpenID Connect relying party (openid-client v6): authorization code flow
 * with PKCE (S256), state and nonce. What the browser must bring back — state, nonce, the PKCE
 * verifier, where to return — travels in a short-lived login cookie sealed with AES-256-GCM
 * (the keyring), so any replica can finish a sign-in another one started.
 */
export interface RelyingPartyOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  redirectUri: string;
  personClaim: string;
  /** http:// issuers (the in-process development provider) are allowed only when this is set. */
  allowHttp: boolean;
  /** Extra authorization request parameters (the development provider asks who to be every time: prompt=login). */
  authorizationParams?: Record<string, string>;
  keyring: Keyring;
  logger: Logger;
}

interface LoginState {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  /** Epoch ms when the login started; the cookie is refused after LOGIN_TTL_MS. */
  at: number;
}

export const LOGIN_TTL_MS = 10 * 60_000;
const AAD = 'sekisho:console-login:v1';
const PERSON_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export class ConsoleRelyingParty {
  private discovered: Promise<client.Configuration> | undefined;

  constructor(readonly opts: RelyingPartyOptions) {}

  /** Discovery once, lazily (the provider may be this very process, listening only later); retried after a failure. */
  private configuration(): Promise<client.Configuration> {
    this.discovered ??= client
      .discovery(
        new URL(this.opts.issuer),
        this.opts.clientId,
        undefined,
        this.opts.clientSecret ? client.ClientSecretBasic(this.opts.clientSecret) : client.None(),
        this.opts.allowHttp ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        this.discovered = undefined;
        this.opts.logger.error({ err, issuer: this.opts.issuer }, 'OpenID Provider discovery failed');
        throw consoleProblems.notConfigured('the OpenID Provider could not be reached; try again shortly');
      });
    return this.discovered;
  }

  /** The provider's authorization URL and the sealed login cookie value to set. */
  async start(returnTo: string, now: Date): Promise<{ url: URL; cookie: string }> {
    const config = await this.configuration();
    const login: LoginState = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier: client.randomPKCECodeVerifier(),
      returnTo,
      at: now.getTime(),
    };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.opts.redirectUri,
      scope: 'openid profile email',
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(login.verifier),
      code_challenge_method: 'S256',
      state: login.state,
      nonce: login.nonce,
      ...this.opts.authorizationParams,
    });
    return { url, cookie: this.seal(login) };
  }

  /**
   * Finishes the flow at the callback: the code is exchanged (PKCE verifier, state and nonce
   * checked by openid-client), and the person id is read from the configured claim — in the ID
   * token, else from the UserInfo endpoint. Returns the person id and where to go next.
   */
  async finish(callbackUrl: URL, cookie: string | undefined, now: Date): Promise<{ personId: string; returnTo: string; subject: string }> {
    const login = cookie ? this.open(cookie) : undefined;
    if (!login || now.getTime() - login.at > LOGIN_TTL_MS || login.at > now.getTime() + 60_000) {
      throw consoleProblems.signInFailed('the sign-in took too long or was started in another browser; start again');
    }
    const config = await this.configuration();
    let tokens;
    try {
      tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: login.verifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      this.opts.logger.warn({ err: { name: (err as Error).name, message: (err as Error).message, code: (err as { code?: string }).code } }, 'console sign-in: code exchange refused');
      throw consoleProblems.signInFailed('the OpenID Provider’s answer could not be verified; start again');
    }
    const claims = tokens.claims()!;
    let value: unknown = claims[this.opts.personClaim];
    if (value === undefined && tokens.access_token) {
      const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      value = info[this.opts.personClaim];
    }
    if (typeof value !== 'string' || !PERSON_ID.test(value)) {
      this.opts.logger.warn({ claim: this.opts.personClaim, sub: claims.sub }, 'console sign-in: the person claim is missing or not a person id');
      throw consoleProblems.signInFailed(`the OpenID Provider sent no usable '${this.opts.personClaim}' claim`);
    }
    return { personId: value, returnTo: login.returnTo, subject: claims.sub };
  }

  private seal(login: LoginState): string {
    const s = this.opts.keyring.seal(JSON.stringify(login), AAD);
    return [s.keyId, s.iv, s.authTag, s.ciphertext].map((p) => (typeof p === 'string' ? Buffer.from(p).toString('base64url') : p.toString('base64url'))).join('.');
  }

  private open(cookie: string): LoginState | undefined {
    const parts = cookie.split('.');
    if (parts.length !== 4) return undefined;
    try {
      const [kid, iv, tag, ct] = parts.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer, Buffer];
      const json = this.opts.keyring.open({ keyId: kid.toString(), iv, authTag: tag, ciphertext: ct }, AAD).toString('utf8');
      return JSON.parse(json) as LoginState;
    } catch {
      return undefined;
    }
  }
}
