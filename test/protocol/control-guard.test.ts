/**
 * The control listener's safety (docs/dashboard.md#safety): it answers only requests that name it in
 * `Host` (DNS rebinding), refuses changes sent by another web site (Origin, Sec-Fetch-Site) and every
 * change without a JSON body or the X-Azimds-Control header (CSRF), never sends CORS headers, and its
 * dashboard is served with a Content-Security-Policy. Over real HTTP (node:http, which lets a test send
 * any Host) and inject().
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { buildSurface, type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request over a real socket to `base`, with exactly these headers (Host included when given). */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
) {
  const url = new URL(path, base);
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: url.pathname + url.search,
        headers,
        setHost: !('host' in headers),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const code = (a: Answer) => (JSON.parse(a.body) as { error?: { code?: string } }).error?.code;

describe('control listener over HTTP', () => {
  let emu: EmulatorHandle;
  let base: string;
  let port: string;
  before(async () => {
    emu = await startEmulator();
    base = emu.urls.control as string;
    port = new URL(base).port;
  });
  after(() => emu.close());

  test('answers requests addressed to itself: 127.0.0.1, localhost and [::1] on its port', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      const res = await send(base, 'GET', '/clock', { host });
      assert.equal(res.status, 200, `${host}: ${res.body}`);
    }
  });

  test('refuses a foreign Host with 403 ForeignHost on every path (DNS rebinding)', async () => {
    for (const path of ['/', '/clock', '/dashboard', '/dashboard/app.js', '/logs', '/no-such-route']) {
      const res = await send(base, 'GET', path, { host: `attacker.example:${port}` });
      assert.equal(res.status, 403, path);
      assert.equal(code(res), 'ForeignHost');
    }
    const change = await send(base, 'POST', '/reset', { host: 'attacker.example', 'x-azimds-control': '1' });
    assert.equal(change.status, 403);
    assert.equal(code(change), 'ForeignHost');
  });

  test('refuses its own name on another port and a missing Host', async () => {
    const other = String((Number(port) % 65535) + 1);
    assert.equal(code(await send(base, 'GET', '/clock', { host: `127.0.0.1:${other}` })), 'ForeignHost');
    assert.equal(code(await send(base, 'GET', '/clock', { host: '127.0.0.1' })), 'ForeignHost');
    assert.equal(code(await send(base, 'GET', '/clock', { host: '' })), 'ForeignHost');
  });

  test('refuses a change with neither a JSON body nor X-Azimds-Control with 403 ControlHeaderRequired', async () => {
    emu.faults.add({ id: 'kept', path: '/x', status: 500 });
    for (const [method, path, headers, body] of [
      ['DELETE', '/faults', {}, undefined],
      ['POST', '/reset', {}, undefined],
      // What an HTML form on any web site can send without a preflight.
      ['POST', '/faults', { 'content-type': 'text/plain' }, '{"path":"/x","status":429}'],
      ['POST', '/faults', { 'content-type': 'application/x-www-form-urlencoded' }, 'path=/x&status=429'],
      ['POST', '/clock/advance', { 'content-type': 'multipart/form-data; boundary=x' }, '--x--'],
    ] as const) {
      const res = await send(base, method, path, headers, body);
      assert.equal(res.status, 403, `${method} ${path} ${JSON.stringify(headers)}`);
      assert.equal(code(res), 'ControlHeaderRequired');
    }
    assert.deepEqual(
      emu.faults.list().map((f) => f.id),
      ['kept'],
      'nothing changed',
    );
    assert.equal((await send(base, 'DELETE', '/faults', { 'x-azimds-control': '1' })).status, 204);
    assert.equal(emu.faults.list().length, 0);
  });

  test('takes a change with a JSON body (application/json, merge-patch+json) without the header', async () => {
    const add = await send(
      base,
      'POST',
      '/clock/advance',
      { 'content-type': 'application/json' },
      '{"by":"1m"}',
    );
    assert.equal(add.status, 200, add.body);
    const patch = await send(
      base,
      'PATCH',
      '/vm',
      { 'content-type': 'application/merge-patch+json' },
      '{"compute":{"tags":{"env":"guard"}}}',
    );
    assert.equal(patch.status, 200, patch.body);
    assert.equal((await send(base, 'POST', '/reset', { 'x-azimds-control': '1' })).status, 204);
  });

  test('a JSON POST without Content-Length or Transfer-Encoding (no body) is answered at once', async () => {
    // The Azure surfaces' servers end such a request's body stream unread (optimizeEmptyRequests);
    // the control listener's JSON reader waits for the stream's end, so its server must not.
    const started = Date.now();
    const text = await new Promise<string>((resolve) => {
      let got = '';
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.write(
          `POST /clock/advance HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
            'X-Azimds-Control: 1\r\nConnection: close\r\n\r\n',
        ),
      );
      const timer = setTimeout(() => socket.destroy(), 5000);
      socket.on('data', (chunk) => {
        got += chunk.toString('latin1');
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(got);
      });
    });
    assert.match(text, /^HTTP\/1\.1 4\d\d /, text.slice(0, 300));
    assert.ok(Date.now() - started < 3000, `answered after ${Date.now() - started} ms`);
    assert.equal(emu.clock.offsetMs, 0);
  });

  test('refuses changes from another origin or site with 403 CrossSiteRequest, even with the header', async () => {
    const json = { 'content-type': 'application/json', 'x-azimds-control': '1' };
    const extras: Record<string, string>[] = [
      { origin: 'http://attacker.example' },
      { origin: `http://localhost:${port}` }, // another origin than the Host the request names
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const extra of extras) {
      const res = await send(base, 'POST', '/clock/advance', { ...json, ...extra }, '{"by":"1m"}');
      assert.equal(res.status, 403, JSON.stringify(extra));
      assert.equal(code(res), 'CrossSiteRequest');
    }
    assert.equal(emu.clock.offsetMs, 0, 'the clock did not move');
    const own = await send(base, 'POST', '/clock/reset', {
      'x-azimds-control': '1',
      origin: base,
      'sec-fetch-site': 'same-origin',
    });
    assert.equal(own.status, 200, 'the dashboard itself (same origin) may change the emulator');
  });

  test('sends no CORS headers, not even to a preflight', async () => {
    const preflight = await send(base, 'OPTIONS', '/faults', {
      origin: 'http://attacker.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-azimds-control',
    });
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    const read = await send(base, 'GET', '/clock', { origin: 'http://attacker.example' });
    assert.equal(read.headers['access-control-allow-origin'], undefined);
  });

  test('serves the dashboard with a Content-Security-Policy that allows only its own origin', async () => {
    for (const path of ['/dashboard', '/dashboard/app.js', '/dashboard/app.css']) {
      const res = await send(base, 'GET', path);
      assert.equal(res.status, 200, path);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    }
    const page = await send(base, 'GET', '/dashboard');
    // Its inline styles are allowed by their hash, nothing else inline.
    assert.match(String(page.headers['content-security-policy']), /style-src 'self' 'sha256-[\w+/=]+';/);
    assert.match(page.body, /<style>/);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.doesNotMatch(page.body, /<script>(?!\s*$)|\son\w+=/, 'no inline script or handler');
  });
});

describe('control listener bound to every address', () => {
  test('answers the address the client reached and control.allowedHosts, nothing else', async () => {
    const emu = await startEmulator({ control: { host: '0.0.0.0', allowedHosts: ['devbox.internal'] } });
    try {
      const base = emu.urls.control as string;
      const port = new URL(base).port;
      assert.equal((await send(base, 'GET', '/clock', { host: `127.0.0.1:${port}` })).status, 200);
      assert.equal((await send(base, 'GET', '/clock', { host: `devbox.internal:${port}` })).status, 200);
      assert.equal(
        code(await send(base, 'GET', '/clock', { host: `rebind.example:${port}` })),
        'ForeignHost',
      );
    } finally {
      await emu.close();
    }
  });
});

describe('request log details', () => {
  let emu: EmulatorHandle;
  before(async () => {
    emu = await startEmulator();
  });
  after(() => emu.close());

  test('keep a token decoded (header, claims, verified against the JWKS), never the token itself', async () => {
    const res = await fetch(
      `${emu.urls.imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`,
      { headers: { Metadata: 'true' } },
    );
    const { access_token: token } = (await res.json()) as { access_token: string };
    const seq = emu.requestLog.last;
    const got = await send(emu.urls.control as string, 'GET', `/logs/${seq}`);
    assert.equal(got.status, 200);
    assert.ok(!got.body.includes(token), 'the token is not in the log');
    assert.ok(!got.body.includes(token.split('.')[2] as string), 'nor its signature');
    const { entry, detail } = JSON.parse(got.body);
    assert.equal(entry.path, '/metadata/identity/oauth2/token');
    assert.equal(detail.response.status, 200);
    assert.equal(JSON.parse(detail.response.body).access_token, '[token]');
    assert.equal(JSON.parse(detail.response.body).token_type, 'Bearer');
    assert.equal(detail.tokens.length, 1);
    const [logged] = detail.tokens;
    assert.equal(logged.where, 'response access_token');
    assert.equal(logged.verified, true);
    assert.equal(logged.header.alg, 'RS256');
    assert.equal(logged.claims.aud, 'https://vault.azure.net');
    assert.equal(typeof logged.claims.exp, 'number');
    const tokens = JSON.parse((await send(emu.urls.control as string, 'GET', '/dashboard/tokens')).body);
    assert.equal(tokens.tokens[0].seq, seq);
    assert.equal(tokens.tokens[0].verified, true);
  });

  test('mark a token azimds did not sign as not verified, and redact secret headers', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const forged = `${b64({ alg: 'RS256', kid: 'not-ours', typ: 'JWT' })}.${b64({ aud: 'x', exp: 1 })}.c2ln`;
    await fetch(`${emu.urls.imds}/metadata/instance?api-version=2021-02-01`, {
      headers: { Metadata: 'true', Authorization: `Bearer ${forged}`, 'X-IDENTITY-HEADER': 'secret-value' },
    });
    const { detail } = JSON.parse(
      (await send(emu.urls.control as string, 'GET', `/logs/${emu.requestLog.last}`)).body,
    );
    assert.equal(detail.request.headers.authorization, 'Bearer [token]');
    assert.equal(detail.request.headers['x-identity-header'], '[redacted]');
    assert.equal(detail.tokens[0].where, 'request authorization');
    assert.equal(detail.tokens[0].verified, false);
    assert.equal(detail.tokens[0].claims.aud, 'x');
  });

  test('GET /logs/:seq of a request not in the log is 404 LogEntryNotFound', async () => {
    const res = await send(emu.urls.control as string, 'GET', '/logs/999999');
    assert.equal(res.status, 404);
    assert.equal(code(res), 'LogEntryNotFound');
  });
});

describe('control listener over inject()', () => {
  test('checks the Host name too (inject has no socket port)', async () => {
    const app = await buildSurface('control');
    try {
      assert.equal((await app.inject({ url: '/clock' })).statusCode, 200);
      const foreign = await app.inject({ url: '/clock', headers: { host: 'attacker.example' } });
      assert.equal(foreign.statusCode, 403);
      assert.equal(foreign.json().error.code, 'ForeignHost');
    } finally {
      await app.close();
    }
  });
});
