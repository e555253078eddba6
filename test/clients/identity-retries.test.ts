/**
 * @azure/identity's retry behaviour against injected IMDS faults is what it is on Azure: on 429 and
 * 503 it waits Retry-After and retries, on 500 and a reset connection it backs off and retries, on 404
 * and 410 its own IMDS policy retries (410 from a 3 s base, for Azure's "back within 70 s"); when the
 * faults outlast its retries it gives up with a CredentialUnavailableError carrying the error code. The request
 * log shows every attempt.
 *
 * Kept fast: Retry-After 0, small backoff options, one 404/410 each (the 410 retry still waits 1.5-3 s,
 * the SDK's floor). Every test asks for its own
 * resource so no token cache (msal-node's is process-wide) hides a request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManagedIdentityCredential } from '@azure/identity';
import type { FaultRuleInput } from '../../src/config/faults-schema.js';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { isolateSdkEnvironment } from '../support/sdk-env.js';

const TOKEN_PATH = '/metadata/identity/oauth2/token';

let azimds: EmulatorHandle;
let restoreEnv: () => void;
let resourceCount = 0;

before(async () => {
  azimds = await startEmulator();
  restoreEnv = isolateSdkEnvironment({ AZURE_POD_IDENTITY_AUTHORITY_HOST: azimds.urls.imds });
});
after(async () => {
  restoreEnv();
  await azimds.close();
});

/**
 * msal-node keeps the IMDS source, with the network client (and so the retry options) of the FIRST
 * ManagedIdentityCredential built in the process, in a static field: every credential here must use
 * the same options. Backoff in milliseconds, not seconds; 2 retries (azure-core's default is 3).
 */
const MAX_RETRIES = 2;
function credential(): ManagedIdentityCredential {
  return new ManagedIdentityCredential({
    retryOptions: { retryDelayInMs: 5, maxRetryDelayInMs: 20, maxRetries: MAX_RETRIES },
  });
}

/** Adds `rule` on the token path, asks for a token for a fresh resource, and returns what happened. */
async function getTokenWith(rule: FaultRuleInput) {
  azimds.faults.clear();
  const fault = azimds.faults.add({ path: TOKEN_PATH, ...rule });
  const after = azimds.requestLog.last;
  const resource = `https://retry-${++resourceCount}.azimds.test`;
  let token: string | undefined;
  let error: (Error & { name: string }) | undefined;
  try {
    token = (await credential().getToken(`${resource}/.default`)).token;
  } catch (e) {
    error = e as Error;
  }
  const attempts = azimds.requestLog
    .entries({ after })
    // msal-node asks for the token path with a trailing slash.
    .entries.filter((e) => e.path.startsWith(TOKEN_PATH) && e.query.resource === resource);
  return { token, error, attempts, fault: azimds.faults.get(fault.id) };
}

/** Asserts that the SDK got its token through `rule`, the attempts answered with `statuses` in turn. */
async function assertRecovers(rule: FaultRuleInput, statuses: readonly (number | null)[]): Promise<void> {
  const r = await getTokenWith(rule);
  assert.ok(r.token, String(r.error));
  assert.deepEqual(
    r.attempts.map((a) => a.status),
    statuses,
  );
}

describe('@azure/identity ManagedIdentityCredential on IMDS with injected faults', () => {
  test('429 with Retry-After: retries after the wait and succeeds', async () => {
    await assertRecovers({ status: 429, retryAfter: 0, times: 2 }, [429, 429, 200]);
  });

  test('503 with Retry-After: retries and succeeds', async () => {
    await assertRecovers({ status: 503, retryAfter: 0, times: 1 }, [503, 200]);
  });

  test('500: backs off, retries and succeeds', async () => {
    await assertRecovers({ status: 500, times: 2 }, [500, 500, 200]);
  });

  test('a reset connection: retries and succeeds', async () => {
    await assertRecovers({ reset: true, times: 1 }, [null, 200]);
  });

  test('404 (IMDS updating): the IMDS retry policy retries and succeeds', async () => {
    await assertRecovers({ status: 404, times: 1 }, [404, 200]);
  });

  test('410 (IMDS updating, back within 70 s): the IMDS retry policy waits and succeeds', async () => {
    await assertRecovers({ status: 410, times: 1 }, [410, 200]);
  });

  test('503 that outlasts the retries: gives up after maxRetries with a CredentialUnavailableError', async () => {
    const r = await getTokenWith({ status: 503, retryAfter: 0 });
    assert.equal(r.token, undefined);
    assert.equal(r.error?.name, 'CredentialUnavailableError');
    // MSAL's error carries the body's error code and description.
    assert.match(r.error?.message ?? '', /service_unavailable/);
    assert.deepEqual(
      r.attempts.map((a) => a.status),
      Array(1 + MAX_RETRIES).fill(503),
    );
  });
});
