import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/**
 * A software passkey for tests without a browser: one P-256 (ES256) key, 'none' attestation,
 * and assertions signed exactly as an authenticator signs them (authenticatorData ‖
 * SHA-256(clientDataJSON), DER-encoded ECDSA). The signature counter is the test's to choose,
 * so clones and counters that go backwards can be played.
 */
export class SoftAuthenticator {
  readonly credentialId = randomBytes(32);
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  /** The counter as of the last signature: 0 at registration, then +1 per assertion (if it counts). */
  signCount = 0;

  /** `counts: false` plays an authenticator without a counter (many synced passkeys): always 0. */
  constructor(
    readonly rp: { origin: string; id: string },
    readonly opts: { counts?: boolean } = {},
  ) {
    ({ privateKey: this.privateKey, publicKey: this.publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  }

  get id(): string {
    return this.credentialId.toString('base64url');
  }

  /** The answer to navigator.credentials.create(options), as @simplewebauthn/browser would post it. */
  register(options: { challenge: string }, opts: { origin?: string } = {}): RegistrationResponseJSON {
    const clientDataJSON = this.clientData('webauthn.create', options.challenge, opts.origin);
    const jwk = this.publicKey.export({ format: 'jwk' });
    const coseKey = new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, Buffer.from(jwk.x!, 'base64url')],
      [-3, Buffer.from(jwk.y!, 'base64url')],
    ]);
    const credIdLen = Buffer.alloc(2);
    credIdLen.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([
      this.authDataHead(0x01 | 0x04 | 0x40, this.signCount), // UP | UV | AT
      Buffer.alloc(16), // aaguid
      credIdLen,
      this.credentialId,
      Buffer.from(isoCBOR.encode(coseKey)),
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, Parameters<typeof isoCBOR.encode>[0]>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', new Uint8Array(authData)],
      ]),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        attestationObject: Buffer.from(attestationObject).toString('base64url'),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** The answer to navigator.credentials.get(options); the counter advances unless one is forced (a clone). */
  assert(options: { challenge: string }, opts: { signCount?: number; origin?: string } = {}): AuthenticationResponseJSON {
    const counter = opts.signCount ?? (this.opts.counts === false ? 0 : ++this.signCount);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, opts.origin);
    const authenticatorData = this.authDataHead(0x01 | 0x04, counter); // UP | UV
    const signature = sign('sha256', Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]), this.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authenticatorData.toString('base64url'),
        signature: signature.toString('base64url'),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  private clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string, origin = this.rp.origin): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** rpIdHash(32) ‖ flags(1) ‖ signCount(4, big-endian). */
  private authDataHead(flags: number, signCount: number): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(signCount);
    return Buffer.concat([createHash('sha256').update(this.rp.id).digest(), Buffer.from([flags]), count]);
  }
}
