/**
 * Entra from the command line, as users run it: `azimds start` serves the token endpoint on the IMDS
 * listener's origin; `azimds env --platform service-principal|workload-identity` and `azimds token
 * federated` run in other processes (same flags) and print credentials that work against it: the
 * generated client secret (from dataDir), a projected token of the workload issuer (same signing keys).
 * `--print-config` shows the app registration with its generated ids, inline secrets masked. Uses the
 * built CLI (run `npm run build` first when running this file alone).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { cliEnv, freePortBlock, runCli, startCli, stopCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'azimds-entra-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = () => cliEnv(join(dir, 'data'));

function exported(text: string): Record<string, string> {
  return Object.fromEntries(
    [...text.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [
      m[1],
      (m[2] as string).replace(/^'(.*)'$/, '$1'),
    ]) as [string, string][],
  );
}

async function token(base: string, tenant: string, fields: Record<string, string>) {
  const res = await fetch(`${base}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: 'https://management.azure.com/.default',
      ...fields,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe('azimds env / token federated against azimds start', () => {
  test('service-principal and workload-identity variables get tokens from the running emulator', async () => {
    const port = String(await freePortBlock());
    const started = await startCli(['start', '--log-level', 'warn', '--port', port], env(), (out) =>
      out.includes('Press Ctrl-C to stop.') ? out : undefined,
    );
    try {
      const base = `http://127.0.0.1:${port}`;
      const sp = await runCli(
        ['env', '--platform', 'service-principal', '--port', port, '--shell', 'bash'],
        env(),
      );
      assert.equal(sp.code, 0, sp.stderr);
      const vars = exported(sp.stdout);
      assert.deepEqual(Object.keys(vars), [
        'AZURE_CLIENT_ID',
        'AZURE_TENANT_ID',
        'AZURE_CLIENT_SECRET',
        'AZURE_AUTHORITY_HOST',
      ]);
      assert.equal(vars.AZURE_AUTHORITY_HOST, 'https://login.microsoftonline.com/');
      const bySecret = await token(base, vars.AZURE_TENANT_ID as string, {
        client_id: vars.AZURE_CLIENT_ID as string,
        client_secret: vars.AZURE_CLIENT_SECRET as string,
      });
      assert.equal(bySecret.status, 200, JSON.stringify(bySecret.body));

      const wi = await runCli(
        ['env', '--platform', 'workload-identity', '--port', port, '--shell', 'bash'],
        env(),
      );
      assert.equal(wi.code, 0, wi.stderr);
      const wiVars = exported(wi.stdout);
      assert.deepEqual(Object.keys(wiVars), [
        'AZURE_CLIENT_ID',
        'AZURE_TENANT_ID',
        'AZURE_FEDERATED_TOKEN_FILE',
        'AZURE_AUTHORITY_HOST',
      ]);
      const projected = readFileSync(wiVars.AZURE_FEDERATED_TOKEN_FILE as string, 'utf8');
      assert.equal(decodeJwt(projected).iss, `${base}/workload-identity`);
      const byFederation = await token(base, wiVars.AZURE_TENANT_ID as string, {
        client_id: wiVars.AZURE_CLIENT_ID as string,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: projected,
      });
      assert.equal(byFederation.status, 200, JSON.stringify(byFederation.body));

      const out = join(dir, 'sa-token');
      const federated = await runCli(
        [
          'token',
          'federated',
          '--subject',
          'system:serviceaccount:default:default',
          '--out',
          out,
          '--port',
          port,
        ],
        env(),
      );
      assert.equal(federated.code, 0, federated.stderr);
      assert.match(federated.stderr, /wrote .*sa-token/);
      assert.equal(statSync(out).mode & 0o777, 0o600);
      const other = await token(base, wiVars.AZURE_TENANT_ID as string, {
        client_id: wiVars.AZURE_CLIENT_ID as string,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: readFileSync(out, 'utf8'),
      });
      assert.equal(other.status, 200, JSON.stringify(other.body));
    } finally {
      await stopCli(started);
    }
  });

  test('--print-config shows the app registration; inline secrets are masked', async () => {
    const config = join(dir, 'entra.yaml');
    writeFileSync(
      config,
      'entra:\n  applications:\n    - displayName: ci\n      secrets:\n        - value: s3cr3t-value\n',
    );
    const printed = await runCli(['start', '--print-config', '--config', config], env());
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(
      printed.stdout,
      /displayName: ci\n\s+clientId: [0-9a-f-]{36}\n\s+principalId: [0-9a-f-]{36}/,
    );
    assert.doesNotMatch(printed.stdout, /s3cr3t-value/);
    assert.match(printed.stdout, /value: "?\[redacted\]"?/);
  });

  test('token without --resource is still a usage error; token federated needs --subject', async () => {
    const a = await runCli(['token'], env());
    assert.equal(a.code, 2);
    assert.match(a.stderr, /required option '-r, --resource <resource>'/);
    const b = await runCli(['token', 'federated'], env());
    assert.equal(b.code, 2);
    assert.match(b.stderr, /required option '--subject <subject>'/);
  });
});
