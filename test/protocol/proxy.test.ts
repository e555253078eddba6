/**
 * The local proxy over real loopback sockets (src/server/proxy): emulated hosts answered by their
 * surface (the same routes, fault rules and request log), TLS with the host's leaf, Azure-shaped 501
 * for surfaces not served, passthrough (direct and through an upstream proxy) and its refusal.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyPluginAsync } from 'fastify';
import { pino } from 'pino';
import { LocalCa } from '../../src/core/tls/local-ca.js';
import { internalServerError } from '../../src/errors.js';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { type ListenerSpec, startListener } from '../../src/server/listener.js';
import { matchHost } from '../../src/server/proxy/host-table.js';
import { ProxyCore } from '../../src/server/proxy/proxy-server.js';
import { connectVia, httpsViaProxy, viaProxy } from '../support/proxy.js';

const IMDS = 'http://169.254.169.254';
const V = 'api-version=2021-02-01';

function listening(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

describe('host table', () => {
  test('maps Azure host names to surfaces, case-insensitively, and nothing else', () => {
    assert.equal(matchHost('169.254.169.254')?.surface, 'imds');
    assert.equal(matchHost('LOGIN.microsoftonline.com')?.surface, 'entra');
    assert.equal(matchHost('login.windows.net')?.surface, 'entra');
    assert.equal(matchHost('sts.windows.net.')?.surface, 'entra');
    assert.equal(matchHost('management.azure.com')?.surface, 'arm');
    assert.equal(matchHost('management.core.windows.net')?.surface, 'arm');
    assert.equal(matchHost('my-vault.vault.azure.net')?.surface, 'key-vault');
    assert.equal(matchHost('vault.azure.net'), undefined);
    assert.equal(matchHost('evilvault.azure.net'), undefined);
    assert.equal(matchHost('registry.npmjs.org'), undefined);
  });
});

describe('proxy', () => {
  let azimds: EmulatorHandle;
  let proxy: string;
  let ca: string;
  before(async () => {
    azimds = await startEmulator({});
    proxy = azimds.urls.proxy as string;
    ca = azimds.state.localCa.certPem();
  });
  after(() => azimds.close());

  test('listens on loopback by default', () => {
    assert.match(proxy, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('serves http://169.254.169.254 as the IMDS listener does, with no sign of a proxy', async () => {
    const direct = await fetch(`${azimds.urls.imds}/metadata/instance?${V}`, {
      headers: { Metadata: 'true' },
    });
    const proxied = await viaProxy(proxy, `${IMDS}/metadata/instance?${V}`, {
      Metadata: 'true',
      'Proxy-Connection': 'keep-alive',
    });
    assert.equal(proxied.status, 200);
    assert.deepEqual(JSON.parse(proxied.body), await direct.json());
    assert.equal(proxied.headers.server, direct.headers.get('server'));
    assert.equal(proxied.headers.via, undefined);
    // Every IMDS rule applies: no Metadata header → IMDS's own 400.
    const bare = await viaProxy(proxy, `${IMDS}/metadata/instance?${V}`);
    assert.equal(bare.status, 400);
    assert.deepEqual(JSON.parse(bare.body), { error: 'Bad request. Required metadata header not specified' });
  });

  test('proxied requests are in the request log under their surface, and fault rules apply', async () => {
    azimds.requestLog.clear();
    const rule = azimds.faults.add({ path: '/metadata/instance/compute/name', status: 503, times: 1 });
    const faulted = await viaProxy(proxy, `${IMDS}/metadata/instance/compute/name?${V}&format=text`, {
      Metadata: 'true',
    });
    assert.equal(faulted.status, 503);
    const ok = await viaProxy(proxy, `${IMDS}/metadata/instance/compute/name?${V}&format=text`, {
      Metadata: 'true',
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.body, azimds.state.machine.compute('name'));
    const entries = azimds.requestLog
      .entries()
      .entries.filter((e) => e.path === '/metadata/instance/compute/name');
    assert.deepEqual(
      entries.map((e) => [e.surface, e.status, e.fault]),
      [
        ['imds', 503, rule.id],
        ['imds', 200, undefined],
      ],
    );
  });

  test('managed-identity tokens through the proxy', async () => {
    const res = await viaProxy(
      proxy,
      `${IMDS}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`,
      { Metadata: 'true' },
    );
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).resource, 'https://vault.azure.net');
  });

  test('https://login.microsoftonline.com: TLS with the host leaf, the discovery document with Entra URLs', async () => {
    const tenant = azimds.state.identities.tenantId;
    const res = await httpsViaProxy(
      proxy,
      'login.microsoftonline.com',
      `/${tenant}/v2.0/.well-known/openid-configuration`,
      ca,
    );
    assert.equal(res.status, 200);
    assert.equal(res.peerSubjectAltName, 'DNS:login.microsoftonline.com');
    const doc = JSON.parse(res.body);
    assert.equal(doc.jwks_uri, `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`);
    const keys = await httpsViaProxy(
      proxy,
      'login.microsoftonline.com',
      `/${tenant}/discovery/v2.0/keys`,
      ca,
    );
    assert.equal(keys.status, 200);
    assert.ok(JSON.parse(keys.body).keys.length >= 1);
    // The aliases are the same surface, each with its own certificate.
    const alias = await httpsViaProxy(
      proxy,
      'sts.windows.net',
      `/${tenant}/.well-known/openid-configuration`,
      ca,
    );
    assert.equal(alias.status, 200);
    assert.equal(alias.peerSubjectAltName, 'DNS:sts.windows.net');
  });

  test('a certificate the client does not trust fails the handshake (nothing is served unverified)', async () => {
    const other = (await import('node:tls')).rootCertificates[0] as string;
    await assert.rejects(httpsViaProxy(proxy, 'login.microsoftonline.com', '/common/discovery/keys', other));
  });

  test('ARM and Key Vault hosts without a surface answer at once: 501 in their error shape', async () => {
    const off = await startEmulator({ arm: { enabled: false }, keyVault: { enabled: false } });
    after(() => off.close());
    const proxy = off.urls.proxy as string;
    const ca = off.state.localCa.certPem();
    const arm = await httpsViaProxy(
      proxy,
      'management.azure.com',
      '/subscriptions?api-version=2022-12-01',
      ca,
      {
        Authorization: 'Bearer x',
      },
    );
    assert.equal(arm.status, 501);
    const armBody = JSON.parse(arm.body);
    assert.equal(armBody.error.code, 'AzimdsSurfaceNotEnabled');
    assert.match(armBody.error.message, /management\.azure\.com/);
    const vault = await httpsViaProxy(proxy, 'my-vault.vault.azure.net', '/secrets/x?api-version=7.5', ca);
    assert.equal(vault.status, 501);
    assert.match(JSON.parse(vault.body).error.message, /my-vault\.vault\.azure\.net/);
    assert.equal(vault.peerSubjectAltName, 'DNS:my-vault.vault.azure.net');
  });

  test('other hosts are tunnelled unchanged (CONNECT) and forwarded (absolute-form)', async () => {
    const echo = createTcpServer((socket) => socket.pipe(socket));
    const echoPort = await listening(echo);
    const web = createHttpServer((req, res) => res.end(`${req.method} ${req.url} ${req.headers['x-test']}`));
    const webPort = await listening(web);
    try {
      const tunnel = await connectVia(proxy, `127.0.0.1:${echoPort}`);
      assert.equal(tunnel.status, 200);
      const echoed = await new Promise<string>((resolve) => {
        tunnel.socket.once('data', (d) => resolve(d.toString()));
        tunnel.socket.write('ping');
      });
      assert.equal(echoed, 'ping');
      tunnel.socket.destroy();
      const forwarded = await viaProxy(proxy, `http://127.0.0.1:${webPort}/a/b?c=1`, { 'x-test': 'kept' });
      assert.equal(forwarded.status, 200);
      assert.equal(forwarded.body, 'GET /a/b?c=1 kept');
    } finally {
      echo.close();
      web.close();
    }
  });

  test('origin-form requests for other hosts get a 400 saying what this port is', async () => {
    const res = await fetch(`${proxy}/metadata/instance`);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'NotAProxyRequest');
    assert.match(body.error.message, /forward proxy/);
  });
});

describe('proxy: what a surface sees of a proxied request', () => {
  test('the Host the client named and no header added by the proxy (no X-Forwarded-For)', async () => {
    const seen: Array<[string, string | undefined]> = [];
    const probe: FastifyPluginAsync = async (app) => {
      app.get('/probe', (request, reply) => {
        seen.push([request.headers.host ?? '', request.headers['x-forwarded-for'] as string]);
        return reply.send('ok');
      });
    };
    const spec: ListenerSpec = {
      name: 'imds',
      host: '127.0.0.1',
      port: 0,
      plugins: [{ plugin: probe as never }],
      errors: { notFound: () => internalServerError, internal: () => internalServerError },
    };
    const dataDir = mkdtempSync(join(tmpdir(), 'azimds-proxy-'));
    const ca = new LocalCa({ dataDir });
    const core = new ProxyCore({
      surface: (name) => (name === 'imds' || name === 'entra' ? { ...spec, name } : undefined),
      ca,
      passthrough: false,
      upstream: { noProxy: [] },
    });
    const server = createHttpServer((req, res) => core.onRequest(req, res, (_q, r) => r.end('fallback')));
    server.on('connect', (req, socket, head) => core.onConnect(req, socket as Socket, head));
    const port = await listening(server);
    core.attach(pino({ level: 'silent' }), server);
    const direct = await startListener(spec, pino({ level: 'silent' }));
    try {
      const url = `http://127.0.0.1:${port}`;
      assert.equal((await viaProxy(url, 'http://169.254.169.254/probe')).body, 'ok');
      assert.equal(
        (await httpsViaProxy(url, 'login.microsoftonline.com', '/probe', ca.certPem())).body,
        'ok',
      );
      assert.equal((await fetch(`${direct.url}/probe`)).status, 200);
      assert.deepEqual(seen, [
        ['169.254.169.254', undefined],
        ['login.microsoftonline.com', undefined],
        [`127.0.0.1:${direct.port}`, undefined],
      ]);
    } finally {
      await direct.app.close();
      await core.close();
      server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('proxy: passthrough off', () => {
  let azimds: EmulatorHandle;
  before(async () => {
    azimds = await startEmulator({ proxy: { passthrough: false } });
  });
  after(() => azimds.close());

  test('CONNECT to another host is refused at once with a 502 that says why', async () => {
    const res = await connectVia(azimds.urls.proxy as string, 'registry.npmjs.org:443');
    assert.equal(res.status, 502);
    assert.match(res.body, /registry\.npmjs\.org:443/);
    assert.match(res.body, /passthrough is off/);
    assert.match(res.body, /login\.microsoftonline\.com/);
  });

  test('absolute-form to another host too; emulated hosts still answer', async () => {
    const res = await viaProxy(azimds.urls.proxy as string, 'http://example.invalid/x');
    assert.equal(res.status, 502);
    assert.match(res.body, /passthrough is off/);
    const imds = await viaProxy(azimds.urls.proxy as string, `${IMDS}/metadata/versions`, {
      Metadata: 'true',
    });
    assert.equal(imds.status, 200);
  });
});

describe('proxy: upstream proxy', () => {
  test('passthrough goes through the configured upstream proxy (CONNECT and absolute-form)', async () => {
    const seen: string[] = [];
    const upstream = createHttpServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end('from upstream');
    });
    upstream.on('connect', (req, socket) => {
      seen.push(`CONNECT ${req.url}`);
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 7\r\n\r\nblocked');
    });
    const port = await listening(upstream);
    const azimds = await startEmulator({ proxy: { upstream: `http://127.0.0.1:${port}` } });
    try {
      const forwarded = await viaProxy(azimds.urls.proxy as string, 'http://example.invalid/path?q=1');
      assert.equal(forwarded.body, 'from upstream');
      const refused = await connectVia(azimds.urls.proxy as string, 'example.invalid:443');
      assert.equal(refused.status, 403, "the upstream's answer is relayed");
      assert.deepEqual(seen, ['GET http://example.invalid:80/path?q=1', 'CONNECT example.invalid:443']);
    } finally {
      await azimds.close();
      upstream.close();
    }
  });
});
