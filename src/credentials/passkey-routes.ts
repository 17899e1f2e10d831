import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../http/deps.js';
import { mountRoute, type RouteTable } from '../http/route.js';
import { orgId } from '../http/zod-types.js';
import { toCredentialView } from './issue.js';
import { authenticatePasskey, finishPasskeyRegistration, relyingParty, startPasskeyAuthentication, startPasskeyRegistration } from './passkeys.js';
import { authnOut, credentialOut } from './schemas.js';

/*
 * Connected systems' back ends drive the WebAuthn ceremonies for their users (scope `authn`):
 * they fetch options here, hand them to the browser (@simplewebauthn/browser), and post the
 * browser's answer back. The envelope is checked here; the cryptography is @simplewebauthn/server's.
 */

const b64url = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');

/** A credential id is at most 1023 bytes: 1364 base64url characters. */
const credentialId = b64url(1364);

const envelope = <R extends z.ZodType>(response: R) =>
  z
    .strictObject({
      id: credentialId,
      rawId: credentialId,
      type: z.literal('public-key'),
      response,
      authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
      clientExtensionResults: z.record(z.string(), z.unknown()),
    })
    .refine((c) => c.id === c.rawId, { path: ['rawId'], message: 'must equal id' });

const registrationResponse = envelope(
  z.strictObject({
    clientDataJSON: b64url(8192),
    attestationObject: b64url(65536),
    authenticatorData: b64url(65536).optional(),
    transports: z.array(z.string().max(32)).max(16).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: b64url(8192).optional(),
  }),
);

const authenticationResponse = envelope(
  z.strictObject({
    clientDataJSON: b64url(8192),
    authenticatorData: b64url(65536),
    signature: b64url(2048),
    userHandle: b64url(1024).optional(),
  }),
);

export const registrationOptionsBody = z.strictObject({ personId: orgId });
export const registrationVerifyBody = z.strictObject({ challengeId: z.uuid(), response: registrationResponse });
export const authenticationOptionsBody = z.strictObject({ personId: orgId.optional() });
export const authenticationVerifyBody = z.strictObject({ challengeId: z.uuid(), response: authenticationResponse, terminalId: orgId.optional() });

const descriptorOut = z.object({ id: z.string(), type: z.literal('public-key'), transports: z.array(z.string()).optional() });
const extensionsOut = z.record(z.string(), z.unknown()).optional();

export const registrationOptionsOut = z.object({
  challengeId: z.string(),
  options: z.object({
    rp: z.object({ name: z.string(), id: z.string().optional() }),
    user: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
    challenge: z.string(),
    pubKeyCredParams: z.array(z.object({ alg: z.number(), type: z.literal('public-key') })),
    timeout: z.number().optional(),
    excludeCredentials: z.array(descriptorOut).optional(),
    authenticatorSelection: z
      .object({
        authenticatorAttachment: z.string().optional(),
        requireResidentKey: z.boolean().optional(),
        residentKey: z.string().optional(),
        userVerification: z.string().optional(),
      })
      .optional(),
    hints: z.array(z.string()).optional(),
    attestation: z.string().optional(),
    attestationFormats: z.array(z.string()).optional(),
    extensions: extensionsOut,
  }),
});

export const authenticationOptionsOut = z.object({
  challengeId: z.string(),
  options: z.object({
    challenge: z.string(),
    timeout: z.number().optional(),
    rpId: z.string().optional(),
    allowCredentials: z.array(descriptorOut).optional(),
    userVerification: z.string().optional(),
    hints: z.array(z.string()).optional(),
    extensions: extensionsOut,
  }),
});

export function mountPasskeyRoutes(router: Router, table: RouteTable, deps: AppDeps): void {
  const rp = relyingParty(deps.config.publicUrl);

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/webauthn/registration/options',
    tag: 'webauthn',
    summary: 'Start registering a passkey for a person affiliated now (challenge valid 5 minutes, once)',
    auth: 'authn',
    body: registrationOptionsBody,
    responses: { 200: { description: 'Creation options for navigator.credentials.create', schema: registrationOptionsOut } },
    handler: async ({ body, now }) => ({ status: 200, body: await startPasskeyRegistration({ db: deps.db, now, rp, personId: body.personId }) }),
  });

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/webauthn/registration/verify',
    tag: 'webauthn',
    summary: "Verify the authenticator's answer and store the passkey under the person's current company",
    auth: 'authn',
    body: registrationVerifyBody,
    bodyLimit: '160kb',
    responses: { 201: { description: 'Passkey registered', schema: credentialOut } },
    handler: async ({ body, now, actor }) => {
      const credential = await finishPasskeyRegistration({
        db: deps.db,
        now,
        rp,
        logger: deps.logger,
        actor,
        challengeId: body.challengeId,
        // Envelope checked above; the library checks everything inside it.
        response: body.response as RegistrationResponseJSON,
      });
      return { status: 201, body: toCredentialView(credential) };
    },
  });

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/webauthn/authentication/options',
    tag: 'webauthn',
    summary: "Start a passkey sign-in, for a named person's passkeys or any discoverable one (challenge valid 5 minutes, once)",
    auth: 'authn',
    body: authenticationOptionsBody,
    responses: { 200: { description: 'Request options for navigator.credentials.get', schema: authenticationOptionsOut } },
    handler: async ({ body, now }) => ({ status: 200, body: await startPasskeyAuthentication({ db: deps.db, now, rp, personId: body.personId }) }),
  });

  mountRoute(router, table, deps, {
    method: 'post',
    path: '/v1/webauthn/authentication/verify',
    tag: 'webauthn',
    summary: 'Verify a passkey assertion at the instant of use (401 says only "invalid credentials")',
    auth: 'authn',
    body: authenticationVerifyBody,
    bodyLimit: '160kb',
    responses: { 200: { description: 'Authenticated', schema: authnOut } },
    handler: async ({ body, now, actor }) => ({
      status: 200,
      body: await authenticatePasskey({
        db: deps.db,
        now,
        caller: actor,
        terminalId: body.terminalId,
        rp,
        logger: deps.logger,
        challengeId: body.challengeId,
        response: body.response as AuthenticationResponseJSON,
      }),
    }),
  });
}
