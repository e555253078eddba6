/**
 * Client tests of the managed-identity platforms: run a real SDK (@azure/identity or @azure/msal-node)
 * in a child process whose environment is exactly what `handle.env(platform)` gives (plus PATH and
 * HOME), and verify the token the way a resource server does: discovery → JWKS (jose), signature,
 * aud, iss, exp.
 *
 * A child process per call: the SDKs choose the platform from the environment when a credential is
 * built and msal-node keeps that source process-wide, and Node reads NODE_EXTRA_CA_CERTS (Service
 * Fabric's certificate) only at start-up — in-process tests could not do either cleanly.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import type { ManagedIdentity } from '../../src/core/identities/identity.js';
import { type EmulatorHandle, type EmulatorOptions, startEmulator } from '../../src/server/emulator.js';

const run = promisify(execFile);
const RUNNER = fileURLToPath(new URL('./sdk-token.mjs', import.meta.url));

export interface SdkRequest {
  sdk: 'identity' | 'msal';
  /** @azure/identity: a scope (`https://vault.azure.net/.default`). */
  scope?: string;
  /** msal-node: a resource (`https://vault.azure.net`). */
  resource?: string;
  /** A user-assigned identity. */
  id?: { clientId?: string; objectId?: string; resourceId?: string };
  /** @azure/identity retries (`retryOptions.maxRetries`); msal-node: 0 disables its internal retries. */
  maxRetries?: number;
}

export type SdkResult =
  | { ok: true; token: string; source?: string }
  | { ok: false; source?: string; name?: string; errorCode?: string; message: string };

/** Runs the SDK with exactly `env` (variables set to `undefined` are absent) plus PATH and HOME. */
export async function runSdk(
  env: Record<string, string | undefined>,
  request: SdkRequest,
): Promise<SdkResult> {
  const childEnv: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'SystemRoot', 'TEMP', 'TMP']) {
    const value = process.env[name];
    if (value !== undefined) childEnv[name] = value;
  }
  for (const [name, value] of Object.entries(env)) if (value !== undefined) childEnv[name] = value;
  const { stdout } = await run(process.execPath, [RUNNER, JSON.stringify(request)], {
    env: childEnv,
    timeout: 60_000,
  });
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as SdkResult;
}

/**
 * A resource server's check of this emulator's tokens, done once at start like one: the tenant's
 * discovery document, then its JWKS (jose). The returned function verifies signature (RS256), issuer,
 * audience and expiry, and returns the claims.
 */
export async function jwksVerifier(
  azimds: EmulatorHandle,
): Promise<(token: string, audience: string) => Promise<JWTPayload>> {
  const tenant = azimds.state.identities.tenantId;
  const discovery = (await (
    await fetch(`${azimds.urls.imds}/${tenant}/.well-known/openid-configuration`)
  ).json()) as { jwks_uri: string; issuer: string };
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
  return async (token, audience) => {
    const { payload } = await jwtVerify(token, jwks, {
      issuer: discovery.issuer,
      audience,
      algorithms: ['RS256'],
    });
    assert.ok((payload.exp ?? 0) > Date.now() / 1000, 'not expired');
    return payload;
  };
}

/** Asserts that `payload` is a token of `identity`: appid, oid and xms_mirid. */
export function assertIdentityClaims(payload: JWTPayload, identity: ManagedIdentity): void {
  assert.equal(payload.appid, identity.clientId);
  assert.equal(payload.oid, identity.principalId);
  assert.equal(payload.xms_mirid, identity.resourceId);
}

/** Verifies an SDK result: it succeeded, its token verifies (jwksVerifier) and is `identity`'s. */
export type TokenVerifier = (
  result: SdkResult,
  audience: string,
  identity: ManagedIdentity,
) => Promise<JWTPayload>;

/** A resource server's verifier for this emulator's tokens (the tenant's discovery document → JWKS). */
export async function tokenVerifier(azimds: EmulatorHandle): Promise<TokenVerifier> {
  const verifyJwt = await jwksVerifier(azimds);
  return async (result, audience, identity) => {
    assert.ok(result.ok, `the SDK failed: ${result.ok ? '' : result.message}`);
    const payload = await verifyJwt(result.token, audience);
    assertIdentityClaims(payload, identity);
    return payload;
  };
}

/** The failure of an SDK call, asserted. */
export function failure(result: SdkResult): Extract<SdkResult, { ok: false }> {
  assert.equal(result.ok, false, 'the SDK was expected to fail');
  return result as Extract<SdkResult, { ok: false }>;
}

/** The identities of an emulator: system-assigned and user-assigned, asserted present. */
export function identitiesOf(azimds: EmulatorHandle): {
  system: ManagedIdentity;
  users: readonly ManagedIdentity[];
} {
  const { systemAssigned, userAssigned } = azimds.state.identities.current;
  assert.ok(systemAssigned);
  return { system: systemAssigned, users: userAssigned };
}

/** A test file's (or describe block's) emulator for SDK runs on one platform; see platformSdkSuite. */
export interface PlatformSdkSuite {
  readonly azimds: EmulatorHandle;
  /** `azimds.env(platform)`: what `azimds env --platform` prints. */
  readonly env: Record<string, string | undefined>;
  /** The system-assigned identity. */
  readonly system: ManagedIdentity;
  /** The user-assigned identity at `index`, asserted present. */
  user(index: number): ManagedIdentity;
  /** Runs the SDK with the platform's environment, `overrides` applied (`undefined`: removed). */
  run(request: SdkRequest, overrides?: Record<string, string | undefined>): Promise<SdkResult>;
  readonly verify: TokenVerifier;
  /** `run(request)`, then `verify` that the token is `identity`'s for `audience`. */
  token(request: SdkRequest, audience: string, identity: ManagedIdentity): Promise<JWTPayload>;
}

/**
 * Starts an emulator with `options` in a `before` hook and closes it in an `after` hook of the
 * enclosing file or describe block, for SDK runs with `platform`'s environment. The suite's members
 * are usable inside tests (once `before` has run).
 */
export function platformSdkSuite(platform: string, options: EmulatorOptions): PlatformSdkSuite {
  let azimds: EmulatorHandle | undefined;
  let ready: { env: Record<string, string | undefined>; verify: TokenVerifier } | undefined;
  before(async () => {
    azimds = await startEmulator(options);
    ready = { env: azimds.env(platform), verify: await tokenVerifier(azimds) };
  });
  after(() => azimds?.close());
  const started = () => {
    if (!azimds || !ready) throw new Error('platformSdkSuite: used before its before() hook ran');
    return { azimds, ...ready };
  };
  const run = (request: SdkRequest, overrides: Record<string, string | undefined> = {}) =>
    runSdk({ ...started().env, ...overrides }, request);
  const verify: TokenVerifier = (result, audience, identity) => started().verify(result, audience, identity);
  return {
    get azimds() {
      return started().azimds;
    },
    get env() {
      return started().env;
    },
    get system() {
      return identitiesOf(started().azimds).system;
    },
    user(index) {
      const identity = identitiesOf(started().azimds).users[index];
      assert.ok(identity, `user-assigned identity ${index}`);
      return identity;
    },
    run,
    verify,
    token: async (request, audience, identity) => verify(await run(request), audience, identity),
  };
}
