/**
 * The real `@azure/keyvault-secrets` SecretClient with ManagedIdentityCredential (IMDS) against Key
 * Vault's direct endpoint over https, its challenge-resource verification left on: the vault is
 * reached as `https://<vault>.vault.localhost:<port>`. The SDK refuses bearer tokens over plain http
 * ("Bearer token authentication is not permitted for non-TLS protected (non-https) URLs"), so the
 * endpoint gets a throw-away self-signed certificate here (the local CA replaces it after the merge).
 * `*.vault.localhost` does not resolve in Node, so the client's https agent resolves it to loopback
 * and trusts the certificate: both are client options, the SDK itself is unchanged.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Agent, type AgentOptions } from 'node:https';
import type { LookupFunction } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { ManagedIdentityCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { keyVaultListenerSpec } from '../../src/protocols/key-vault/listener.js';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { type RunningListener, startListener } from '../../src/server/listener.js';
import { createLogger } from '../../src/server/logger.js';
import { allowAll } from '../support/key-vault.js';
import {
  assertWriteForbiddenByRbac,
  exerciseEverySecretOperation,
  readSecret,
} from '../support/key-vault-sdk.js';
import { selfSignedVaultCertificate } from '../support/key-vault-tls.js';
import { isolateSdkEnvironment } from '../support/sdk-env.js';

/** Resolves every name to 127.0.0.1 (the client-side resolver `*.vault.localhost` needs in Node). */
const loopback: LookupFunction = (_hostname, options, callback) => {
  if ((options as { all?: boolean }).all)
    (callback as (e: null, a: unknown[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

/** A per-call policy giving every request an https agent that trusts `ca` and resolves to loopback. */
function agentPolicy(ca: string): PipelinePolicy {
  const agent = new Agent({ ca, lookup: loopback } as AgentOptions);
  return {
    name: 'azimds-test-agent',
    sendRequest: (request, next) => {
      request.agent = agent;
      return next(request);
    },
  };
}

describe('@azure/keyvault-secrets SecretClient on the direct https endpoint', () => {
  let azimds: EmulatorHandle;
  let kvListener: RunningListener;
  let restore: () => void;
  let vaultUrl: string;
  let ca: string;

  before(async () => {
    azimds = await startEmulator();
    const tls = selfSignedVaultCertificate();
    ca = tls.cert;
    const spec = keyVaultListenerSpec(azimds.state);
    kvListener = await startListener(
      { ...spec, port: 0, host: '127.0.0.1', serverOptions: { https: tls } },
      createLogger('silent'),
    );
    const vault = azimds.state.keyVaults.catalog.defaultVault()?.name as string;
    vaultUrl = `https://${vault}.vault.localhost:${kvListener.port}`;
    restore = isolateSdkEnvironment({ AZURE_POD_IDENTITY_AUTHORITY_HOST: azimds.urls.imds });
  });
  after(async () => {
    restore();
    await kvListener.app.close();
    await azimds.close();
  });

  const client = () =>
    new SecretClient(vaultUrl, new ManagedIdentityCredential(), {
      additionalPolicies: [{ policy: agentPolicy(ca), position: 'perCall' }],
      retryOptions: { maxRetries: 0 },
    });

  test('reads the sample secret with the VM identity (zero config), the challenge check left on', async () => {
    await readSecret(client(), 'sample-secret', 'Hello from azimds Key Vault');
  });

  test('a Secrets User cannot write: 403 Forbidden in Azure words', async () => {
    await assertWriteForbiddenByRbac(client(), 'not-allowed');
  });

  test('on 127.0.0.1 the JS check cannot pass (documented limit); with it disabled the default vault answers', async () => {
    const url = `https://127.0.0.1:${kvListener.port}`;
    const options = { additionalPolicies: [{ policy: agentPolicy(ca), position: 'perCall' as const }] };
    const strict = new SecretClient(url, new ManagedIdentityCredential(), options);
    await assert.rejects(strict.getSecret('sample-secret'), /does not match the requested domain/);
    const relaxed = new SecretClient(url, new ManagedIdentityCredential(), {
      ...options,
      disableChallengeResourceVerification: true,
    });
    await readSecret(relaxed, 'sample-secret', 'Hello from azimds Key Vault');
  });

  test('every secret operation as a Secrets Officer', async () => {
    const assignments = azimds.state.keyVaults.checker;
    azimds.state.keyVaults.useChecker(allowAll);
    try {
      await exerciseEverySecretOperation(client(), `t${randomUUID().slice(0, 8)}`);
    } finally {
      azimds.state.keyVaults.useChecker(assignments);
      azimds.state.keyVaults.reset();
    }
  });
});
