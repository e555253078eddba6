/**
 * The static token source behind IMDS: a token from an environment variable or a file, its times from
 * the token itself, a file re-read when the cached copy is due, and the built-in `static` source.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import type { EmulatorOptions } from '../../src/server/emulator.js';
import { withEnv } from '../support/env.js';
import { startWithSources, withSources } from '../support/token-sources.js';

const VAULT = 'https://vault.azure.net';
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
let dir: string;

async function jwt(claims: Record<string, unknown>, lifetime: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + lifetime)
    .sign(privateKey);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'azimds-static-test-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function staticOptions(source: Record<string, unknown>): EmulatorOptions {
  return {
    tokens: { source: 'fixed', sources: { fixed: { type: 'static', ...source } } },
  } as EmulatorOptions;
}

describe('static token source', () => {
  test('hands out the token from an environment variable, with its exp and nbf, for any resource', async () => {
    const token = await jwt({ aud: VAULT, appid: '11111111-2222-4333-8444-555555555555' }, 1800);
    await withEnv({ AZIMDS_TEST_STATIC: token }, async () => {
      await withSources(staticOptions({ tokenEnv: 'AZIMDS_TEST_STATIC' }), async (azimds) => {
        const res = await azimds.token(VAULT);
        assert.equal(res.status, 200, res.body);
        assert.equal(res.json.access_token, token);
        const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as {
          exp: number;
          nbf: number;
        };
        assert.equal(res.json.expires_on, String(claims.exp));
        assert.equal(res.json.not_before, String(claims.nbf));
        assert.equal(res.json.client_id, '11111111-2222-4333-8444-555555555555');
        assert.equal((await azimds.token('https://storage.azure.com/')).json.access_token, token);
        assert.ok(!azimds.log.join('\n').includes(token), 'the token is not logged');
      });
    });
  });

  test('reads the file again when the cached token is due, so a refreshed file is followed', async () => {
    const file = join(dir, 'token.jwt');
    const first = await jwt({ aud: VAULT }, 3600);
    writeFileSync(file, `${first}\n`, { mode: 0o600 });
    await withSources(staticOptions({ tokenFile: file }), async (azimds) => {
      assert.equal((await azimds.token(VAULT)).json.access_token, first);
      const second = await jwt({ aud: VAULT, round: 2 }, 7200);
      writeFileSync(file, second);
      assert.equal((await azimds.token(VAULT)).json.access_token, first, 'cached until due');
      azimds.emulator.state.clock.advance((3600 - 900 + 5) * 1000);
      assert.equal((await azimds.token(VAULT)).json.access_token, second);
    });
  });

  test('answers 500 when the token file is missing', async () => {
    await withSources(staticOptions({ tokenFile: join(dir, 'missing.jwt') }), async (azimds) => {
      const res = await azimds.token(VAULT);
      assert.equal(res.status, 500);
      assert.match(
        res.json.error_description,
        /static token \(source fixed\): cannot read .*missing\.jwt: ENOENT/,
      );
    });
  });

  test('gives an opaque (non-JWT) token the configured token lifetime', async () => {
    await withEnv({ AZIMDS_TEST_STATIC: 'opaque-static-token-value' }, async () => {
      const options = staticOptions({ tokenEnv: 'AZIMDS_TEST_STATIC' }) as {
        tokens: Record<string, unknown>;
      };
      await withSources({ tokens: { ...options.tokens, lifetimeSeconds: 7200 } }, async (azimds) => {
        const now = Math.floor(azimds.emulator.state.clock.now() / 1000);
        const res = await azimds.token(VAULT);
        assert.equal(res.json.access_token, 'opaque-static-token-value');
        const expiresOn = Number(res.json.expires_on);
        assert.ok(expiresOn >= now + 7200 && expiresOn <= now + 7202, String(expiresOn - now));
      });
    });
  });

  test('the built-in static source reads AZIMDS_STATIC_TOKEN', async () => {
    const token = await jwt({ aud: VAULT }, 1800);
    await withEnv({ AZIMDS_STATIC_TOKEN: token }, async () => {
      await withSources({ tokens: { source: 'static' } }, async (azimds) => {
        assert.equal((await azimds.token(VAULT)).json.access_token, token);
      });
    });
  });

  test('the built-in static source without its variables stops the start with a message naming them', async () => {
    await withEnv({ AZIMDS_STATIC_TOKEN: '', AZIMDS_STATIC_TOKEN_FILE: '' }, async () => {
      await assert.rejects(
        startWithSources({ tokens: { source: 'static' } }),
        /set AZIMDS_STATIC_TOKEN or AZIMDS_STATIC_TOKEN_FILE/,
      );
    });
  });
});
