/**
 * Issue 17 items 13 and 16: every Azure surface refuses a foreign Host (DNS rebinding) and cross-site
 * browser requests, sends no CORS header, and answers what node's parser and server used to answer
 * themselves (no Host, odd Expect, CONNECT, garbage, oversized headers, Upgrade with a body, a
 * trickled body) in the surface's own error shape and headers, closing the connection where it must.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createState, libraryConfig, listenerSpecs } from '../../src/server/emulator.js';
import { hostChecker, hostName } from '../../src/server/host-guard.js';
import { buildListenerApp, type RunningListener, startListener } from '../../src/server/listener.js';
import { createLogger } from '../../src/server/logger.js';

/** The error shape of each surface, as a predicate on the parsed body. */
const SHAPES: Record<string, (body: Record<string, unknown>) => boolean> = {
  imds: (b) => typeof b.error === 'string' && Object.keys(b).length === 1,
  arc: (b) => typeof b.error === 'string' && Object.keys(b).length === 1,
  vmExtension: (b) => b.error === 'invalid_request' || b.error === 'access_denied',
  appService: (b) => typeof b.statusCode === 'number' && typeof b.correlationId === 'string',
  azureMl: (b) => typeof b.statusCode === 'number' && typeof b.correlationId === 'string',
  serviceFabric: (b) =>
    typeof (b.error as Record<string, unknown>)?.code === 'string' &&
    typeof (b.error as Record<string, unknown>)?.correlationId === 'string',
};

function options(dataDir: string) {
  return {
    dataDir,
    allowedHosts: ['azimds', '*.compose.internal'],
    platforms: {
      arc: { enabled: true, tokenDir: join(dataDir, 'arc-tokens') },
      appService: { enabled: true },
      azureMl: { enabled: true },
      serviceFabric: { enabled: true },
      vmExtension: { enabled: true },
    },
  };
}

describe('Host and cross-site requests on the Azure surfaces', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'azimds-host-'));
  const apps = new Map<string, FastifyInstance>();

  before(async () => {
    const state = createState(libraryConfig(options(dataDir)));
    for (const spec of listenerSpecs(state)) {
      const app = await buildListenerApp(spec, createLogger('silent'));
      await app.ready();
      apps.set(spec.name, app);
    }
  });
  after(async () => {
    await Promise.all([...apps.values()].map((app) => app.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a foreign Host gets 400 in each surface shape; a foreign Origin or cross-site fetch gets 403', async () => {
    for (const [name, shape] of Object.entries(SHAPES)) {
      const app = apps.get(name) as FastifyInstance;
      for (const [headers, status] of [
        [{ host: 'attacker.example:8169' }, 400],
        [{ host: 'attacker.example' }, 400],
        [{ host: '127.0.0.1.attacker.example' }, 400],
        [{ host: 'localhost:notaport' }, 400],
        [{ host: 'localhost', origin: 'http://attacker.example' }, 403],
        [{ host: 'localhost', origin: 'null' }, 403],
        [{ host: 'localhost', 'sec-fetch-site': 'cross-site' }, 403],
      ] as const) {
        for (const method of ['GET', 'POST'] as const) {
          const res = await app.inject({ method, url: '/metadata/identity/oauth2/token', headers });
          const what = `${name} ${method} ${JSON.stringify(headers)}`;
          assert.equal(res.statusCode, status, what);
          assert.match(String(res.headers['content-type']), /^application\/json/, what);
          assert.ok(shape(res.json()), `${what}: ${res.body}`);
          assert.equal(res.headers['access-control-allow-origin'], undefined, what);
          if (name === 'imds' || name === 'arc') assert.match(String(res.headers.server), /^IMDS\//, what);
        }
      }
    }
  });

  test('own names, loopback, 169.254.169.254, the proxy names and allowedHosts pass the guard', async () => {
    const app = apps.get('imds') as FastifyInstance;
    for (const host of [
      'localhost:8169',
      '127.0.0.1',
      '127.0.0.2:80',
      '[::1]:8169',
      '169.254.169.254',
      '169.254.169.254:80',
      'LOCALHOST',
      'app.localhost',
      'management.azure.com',
      'login.microsoftonline.com',
      'myvault.vault.azure.net',
      'azimds:8169',
      'api.compose.internal',
    ]) {
      const res = await app.inject({ url: '/metadata/versions', headers: { host, metadata: 'true' } });
      assert.equal(res.statusCode, 200, `${host}: ${res.body}`);
    }
    // A same-origin page (or a tool that sets Origin) is not cross-site.
    const res = await app.inject({
      url: '/metadata/versions',
      headers: { host: '127.0.0.1:8169', origin: 'http://127.0.0.1:8169', metadata: 'true' },
    });
    assert.equal(res.statusCode, 200);
  });

  test('the check: wildcard binds accept IP literals only; names are compared without port or case', () => {
    const wildcard = hostChecker('0.0.0.0');
    assert.equal(wildcard('10.1.2.3:8169'), true);
    assert.equal(wildcard('[fe80::1]:8169'), true);
    assert.equal(wildcard('attacker.example'), false);
    const bound = hostChecker('10.0.0.5', ['Build-Agent']);
    assert.equal(bound('10.0.0.5:8169'), true);
    assert.equal(bound('10.0.0.6:8169'), false);
    assert.equal(bound('build-agent:8169'), true);
    assert.equal(bound(undefined), false);
    assert.equal(bound(''), false);
    assert.equal(hostName('[::1]:80'), '[::1]');
    assert.equal(hostName('LocalHost.:80'), 'localhost');
    assert.equal(hostName('a:b:c'), undefined);
  });

  test('an undecodable URL gets each surface its own 400', async () => {
    for (const [name, shape] of Object.entries(SHAPES)) {
      const res = await (apps.get(name) as FastifyInstance).inject({ url: '/metadata/%ZZ' });
      assert.equal(res.statusCode, 400, name);
      assert.ok(shape(res.json()), `${name}: ${res.body}`);
    }
  });
});

/** Sends raw bytes and returns what came back before the server closed the socket (or `waitMs` passed). */
function rawExchange(
  port: number,
  data: string | ((socket: net.Socket) => void),
  waitMs = 5000,
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    const socket = net.connect(port, '127.0.0.1', () => {
      if (typeof data === 'string') socket.write(data);
      else data(socket);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, waitMs);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
  });
}

function parse(text: string): { status: number; headers: Record<string, string>; body: string } {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

describe('parser-level answers over a real socket', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'azimds-conn-'));
  const running = new Map<string, RunningListener>();

  before(async () => {
    const state = createState(libraryConfig(options(dataDir)));
    for (const spec of listenerSpecs(state)) {
      if (spec.name === 'control' || spec.name === 'serviceFabric') continue; // https: raw bytes need TLS
      // The proxy (azimds's own answers, test/protocol/proxy.test.ts) and proxy-only surfaces have no socket here.
      if (!(spec.name in SHAPES) || spec.port === undefined) continue;
      // Short limits so that the trickle test takes seconds; the defaults are in DEFAULTS.server.
      spec.serverOptions = { ...spec.serverOptions, requestTimeout: 1500, http: { headersTimeout: 1000 } };
      running.set(spec.name, await startListener(spec, createLogger('silent')));
    }
  });
  after(async () => {
    await Promise.all([...running.values()].map((l) => l.app.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  const CASES: ReadonlyArray<[string, string, number]> = [
    ['no Host', 'GET /metadata/versions HTTP/1.0\r\nMetadata: true\r\n\r\n', 400],
    ['odd Expect', 'POST /x HTTP/1.1\r\nHost: localhost\r\nExpect: tea\r\nContent-Length: 1\r\n\r\n', 417],
    ['CONNECT', 'CONNECT vault.azure.net:443 HTTP/1.1\r\nHost: vault.azure.net:443\r\n\r\n', 405],
    ['garbage', 'HELLO THERE\r\n\r\n', 400],
    ['bad chunk', 'POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n', 400],
    ['huge header', `GET / HTTP/1.1\r\nHost: localhost\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    [
      'Upgrade with a malformed chunked body',
      'POST /x HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nhi\r\n',
      400,
    ],
  ];

  test('each is answered in the surface shape and the connection is closed', async () => {
    for (const [name, listener] of running) {
      const shape = SHAPES[name] as (b: Record<string, unknown>) => boolean;
      for (const [what, bytes, status] of CASES) {
        const { text, closed } = await rawExchange(listener.port, bytes);
        const res = parse(text);
        const label = `${name}: ${what}: ${text.slice(0, 300)}`;
        assert.equal(res.status, status, label);
        assert.equal(closed, true, `${label} (socket left open)`);
        assert.match(res.headers['content-type'] ?? '', /^application\/json/, label);
        assert.ok(shape(JSON.parse(res.body)), label);
        if (name === 'imds' || name === 'arc') assert.match(res.headers.server ?? '', /^IMDS\//, label);
      }
    }
  });

  test('a GET with Upgrade (curl --http2) is served as HTTP/1.1', async () => {
    const imds = running.get('imds') as RunningListener;
    const { text } = await rawExchange(
      imds.port,
      'GET /metadata/versions HTTP/1.1\r\nHost: localhost\r\nMetadata: true\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n',
    );
    assert.equal(parse(text).status, 200, text.slice(0, 200));
  });

  test('a body trickling one byte at a time is cut off with a 408 in the surface shape', async () => {
    for (const name of ['imds', 'appService']) {
      const listener = running.get(name) as RunningListener;
      let timer: NodeJS.Timeout | undefined;
      const { text, closed } = await rawExchange(
        listener.port,
        (socket) => {
          socket.write(
            'POST /metadata/scheduledevents HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n',
          );
          timer = setInterval(() => socket.writable && socket.write('x'), 200);
        },
        8000,
      );
      clearInterval(timer);
      const res = parse(text);
      assert.equal(closed, true, `${name}: the server closed the trickling connection`);
      assert.equal(res.status, 408, `${name}: ${text.slice(0, 300)}`);
      assert.ok((SHAPES[name] as (b: Record<string, unknown>) => boolean)(JSON.parse(res.body)), text);
    }
  });
});

/**
 * Node ends the body stream of a request without Content-Length and Transfer-Encoding before anyone
 * reads it (`optimizeEmptyRequests`, server/connection-guards.ts); the listeners' body reader
 * (server/any-body.ts) must answer such a request at once, and still read and bound real bodies.
 */
describe('request bodies with the empty-request optimisation on', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'azimds-bodies-'));
  const running = new Map<string, RunningListener>();

  before(async () => {
    const state = createState(libraryConfig(options(dataDir)));
    for (const spec of listenerSpecs(state)) {
      if (!(spec.name in SHAPES) || spec.port === undefined || spec.name === 'serviceFabric') continue;
      running.set(spec.name, await startListener(spec, createLogger('silent')));
    }
  });
  after(async () => {
    await Promise.all([...running.values()].map((l) => l.app.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the listeners run with it (Node ≥ 24.12)', () => {
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    if (major < 24 || (major === 24 && minor < 12)) return;
    for (const [name, listener] of running) {
      const server = listener.app.server as unknown as Record<symbol, unknown>;
      const flag = Object.getOwnPropertySymbols(server).find(
        (s) => s.description === 'OptimizeEmptyRequestsOption',
      );
      assert.equal(flag && server[flag], true, name);
    }
  });

  test('a POST with a Content-Type and no length is answered at once, and the connection stays usable', async () => {
    for (const [name, listener] of running) {
      const started = Date.now();
      const { text } = await rawExchange(
        listener.port,
        'POST /metadata/scheduledevents HTTP/1.1\r\nHost: localhost\r\nMetadata: true\r\nContent-Type: application/json\r\n\r\n' +
          'GET /metadata/versions HTTP/1.1\r\nHost: localhost\r\nMetadata: true\r\nConnection: close\r\n\r\n',
        3000,
      );
      const answers = text.match(/HTTP\/1\.1 \d{3} /g) ?? [];
      assert.equal(answers.length, 2, `${name}: both requests answered: ${text.slice(0, 400)}`);
      assert.ok(Date.now() - started < 2000, `${name}: answered in ${Date.now() - started} ms`);
      // The first answer is the route's own (its status and shape), not a parse error.
      const first = parse(text.slice(0, text.indexOf('HTTP/1.1', 1)));
      assert.doesNotMatch(first.body, /Malformed/, `${name}: ${text.slice(0, 300)}`);
      assert.notEqual(first.status, 408, name);
    }
  });

  test('bodies with a length or chunked are still read; one over the limit gets 413 in the surface shape', async () => {
    const imds = running.get('imds') as RunningListener;
    // A real StartRequests body is read and acted on: an unknown event id is the route's 400, not a parse error.
    const body = JSON.stringify({ StartRequests: [{ EventId: 'no-such-event' }] });
    for (const framing of [
      `Content-Length: ${body.length}\r\n\r\n${body}`,
      `Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    ]) {
      const { text } = await rawExchange(
        imds.port,
        `POST /metadata/scheduledevents?api-version=2020-07-01 HTTP/1.1\r\nHost: localhost\r\nMetadata: true\r\nContent-Type: application/json\r\nConnection: close\r\n${framing}`,
      );
      const res = parse(text);
      assert.ok(res.status === 200 || res.status === 400, text.slice(0, 300));
      assert.doesNotMatch(res.body, /Malformed/, text.slice(0, 300));
    }
    for (const [name, listener] of running) {
      for (const framing of [
        'Content-Length: 2000000\r\n\r\n',
        `Transfer-Encoding: chunked\r\n\r\n${(1_100_000).toString(16)}\r\n${'x'.repeat(1_100_000)}\r\n0\r\n\r\n`,
      ]) {
        const { text } = await rawExchange(
          listener.port,
          `POST /metadata/scheduledevents HTTP/1.1\r\nHost: localhost\r\nMetadata: true\r\nContent-Type: application/json\r\nConnection: close\r\n${framing}`,
        );
        const res = parse(text);
        assert.equal(res.status, 413, `${name}: ${text.slice(0, 300)}`);
        assert.match(res.body, /too large/, `${name}: ${res.body}`);
        assert.ok(
          (SHAPES[name] as (b: Record<string, unknown>) => boolean)(JSON.parse(res.body)),
          `${name}: ${res.body}`,
        );
      }
    }
  });
});
