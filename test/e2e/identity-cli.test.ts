/**
 * `azimds token`, `azimds env` and `azimds keys`, run in-process through the command tree (so no build
 * is needed): tokens from a running emulator or minted offline with the same keys, both verifiable via
 * the running emulator's discovery; the environment in every shell format; key rotation reaching a
 * running emulator.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { buildProgram } from '../../src/cli/program.js';
import { formatEnvironment } from '../../src/cli/sdk-environment.js';
import { AzimdsError } from '../../src/errors.js';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';

const TENANT = '3c9e8d7f-1a2b-4c5d-8e6f-7a8b9c0d1e2f';
const scratch = mkdtempSync(join(tmpdir(), 'azimds-identity-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs `azimds ...args`; resolves to what it printed, rejects with the command's error. */
async function azimds(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const program = buildProgram(
    sink((s) => {
      stdout += s;
    }),
    sink((s) => {
      stderr += s;
    }),
  );
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  await program.parseAsync(['node', 'azimds', ...args]);
  return { stdout, stderr };
}

const isError = (code: string) => (e: unknown) => e instanceof AzimdsError && e.code === code;

describe('azimds token and keys against a running emulator', () => {
  const dataDir = join(scratch, 'data');
  let emulator: EmulatorHandle;
  let base: string;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  let issuer: string;
  /** The flags that make the CLI use the same identities and keys as the emulator. */
  let same: string[];

  before(async () => {
    // A key file in dataDir, as `azimds start` uses; the CLI reads the same config.
    emulator = await startEmulator({
      dataDir,
      identity: { tenantId: TENANT, userAssigned: [{ name: 'id-cli' }] },
    });
    base = emulator.urls.imds ?? '';
    const configFile = join(scratch, 'azimds.yaml');
    writeFileSync(configFile, `identity:\n  tenantId: ${TENANT}\n  userAssigned:\n    - name: id-cli\n`);
    same = ['--config', configFile, '--data-dir', dataDir];
    const discovery = (await (await fetch(`${base}/${TENANT}/.well-known/openid-configuration`)).json()) as {
      jwks_uri: string;
      issuer: string;
    };
    jwks = createRemoteJWKSet(new URL(discovery.jwks_uri), { cooldownDuration: 0 });
    issuer = discovery.issuer;
  });
  after(() => emulator.close());

  test('prints the token the running emulator serves (--url)', async () => {
    const { stdout } = await azimds('token', '--resource', 'https://management.azure.com/', '--url', base);
    const token = stdout.trim();
    const { payload } = await jwtVerify(token, jwks, { issuer, audience: 'https://management.azure.com/' });
    assert.equal(payload.oid, emulator.state.identities.current.systemAssigned?.principalId);
  });

  test('prints the whole IMDS body with --json and selects a user-assigned identity', async () => {
    const u = emulator.state.identities.current.userAssigned[0];
    assert.ok(u);
    const { stdout } = await azimds(
      'token',
      '-r',
      'https://vault.azure.net',
      '--client-id',
      u.clientId,
      '--url',
      base,
      '--json',
    );
    const body = JSON.parse(stdout);
    assert.equal(body.client_id, u.clientId);
    assert.equal(body.resource, 'https://vault.azure.net');
    assert.equal(typeof body.expires_on, 'string');
  });

  test('mints offline with the same identities and keys: the running emulator verifies the token', async () => {
    const { stdout } = await azimds('token', '--resource', 'api://my-api', '--offline', ...same);
    const { payload } = await jwtVerify(stdout.trim(), jwks, { issuer, audience: 'api://my-api' });
    assert.equal(payload.oid, emulator.state.identities.current.systemAssigned?.principalId);
    assert.equal(payload.tid, TENANT);
  });

  test('falls back to minting offline, saying so, when no emulator answers at the configured address', async () => {
    const { stdout, stderr } = await azimds(
      'token',
      '-r',
      'https://storage.azure.com/',
      ...same,
      '--port',
      '9',
    );
    assert.match(stderr, /no emulator answers at http:\/\/127\.0\.0\.1:9 .*minting the token offline/);
    await jwtVerify(stdout.trim(), jwks, { issuer, audience: 'https://storage.azure.com/' });
  });

  test('fails when --url names something that does not answer', async () => {
    await assert.rejects(
      azimds('token', '-r', 'https://x/', '--url', 'http://127.0.0.1:9'),
      isError('NOT_RUNNING'),
    );
  });

  test("reports the emulator's error for a request it refuses", async () => {
    await assert.rejects(
      azimds(
        'token',
        '-r',
        'https://x/',
        '--client-id',
        '00000000-0000-4000-8000-000000000000',
        '--url',
        base,
      ),
      (e: unknown) =>
        isError('INVALID_INPUT')(e) && /400: invalid_request: Identity not found/.test((e as Error).message),
    );
  });

  test('refuses two selectors', async () => {
    await assert.rejects(
      azimds('token', '-r', 'https://x/', '--client-id', 'a', '--resource-id', 'b'),
      /cannot be used with/,
    );
  });

  test('keys rotate: the running emulator signs with the new key, the old key stays in its JWKS', async () => {
    const before = await azimds('token', '-r', 'https://graph.microsoft.com/', '--url', base);
    const oldKid = decodeProtectedHeader(before.stdout.trim()).kid;
    const { stdout, stderr } = await azimds('keys', 'rotate', ...same);
    const newKid = stdout.trim();
    assert.notEqual(newKid, oldKid);
    assert.match(stderr, new RegExp(`${oldKid} stays published until`));
    // The emulator looks at the key file at most once a second: poll its JWKS (no timing assertion).
    let kids: string[] = [];
    for (let i = 0; i < 50 && !kids.includes(newKid); i++) {
      await new Promise((r) => setTimeout(r, 100));
      const body = (await (await fetch(`${base}/common/discovery/keys`)).json()) as {
        keys: Array<{ kid: string }>;
      };
      kids = body.keys.map((k) => k.kid);
    }
    assert.deepEqual(kids, [newKid, oldKid]);
    const fresh = await azimds('token', '-r', 'https://graph.microsoft.com/', '--url', base, '--fresh');
    assert.equal(decodeProtectedHeader(fresh.stdout.trim()).kid, newKid);
    await jwtVerify(before.stdout.trim(), jwks, { issuer });
    await jwtVerify(fresh.stdout.trim(), jwks, { issuer });
    const list = await azimds('keys', 'list', ...same);
    assert.match(list.stdout, new RegExp(`${newKid} .* signing`));
    assert.match(list.stdout, new RegExp(`${oldKid} .* retired .* published until`));
  });

  test('keys rotate refuses an in-memory key store', async () => {
    const configFile = join(scratch, 'memory.yaml');
    writeFileSync(configFile, 'tokens:\n  keys:\n    store: memory\n');
    await assert.rejects(azimds('keys', 'rotate', '--config', configFile), isError('KEY_STORE'));
  });
});

describe('azimds env', () => {
  test('--direct prints bash exports for the address start would use', async () => {
    const { stdout } = await azimds('env', '--direct', '--shell', 'bash', '--port', '9123');
    assert.equal(
      stdout,
      'export AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:9123\nexport NO_PROXY=127.0.0.1,localhost,169.254.169.254\n',
    );
  });

  test('prints PowerShell, cmd, dotenv and JSON', async () => {
    const host = 'http://127.0.0.1:8169';
    assert.match(
      (await azimds('env', '--direct', '--shell', 'pwsh')).stdout,
      new RegExp(`^\\$env:AZURE_POD_IDENTITY_AUTHORITY_HOST = '${host}'\n`),
    );
    assert.match(
      (await azimds('env', '--direct', '--shell', 'cmd')).stdout,
      new RegExp(`^set "AZURE_POD_IDENTITY_AUTHORITY_HOST=${host}"\n`),
    );
    assert.match(
      (await azimds('env', '--direct', '--shell', 'dotenv')).stdout,
      new RegExp(`^AZURE_POD_IDENTITY_AUTHORITY_HOST=${host}\n`),
    );
    const json = JSON.parse((await azimds('env', '--direct', '--shell', 'json')).stdout);
    assert.equal(json.AZURE_POD_IDENTITY_AUTHORITY_HOST, host);
  });

  test('reaches a wildcard bind on loopback', async () => {
    const { stdout } = await azimds('env', '--direct', '--shell', 'dotenv', '--host', '0.0.0.0');
    assert.match(stdout, /^AZURE_POD_IDENTITY_AUTHORITY_HOST=http:\/\/127\.0\.0\.1:8169\n/);
  });

  test('refuses port 0, which no client could predict', async () => {
    await assert.rejects(azimds('env', '--port', '0'), isError('INVALID_INPUT'));
  });

  test('quotes values each shell would otherwise split or expand', () => {
    const vars: Array<[string, string]> = [['X', "it's $HOME"]];
    assert.equal(formatEnvironment(vars, 'bash'), "export X='it'\\''s $HOME'\n");
    assert.equal(formatEnvironment(vars, 'pwsh'), "$env:X = 'it''s $HOME'\n");
    assert.equal(formatEnvironment(vars, 'dotenv'), 'X="it\'s $HOME"\n');
  });
});
