/**
 * Real clients, unchanged, given only the proxy block that `azimds env` prints (handle.proxyEnv(): the
 * same function), each in a child process with a clean environment: curl, @azure/identity, msal-node,
 * Node's own fetch and node:http, a Go program (standard library, built offline) and Python requests.
 * Every one hard-codes Azure's addresses (http://169.254.169.254, https://login.microsoftonline.com).
 *
 * The tools are installed by .ci/run in CI (curl, golang-go, python3-requests); elsewhere a missing
 * tool skips its test with the reason, but never under CI=true.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { runSdk, type TokenVerifier, tokenVerifier } from '../support/platform-sdk.js';
import { blockOnly } from '../support/proxy.js';

const run = promisify(execFile);
const V = 'api-version=2021-02-01';
const TOKEN_PATH =
  '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/';

/** False (run) when `command args` works, or under CI (where .ci/run installs it); else why the test skips. */
function needs(command: string, args: string[], what: string): false | string {
  if (process.env.CI) return false;
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return false;
  } catch {
    return `${what} is not installed (.ci/run installs it in CI)`;
  }
}

const PYTHON = '/usr/bin/python3';

describe('clients through the proxy block', () => {
  let azimds: EmulatorHandle;
  let block: Record<string, string>;
  let tenant: string;
  let verify: TokenVerifier;
  const scratch = mkdtempSync(join(tmpdir(), 'azimds-proxy-clients-'));

  before(async () => {
    azimds = await startEmulator({});
    block = azimds.proxyEnv();
    tenant = azimds.state.identities.tenantId;
    verify = await tokenVerifier(azimds);
  });
  after(async () => {
    await azimds.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const system = () => {
    const identity = azimds.state.identities.current.systemAssigned;
    assert.ok(identity);
    return identity;
  };

  test('the block: proxy variables and twins, NO_PROXY without 169.254.169.254, CA variables', () => {
    assert.equal(block.HTTPS_PROXY, azimds.urls.proxy);
    assert.equal(block.http_proxy, azimds.urls.proxy);
    assert.equal(block.NO_PROXY, '127.0.0.1,localhost,::1');
    assert.ok(!block.NO_PROXY?.includes('169.254.169.254'));
    assert.equal(block.AZURE_POD_IDENTITY_AUTHORITY_HOST, azimds.urls.imds);
    assert.equal(block.NODE_EXTRA_CA_CERTS, azimds.state.localCa.certFile());
    assert.equal(block.REQUESTS_CA_BUNDLE, azimds.state.localCa.bundleFile());
    assert.equal(block.SSL_CERT_FILE, block.REQUESTS_CA_BUNDLE);
    assert.equal(block.CURL_CA_BUNDLE, block.REQUESTS_CA_BUNDLE);
    assert.equal(block.NODE_USE_ENV_PROXY, '1');
  });

  describe('curl', { skip: needs('curl', ['--version'], 'curl') }, () => {
    test('http://169.254.169.254/metadata/instance', async () => {
      const { stdout } = await run(
        'curl',
        ['-sS', '--fail', '-H', 'Metadata: true', `http://169.254.169.254/metadata/instance?${V}`],
        { env: blockOnly(block) },
      );
      assert.equal(JSON.parse(stdout).compute.vmId, azimds.state.machine.compute('vmId'));
    });

    test('https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration', async () => {
      const { stdout } = await run(
        'curl',
        [
          '-sS',
          '--fail',
          `https://login.microsoftonline.com/${tenant}/v2.0/.well-known/openid-configuration`,
        ],
        { env: blockOnly(block) },
      );
      const doc = JSON.parse(stdout);
      assert.equal(doc.jwks_uri, `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`);
      assert.match(doc.issuer, new RegExp(tenant));
    });
  });

  test('@azure/identity ManagedIdentityCredential, AZURE_POD_IDENTITY_AUTHORITY_HOST removed: IMDS via the proxy', async () => {
    const before = azimds.requestLog.entries().entries.length;
    const result = await runSdk(
      { ...block, AZURE_POD_IDENTITY_AUTHORITY_HOST: undefined },
      { sdk: 'identity', scope: 'https://management.azure.com/.default' },
    );
    await verify(result, 'https://management.azure.com', system());
    // It asked 169.254.169.254 (nothing else names this emulator in its environment).
    assert.ok(azimds.requestLog.entries().entries.length > before);
  });

  test('@azure/msal-node ManagedIdentityApplication with the block as printed', async () => {
    const result = await runSdk(block, { sdk: 'msal', resource: 'https://vault.azure.net' });
    assert.equal(result.source, 'DefaultToImds');
    await verify(result, 'https://vault.azure.net', system());
  });

  test("Node's own fetch and node:http (NODE_USE_ENV_PROXY=1), trusting the CA from NODE_EXTRA_CA_CERTS", async () => {
    const script = `
      const http = await import('node:http');
      const viaHttp = await new Promise((resolve, reject) => {
        http.get('http://169.254.169.254/metadata/instance/compute/name?${V}&format=text', { headers: { Metadata: 'true' } }, (res) => {
          let body = ''; res.on('data', (d) => { body += d; }); res.on('end', () => resolve(body));
        }).on('error', reject);
      });
      const imds = await (await fetch('http://169.254.169.254/metadata/instance/compute/name?${V}&format=text', { headers: { Metadata: 'true' } })).text();
      const doc = await (await fetch('https://login.microsoftonline.com/${tenant}/v2.0/.well-known/openid-configuration')).json();
      console.log(JSON.stringify({ viaHttp, imds, jwks: doc.jwks_uri }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: blockOnly(block),
    });
    const out = JSON.parse(stdout);
    const name = azimds.state.machine.compute('name');
    assert.equal(out.imds, name);
    assert.equal(out.viaHttp, name);
    assert.equal(out.jwks, `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`);
  });

  describe('Go (standard library, built offline)', {
    skip: needs('go', ['version'], 'Go (golang-go)'),
  }, () => {
    let binary: string;
    before(async () => {
      const dir = join(scratch, 'go');
      execFileSync('mkdir', ['-p', dir]);
      writeFileSync(join(dir, 'go.mod'), 'module azimdsprobe\n\ngo 1.19\n');
      writeFileSync(
        join(dir, 'main.go'),
        `package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
)

func get(url string, header bool) (int, string) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		panic(err)
	}
	if header {
		req.Header.Set("Metadata", "true")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func main() {
	s1, name := get("http://169.254.169.254/metadata/instance/compute/name?${V}&format=text", true)
	s2, token := get("http://169.254.169.254${TOKEN_PATH}", true)
	s3, doc := get("https://login.microsoftonline.com/"+os.Args[1]+"/v2.0/.well-known/openid-configuration", false)
	out, _ := json.Marshal(map[string]interface{}{"name": name, "token": token, "doc": doc, "status": []int{s1, s2, s3}})
	fmt.Println(string(out))
}
`,
      );
      binary = join(dir, 'probe');
      const gocache = join(scratch, 'gocache');
      await run('go', ['build', '-o', binary, '.'], {
        cwd: dir,
        env: {
          ...blockOnly({}),
          GOFLAGS: '-mod=mod',
          GOPROXY: 'off',
          GOCACHE: gocache,
          GOPATH: join(scratch, 'gopath'),
        },
        timeout: 240_000,
      });
    });

    test('a program hard-coding http://169.254.169.254 and https://login.microsoftonline.com', async () => {
      const { stdout } = await run(binary, [tenant], { env: blockOnly(block) });
      const out = JSON.parse(stdout);
      assert.deepEqual(out.status, [200, 200, 200]);
      assert.equal(out.name, azimds.state.machine.compute('name'));
      await verify(
        { ok: true, token: JSON.parse(out.token).access_token },
        'https://management.azure.com/',
        system(),
      );
      assert.equal(
        JSON.parse(out.doc).jwks_uri,
        `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`,
      );
    });
  });

  describe('Python requests', { skip: needs(PYTHON, ['-c', 'import requests'], 'python3-requests') }, () => {
    test('a script hard-coding http://169.254.169.254 and https://login.microsoftonline.com', async () => {
      const script = `
import json, sys, requests
name = requests.get("http://169.254.169.254/metadata/instance/compute/name?${V}&format=text", headers={"Metadata": "true"})
token = requests.get("http://169.254.169.254${TOKEN_PATH}", headers={"Metadata": "true"})
doc = requests.get("https://login.microsoftonline.com/" + sys.argv[1] + "/v2.0/.well-known/openid-configuration")
print(json.dumps({"name": name.text, "token": token.json()["access_token"], "jwks": doc.json()["jwks_uri"], "status": [name.status_code, token.status_code, doc.status_code]}))
`;
      const { stdout } = await run(PYTHON, ['-c', script, tenant], { env: blockOnly(block) });
      const out = JSON.parse(stdout);
      assert.deepEqual(out.status, [200, 200, 200]);
      assert.equal(out.name, azimds.state.machine.compute('name'));
      await verify({ ok: true, token: out.token }, 'https://management.azure.com/', system());
      assert.equal(out.jwks, `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`);
    });
  });
});
