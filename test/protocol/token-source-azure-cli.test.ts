/**
 * The azure-cli token source behind IMDS, with a fake `az` on PATH (a shell script that answers as
 * `az account get-access-token --output json` does, fails as az fails, or hangs): the token and its
 * expiry (new and old az output), the arguments az gets, errors as IMDS errors, the timeout, and one az
 * run for concurrent requests.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { EmulatorOptions } from '../../src/server/emulator.js';
import { EnvChanges } from '../support/env.js';
import { withSources } from '../support/token-sources.js';

const skip = process.platform === 'win32' ? 'a POSIX shell script plays az' : false;
const TENANT = '5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
const VAULT = 'https://vault.azure.net';
/** An opaque token: its expiry can only come from az's answer. */
const OPAQUE = 'opaque-az-access-token-0123456789abcdef';

const FAKE_AZ = `#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_AZ_LOG"
case "$FAKE_AZ_MODE" in
  ok)
    printf '{"accessToken": "%s", "expiresOn": "%s", "expires_on": %s, "subscription": "0b1f6471-1bf0-4dda-aec3-cb9272f09590", "tenant": "${TENANT}", "tokenType": "Bearer"}\\n' "$FAKE_AZ_TOKEN" "$FAKE_AZ_EXPIRES_LOCAL" "$FAKE_AZ_EXPIRES_ON" ;;
  old)
    printf '{\\n  "accessToken": "%s",\\n  "expiresOn": "%s",\\n  "tokenType": "Bearer"\\n}\\n' "$FAKE_AZ_TOKEN" "$FAKE_AZ_EXPIRES_LOCAL" ;;
  slow)
    sleep 0.3
    printf '{"accessToken": "%s", "expires_on": %s, "tokenType": "Bearer"}\\n' "$FAKE_AZ_TOKEN" "$FAKE_AZ_EXPIRES_ON" ;;
  login)
    echo "ERROR: Please run 'az login' to setup account." >&2
    exit 1 ;;
  unknown)
    echo "ERROR: AADSTS500011: The resource principal named $4 was not found in the tenant named Contoso. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant. Trace ID: 6b0c Correlation ID: 77aa Timestamp: 2026-01-01 00:00:00Z" >&2
    exit 1 ;;
  hang)
    exec sleep 30 ;;
  garbage)
    echo "not json" ;;
esac
`;

let dir: string;
let logFile: string;
/** What the tests change (FAKE_AZ_MODE directly, in each test), put back after the file. */
const env = new EnvChanges();
const VARIABLES = [
  'PATH',
  'FAKE_AZ_LOG',
  'FAKE_AZ_MODE',
  'FAKE_AZ_TOKEN',
  'FAKE_AZ_EXPIRES_ON',
  'FAKE_AZ_EXPIRES_LOCAL',
];

/** `YYYY-MM-DD hh:mm:ss.000000` in local time, as az prints expiresOn. */
function azLocalTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.000000`;
}

const EXPIRES = Math.floor(Date.now() / 1000) + 3000;

before(() => {
  if (skip) return;
  env.keep(VARIABLES);
  dir = mkdtempSync(join(tmpdir(), 'azimds-fake-az-'));
  writeFileSync(join(dir, 'az'), FAKE_AZ);
  chmodSync(join(dir, 'az'), 0o755);
  logFile = join(dir, 'calls.log');
  process.env.PATH = `${dir}${delimiter}${process.env.PATH ?? ''}`;
  process.env.FAKE_AZ_LOG = logFile;
  process.env.FAKE_AZ_TOKEN = OPAQUE;
  process.env.FAKE_AZ_EXPIRES_ON = String(EXPIRES);
  process.env.FAKE_AZ_EXPIRES_LOCAL = azLocalTime(EXPIRES);
});

beforeEach(() => {
  if (skip) return;
  writeFileSync(logFile, '');
  process.env.FAKE_AZ_MODE = 'ok';
});

after(() => {
  if (skip) return;
  env.restore();
  rmSync(dir, { recursive: true, force: true });
});

function calls(): string[] {
  return readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
}

function options(source: Record<string, unknown> = {}): EmulatorOptions {
  return {
    identity: { tenantId: TENANT },
    tokens: { source: 'me', sources: { me: { type: 'azure-cli', ...source } } },
  } as EmulatorOptions;
}

describe('azure-cli token source', { skip }, () => {
  test("answers IMDS with az's token and az's expiry (expires_on)", async () => {
    await withSources(options(), async (azimds) => {
      const res = await azimds.token(VAULT);
      assert.equal(res.status, 200, res.body);
      assert.equal(res.json.access_token, OPAQUE);
      assert.equal(res.json.expires_on, String(EXPIRES));
      assert.equal(res.json.resource, VAULT);
      assert.deepEqual(calls(), [`account get-access-token --resource ${VAULT} --output json`]);
    });
  });

  test('reads the expiry of older az versions (expiresOn in local time, no expires_on)', async () => {
    process.env.FAKE_AZ_MODE = 'old';
    await withSources(options(), async (azimds) => {
      const res = await azimds.token(VAULT);
      assert.equal(res.status, 200, res.body);
      assert.equal(res.json.expires_on, String(EXPIRES));
    });
  });

  test('passes --tenant when the source names one, and the built-in azure-cli source works without config', async () => {
    await withSources(options({ tenantId: 'contoso.onmicrosoft.com' }), async (azimds) => {
      assert.equal((await azimds.token(VAULT)).status, 200);
      assert.deepEqual(calls(), [
        `account get-access-token --resource ${VAULT} --output json --tenant contoso.onmicrosoft.com`,
      ]);
    });
    await withSources({ tokens: { source: 'azure-cli' } }, async (builtIn) => {
      assert.equal((await builtIn.token(VAULT)).json.access_token, OPAQUE);
    });
  });

  test("answers 500 with az's message when az fails (not signed in)", async () => {
    process.env.FAKE_AZ_MODE = 'login';
    await withSources(options(), async (azimds) => {
      const res = await azimds.token(VAULT);
      assert.equal(res.status, 500);
      assert.equal(res.json.error, 'unknown');
      assert.match(
        res.json.error_description,
        /^Failed to retrieve token from the Active directory\. az CLI \(source me\): az exited with 1: ERROR: Please run 'az login'/,
      );
    });
  });

  test('answers 400 invalid_resource when az relays AADSTS500011', async () => {
    process.env.FAKE_AZ_MODE = 'unknown';
    await withSources(options(), async (azimds) => {
      const res = await azimds.token('https://api.contoso.invalid');
      assert.equal(res.status, 400);
      assert.equal(res.json.error, 'invalid_resource');
      assert.match(
        res.json.error_description,
        /^AADSTS500011: The resource principal named https:\/\/api\.contoso\.invalid/,
      );
    });
  });

  test('kills az and answers 500 when it does not answer within the timeout', async () => {
    process.env.FAKE_AZ_MODE = 'hang';
    await withSources(options({ timeoutMs: 300 }), async (azimds) => {
      const res = await azimds.token(VAULT);
      assert.equal(res.status, 500);
      assert.match(res.json.error_description, /az did not answer within the timeout of 300 ms/);
    });
  });

  test('answers 500 when az prints something that is not JSON, or is not installed', async () => {
    process.env.FAKE_AZ_MODE = 'garbage';
    await withSources(options(), async (azimds) => {
      assert.match((await azimds.token(VAULT)).json.error_description, /not JSON/);
    });
    await withSources(options({ command: join(dir, 'no-such-az') }), async (missing) => {
      const res = await missing.token(VAULT);
      assert.equal(res.status, 500);
      assert.match(res.json.error_description, /no-such-az not found: install the Azure CLI/);
    });
  });

  test('runs az once for many concurrent requests for the same identity and resource, then serves the cache', async () => {
    process.env.FAKE_AZ_MODE = 'slow';
    await withSources(options(), async (azimds) => {
      const replies = await Promise.all(Array.from({ length: 10 }, () => azimds.token(VAULT)));
      assert.ok(replies.every((r) => r.status === 200 && r.json.access_token === OPAQUE));
      assert.equal((await azimds.token(VAULT)).status, 200);
      assert.equal(calls().length, 1);
    });
  });

  test('refuses a resource with characters it does not pass to az (400 invalid_resource), without running az', async () => {
    await withSources(options(), async (azimds) => {
      const res = await azimds.token('https://vault.azure.net;touch /tmp/x');
      assert.equal(res.status, 400);
      assert.equal(res.json.error, 'invalid_resource');
      assert.equal(calls().length, 0);
    });
  });

  test('never writes the token to its log or the request log', async () => {
    await withSources(options(), async (azimds) => {
      assert.equal((await azimds.token(VAULT)).status, 200);
      assert.ok(!azimds.log.join('\n').includes(OPAQUE));
      assert.ok(!(await azimds.requestLog()).includes(OPAQUE));
    });
  });
});
