/**
 * The real `@azure/keyvault-secrets` SecretClient, its challenge-resource verification left on.
 * - Through the proxy block (issue 12's "done means"): a program doing
 *   `new SecretClient("https://<vault>.vault.azure.net", new DefaultAzureCredential())`, unchanged, in a
 *   child process (test/fixtures/key-vault-sdk.mjs) whose environment is only `handle.proxyEnv()`:
 *   the zero-config VM identity reads the sample secret and may not write; an identity without a role
 *   may not even read (403 ForbiddenByRbac); every secret operation for a Secrets Officer.
 * - On the direct https endpoint (`keyVault.port`), TLS from the same local CA: the vault is reached as
 *   `https://<vault>.vault.localhost:<port>`. `*.vault.localhost` does not resolve in Node, so the
 *   client's https agent resolves it to loopback and trusts the CA: both are client options.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Agent, type AgentOptions } from 'node:https';
import type { LookupFunction } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { ManagedIdentityCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { allowAll } from '../support/key-vault.js';
import { assertWriteForbiddenByRbac, readSecret } from '../support/key-vault-sdk.js';
import { blockOnly } from '../support/proxy.js';
import { isolateSdkEnvironment } from '../support/sdk-env.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../fixtures/key-vault-sdk.mjs', import.meta.url));

/** Runs the fixture's `steps` against `https://<default vault>.vault.azure.net` with only the proxy block. */
async function program(
  azimds: EmulatorHandle,
  steps: string[],
  extra: Record<string, string> = {},
): Promise<{ ok: boolean; step?: string; message?: string }> {
  const vault = azimds.state.keyVaults.catalog.defaultVault()?.name as string;
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', SCRIPT, `https://${vault}.vault.azure.net`, ...steps],
    { cwd: ROOT, env: blockOnly(azimds.proxyEnv(), extra), timeout: 120_000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop() as string);
}

describe('SecretClient("https://<vault>.vault.azure.net", new DefaultAzureCredential()) through the proxy block', () => {
  let azimds: EmulatorHandle;
  before(async () => {
    azimds = await startEmulator();
  });
  after(() => azimds.close());

  test('zero config: the VM identity reads the sample secret; a write gets 403 ForbiddenByRbac', async () => {
    assert.deepEqual(await program(azimds, ['read', 'write-forbidden']), {
      ok: true,
      steps: ['read', 'write-forbidden'],
    });
  });

  test('every secret operation as a Secrets Officer', async () => {
    const assignments = azimds.state.keyVaults.checker;
    azimds.state.keyVaults.useChecker(allowAll);
    try {
      assert.deepEqual(await program(azimds, ['every']), { ok: true, steps: ['every'] });
    } finally {
      azimds.state.keyVaults.useChecker(assignments);
      azimds.state.keyVaults.reset();
    }
  });
});

describe('SecretClient through the proxy block, an identity without a role', () => {
  let azimds: EmulatorHandle;
  before(async () => {
    azimds = await startEmulator({ world: { roleAssignments: [] } });
  });
  after(() => azimds.close());

  test('reading the secret fails as Azure fails it: 403 Forbidden, ForbiddenByRbac', async () => {
    assert.deepEqual(await program(azimds, ['read-forbidden']), { ok: true, steps: ['read-forbidden'] });
  });
});

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

describe('@azure/keyvault-secrets SecretClient on the direct https endpoint (local CA)', () => {
  let azimds: EmulatorHandle;
  let port: string;
  let restore: () => void;
  let vaultUrl: string;
  let ca: string;

  before(async () => {
    azimds = await startEmulator({ keyVault: { port: 0 } });
    ca = azimds.state.localCa.certPem();
    port = new URL(azimds.urls['key-vault'] as string).port;
    const vault = azimds.state.keyVaults.catalog.defaultVault()?.name as string;
    vaultUrl = `https://${vault}.vault.localhost:${port}`;
    restore = isolateSdkEnvironment({ AZURE_POD_IDENTITY_AUTHORITY_HOST: azimds.urls.imds });
  });
  after(async () => {
    restore();
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
    const url = `https://127.0.0.1:${port}`;
    const options = { additionalPolicies: [{ policy: agentPolicy(ca), position: 'perCall' as const }] };
    const strict = new SecretClient(url, new ManagedIdentityCredential(), options);
    await assert.rejects(strict.getSecret('sample-secret'), /does not match the requested domain/);
    const relaxed = new SecretClient(url, new ManagedIdentityCredential(), {
      ...options,
      disableChallengeResourceVerification: true,
    });
    await readSecret(relaxed, 'sample-secret', 'Hello from azimds Key Vault');
  });
});
