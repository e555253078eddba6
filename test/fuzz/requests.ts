/**
 * Seeded generation of hostile, malformed and merely odd HTTP/1.1 requests for one surface, as raw
 * bytes: request lines, paths, queries, headers, bodies and framing (chunked, Expect, Upgrade,
 * CONNECT, oversized headers, truncation, pipelining). The same seed gives the same requests.
 */
import type { Surface } from './surfaces.js';

/** mulberry32: a tiny seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Random = () => number;

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** Shared with test/protocol/robustness.test.ts. */
export const SEGMENTS = [
  'metadata',
  'instance',
  'compute',
  'network',
  'interface',
  '0',
  '99',
  '-1',
  'identity',
  'oauth2',
  'token',
  'info',
  'attested',
  'document',
  'scheduledevents',
  'loadbalancer',
  'versions',
  'tagsList',
  'userData',
  'msi',
  'MSI',
  'auth',
  'vm',
  'faults',
  'events',
  'clock',
  'logs',
  'identities',
  '.well-known',
  'openid-configuration',
  'discovery',
  'keys',
  '%00',
  '%ZZ',
  '%',
  '..',
  '%2e%2e',
  '%F0%9F%92%A9',
  '%C0%AF',
  'constructor',
  '__proto__',
  'x'.repeat(300),
  '',
  ';',
  'a;b=c',
  '*',
];
/** Shared with test/protocol/robustness.test.ts. */
export const PARAMS = [
  'api-version',
  'format',
  'resource',
  'client_id',
  'object_id',
  'msi_res_id',
  'mi_res_id',
  'principal_id',
  'clientid',
  'nonce',
  'bypass_cache',
  'token_sha256_to_refresh',
  'after',
  'limit',
  'wait',
  '__proto__',
  'constructor',
  '',
  '%ZZ',
];
/** Shared with test/protocol/robustness.test.ts. */
export const VALUES = [
  '2018-02-01',
  '2019-08-01',
  '2020-06-01',
  '2021-02-01',
  '2025-04-07',
  '2017-09-01',
  '2019-07-01-preview',
  '2020-07-01',
  'text',
  'json',
  'xml',
  'https://vault.azure.net',
  'https://management.azure.com/',
  'api://app',
  'not a uri',
  '',
  '%',
  '%00',
  '%ZZ',
  'true',
  'false',
  '-1',
  '1e309',
  'x'.repeat(5000),
  '00000000-0000-0000-0000-000000000000',
  '%E2%80%AE',
  '<script>',
  '../../etc/passwd',
];
const METHODS = [
  'GET',
  'GET',
  'GET',
  'GET',
  'POST',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'HEAD',
  'TRACE',
  'FOO',
  'get',
];
const BODIES = [
  '',
  '{',
  '{}',
  '[]',
  'null',
  '"x"',
  '{"StartRequests":[{"EventId":"x"}]}',
  '{"StartRequests":"x"}',
  'resource=https%3A%2F%2Fvault.azure.net',
  'resource=%ZZ&resource=x',
  '{"compute":{"vmId":"not-a-uuid"}}',
  '{"compute":{"tags":{"team":"fuzz"}}}',
  '{"by":"soon"}',
  '{"__proto__":{"polluted":true}}',
  `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`,
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  '\u0000\u0001\u00ff',
  'x'.repeat(70_000),
];
/** Shared with test/protocol/robustness.test.ts. */
export const CONTENT_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/merge-patch+json',
  'application/json; charset=utf-16',
  '*/*',
  '',
];
const HOSTS = [
  'attacker.example',
  '127.0.0.1.nip.io',
  '',
  'localhost:99999',
  '[::1',
  'a b',
  'login.microsoftonline.com',
];

/** One request: its bytes, and whether the client cuts the connection after sending (half-close). */
export interface FuzzRequest {
  readonly bytes: Buffer;
  /** The client ends its side after sending (a truncated request may then be closed without an answer). */
  readonly endAfterSend: boolean;
  /** Whether an unanswered close is acceptable (framing the server cannot parse to the end). */
  readonly mayCloseUnanswered: boolean;
  /** A short description for reports. */
  readonly label: string;
}

/**
 * A random request for `surface` at `host` (the Host a well-behaved client sends). Most requests are
 * well-framed with odd content, so that handlers are reached; a share garble the framing itself.
 */
export function randomRequest(
  random: Random,
  surface: Surface,
  host: string,
  secrets: Readonly<Record<string, string>>,
): FuzzRequest {
  let method = pick(random, METHODS);
  const path =
    random() < 0.75
      ? pick(random, surface.routes)
      : `/${Array.from({ length: 1 + Math.floor(random() * 5) }, () => pick(random, SEGMENTS)).join('/')}`;
  // Control-API changes that would turn on faults (5xx by design) or move the clock are not fuzzed.
  if (
    surface.name === 'control' &&
    (path.startsWith('/faults') || path.startsWith('/clock')) &&
    method !== 'GET'
  ) {
    method = 'GET';
  }
  const query = Array.from({ length: Math.floor(random() * 4) }, () => {
    const name = pick(random, PARAMS);
    return random() < 0.1 ? name : `${name}=${pick(random, VALUES)}`;
  }).join('&');
  const target = query ? `${path}?${query}` : path;
  const headers: Array<[string, string]> = [];
  const r = random();
  if (r < 0.85) headers.push(['Host', host]);
  else if (r < 0.95) headers.push(['Host', pick(random, HOSTS)]);
  for (const [name, value] of Object.entries(surface.clientHeaders(secrets))) {
    const k = random();
    if (k < 0.7) headers.push([name, value]);
    else if (k < 0.8) headers.push([name, pick(random, ['', 'wrong', 'True', 'x'.repeat(9000)])]);
  }
  if (random() < 0.05) headers.push(['X-Forwarded-For', '10.0.0.1']);
  if (random() < 0.05)
    headers.push(['Origin', pick(random, ['http://attacker.example', 'null', `http://${host}`])]);
  if (random() < 0.03) headers.push(['Sec-Fetch-Site', 'cross-site']);
  if (random() < 0.1)
    headers.push([
      'Authorization',
      pick(random, ['Basic', 'Basic x', 'Bearer y', '', 'Basic '.padEnd(5000, 'z')]),
    ]);
  let body: Buffer | undefined;
  if (method !== 'GET' && method !== 'HEAD' ? random() < 0.8 : random() < 0.05) {
    body = Buffer.from(pick(random, BODIES), 'utf8');
    headers.push(['Content-Type', pick(random, CONTENT_TYPES)]);
  }
  let framing = 'plain';
  let mayCloseUnanswered = false;
  let endAfterSend = false;
  const f = random();
  let version = 'HTTP/1.1';
  let line = `${method} ${target} ${version}`;
  let bodyBytes = body ?? Buffer.alloc(0);
  if (f < 0.55) {
    if (body) headers.push(['Content-Length', String(body.length)]);
  } else if (f < 0.63 && body) {
    framing = 'chunked';
    headers.push(['Transfer-Encoding', 'chunked']);
    bodyBytes = Buffer.concat([
      Buffer.from(`${body.length.toString(16)}\r\n`),
      body,
      Buffer.from('\r\n0\r\n\r\n'),
    ]);
  } else if (f < 0.68) {
    framing = 'bad chunked';
    headers.push(['Transfer-Encoding', 'chunked']);
    bodyBytes = Buffer.from(
      pick(random, ['ZZZ\r\nhello\r\n', '5\r\nhel', '-1\r\n\r\n', '5;x=y\r\nhello\r\n0\r\n\r\n']),
    );
    mayCloseUnanswered = true;
    endAfterSend = random() < 0.5;
  } else if (f < 0.7) {
    framing = 'upgrade';
    headers.push(['Connection', 'Upgrade'], ['Upgrade', pick(random, ['websocket', 'h2c'])]);
    if (body) headers.push(['Content-Length', String(body.length)]);
  } else if (f < 0.72) {
    framing = 'expect';
    headers.push(['Expect', pick(random, ['tea', '100-continue', '200-ok', ''])]);
    if (body) headers.push(['Content-Length', String(body.length)]);
  } else if (f < 0.73) {
    framing = 'connect';
    line = `CONNECT ${pick(random, ['vault.azure.net:443', '127.0.0.1:22', '*'])} HTTP/1.1`;
    bodyBytes = Buffer.alloc(0);
  } else if (f < 0.75) {
    framing = 'huge header';
    headers.push(['X-Fuzz', 'h'.repeat(17_000 + Math.floor(random() * 10_000))]);
  } else if (f < 0.77) {
    framing = 'both lengths';
    headers.push(['Content-Length', String(bodyBytes.length)], ['Transfer-Encoding', 'chunked']);
    mayCloseUnanswered = true;
  } else if (f < 0.79) {
    framing = 'duplicate length';
    headers.push(
      ['Content-Length', String(bodyBytes.length)],
      ['Content-Length', String(bodyBytes.length + 1)],
    );
    mayCloseUnanswered = true;
  } else if (f < 0.81) {
    framing = 'short body';
    headers.push(['Content-Length', String(bodyBytes.length + 10)]);
    endAfterSend = true;
    mayCloseUnanswered = true;
  } else if (f < 0.83) {
    framing = 'HTTP/1.0';
    version = 'HTTP/1.0';
    line = `${method} ${target} ${version}`;
    if (body) headers.push(['Content-Length', String(body.length)]);
  } else if (f < 0.86) {
    framing = 'garbled line';
    line = garble(random, line);
    mayCloseUnanswered = true;
  } else if (f < 0.88) {
    framing = 'bad header';
    headers.push([pick(random, ['X Bad', 'X:Y', '', 'X\u0000', 'Ü']), pick(random, ['v\r', '\u0001', 'ok'])]);
    mayCloseUnanswered = true;
  } else if (f < 0.9) {
    framing = 'truncated head';
    endAfterSend = true;
    mayCloseUnanswered = true;
  } else if (f < 0.92) {
    framing = 'pipelined';
    if (body) headers.push(['Content-Length', String(body.length)]);
  } else if (f < 0.94) {
    framing = 'raw url bytes';
    line = `${method} ${path}${pick(random, ['\u00ff', '\u0080', ' x', '#frag', '\t', '?a=\u00e9'])} ${version}`;
    mayCloseUnanswered = true;
  } else {
    if (body) headers.push(['Content-Length', String(body.length)]);
  }
  if (framing !== 'upgrade' && framing !== 'HTTP/1.0' && random() < 0.9)
    headers.push(['Connection', 'close']);
  let head = `${line}\r\n${headers.map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\n\r\n`;
  if (framing === 'truncated head') head = head.slice(0, Math.floor(random() * head.length));
  let bytes = Buffer.concat([
    Buffer.from(head, 'latin1'),
    framing === 'truncated head' ? Buffer.alloc(0) : bodyBytes,
  ]);
  if (framing === 'pipelined')
    bytes = Buffer.concat([
      bytes,
      Buffer.from(
        `GET /metadata/versions HTTP/1.1\r\nHost: ${host}\r\nMetadata: true\r\nConnection: close\r\n\r\n`,
      ),
    ]);
  return { bytes, endAfterSend, mayCloseUnanswered, label: `${framing} ${method} ${target.slice(0, 120)}` };
}

function garble(random: Random, text: string): string {
  const chars = [...text];
  const n = 1 + Math.floor(random() * 3);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(random() * chars.length);
    chars[at] = pick(random, ['\u0000', ' ', '\r', '\n', '\u00ff', 'X', '%', '', '  ']);
  }
  return chars.join('');
}
