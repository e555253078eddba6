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
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import type { ManagedIdentity } from '../../src/core/identities/identity.js';
import type { EmulatorHandle } from '../../src/server/emulator.js';

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

/** A resource server's verifier for this emulator's tokens (the tenant's discovery document → JWKS). */
export async function tokenVerifier(azimds: EmulatorHandle) {
  const tenant = azimds.state.identities.tenantId;
  const discovery = (await (
    await fetch(`${azimds.urls.imds}/${tenant}/.well-known/openid-configuration`)
  ).json()) as { jwks_uri: string; issuer: string };
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
  return async (result: SdkResult, audience: string, identity: ManagedIdentity): Promise<JWTPayload> => {
    assert.ok(result.ok, `the SDK failed: ${result.ok ? '' : result.message}`);
    const { payload } = await jwtVerify(result.token, jwks, {
      issuer: discovery.issuer,
      audience,
      algorithms: ['RS256'],
    });
    assert.ok((payload.exp ?? 0) > Date.now() / 1000, 'not expired');
    assert.equal(payload.appid, identity.clientId);
    assert.equal(payload.oid, identity.principalId);
    assert.equal(payload.xms_mirid, identity.resourceId);
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
