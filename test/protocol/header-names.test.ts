/**
 * Header names on the wire, read as raw bytes from a real socket: Azure's services spell them in the
 * canonical form of their HTTP stacks (IMDS and Arc's HIMDS: Go's `Content-Type`, `Server`,
 * `Www-Authenticate`, `Retry-After`; App Service, Azure ML, Service Fabric: .NET's), and scripts written
 * against them grep the exact spelling (seed 002: `grep Www-Authenticate`). Node lower-cases nothing
 * written with `writeHead(status, {Name: value})`; fastify's `reply.header()` does — so every Azure
 * surface answers through src/server/reply.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';

const SECRET = 'header-names-secret-0123456789';

/** The response head (status line and header lines) of one raw HTTP/1.1 request. */
function rawHead(
  base: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<string[]> {
  const url = new URL(base);
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  const request = `${lines.join('\r\n')}\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const options = { host: url.hostname, port: Number(url.port) };
    const socket =
      url.protocol === 'https:'
        ? tlsConnect({ ...options, rejectUnauthorized: false }, () => socket.write(request))
        : connect(options, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      resolve(text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n'));
    });
  });
}

/** Asserts the head has a header line spelled exactly `Name: ` (value matching `value` when given). */
function assertLine(head: string[], name: string, value?: RegExp): void {
  const line = head.find((l) => l.startsWith(`${name}: `));
  assert.ok(line, `no "${name}:" line in\n${head.join('\n')}`);
  if (value) assert.match(line.slice(name.length + 2), value);
  const lower = head.filter(
    (l) => l.toLowerCase().startsWith(`${name.toLowerCase()}: `) && !l.startsWith(name),
  );
  assert.deepEqual(lower, [], `"${name}" also sent in another case`);
}

describe('header names as Azure spells them (raw bytes)', () => {
  let azimds: EmulatorHandle;
  const dir = mkdtempSync(join(tmpdir(), 'azimds-headers-'));
  before(async () => {
    azimds = await startEmulator({
      dataDir: join(dir, 'data'),
      platforms: {
        arc: { enabled: true, tokenDir: join(dir, 'tokens') },
        appService: { enabled: true, secret: SECRET },
        azureMl: { enabled: true, secret: SECRET },
        serviceFabric: { enabled: true, secret: SECRET },
        cloudShell: { enabled: true },
      },
    });
  });
  after(async () => {
    await azimds.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('IMDS: Content-Type, Content-Length and Server on answers and errors', async () => {
    const imds = azimds.urls.imds as string;
    for (const [path, headers] of [
      ['/metadata/instance?api-version=2021-02-01', { Metadata: 'true' }],
      ['/metadata/instance?api-version=2021-02-01', {}],
      [
        '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/',
        { Metadata: 'true' },
      ],
      ['/metadata/identity/oauth2/token', {}],
    ] as const) {
      const head = await rawHead(imds, path, headers);
      assertLine(head, 'Content-Type', /^application\/json; charset=utf-8$/);
      assertLine(head, 'Content-Length', /^\d+$/);
      assertLine(head, 'Server', /^IMDS\//);
    }
    const post = await rawHead(imds, '/metadata/identity/oauth2/token', { Metadata: 'true' }, 'POST');
    assertLine(post, 'Allow', /^GET$/);
  });

  test('IMDS scheduled events: ETag and Server, also on a 304', async () => {
    const imds = azimds.urls.imds as string;
    const path = '/metadata/scheduledevents?api-version=2020-07-01';
    const first = await rawHead(imds, path, { Metadata: 'true' });
    assertLine(first, 'ETag', /^"\d+"$/);
    const etag = first.find((l) => l.startsWith('ETag: '))?.slice(6) as string;
    const notModified = await rawHead(imds, path, { Metadata: 'true', 'If-None-Match': etag });
    assert.match(notModified[0] as string, / 304 /);
    assertLine(notModified, 'ETag');
    assertLine(notModified, 'Server');
  });

  test('Arc: the challenge header is Www-Authenticate, as the agent (Go) sends it', async () => {
    const head = await rawHead(
      azimds.urls.arc as string,
      '/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https://management.azure.com/',
      { Metadata: 'true' },
    );
    assert.match(head[0] as string, / 401 /);
    assertLine(head, 'Www-Authenticate', /^Basic realm=.+\.key$/);
    assertLine(head, 'Content-Type');
  });

  test('App Service, Azure ML, Service Fabric and Cloud Shell: Content-Type and Content-Length', async () => {
    const resource = 'resource=https://vault.azure.net';
    for (const [base, path, headers] of [
      [
        azimds.urls.appService,
        `/msi/token?api-version=2019-08-01&${resource}`,
        { 'X-IDENTITY-HEADER': SECRET },
      ],
      [azimds.urls.azureMl, `/MSI/auth?api-version=2017-09-01&${resource}`, { secret: SECRET }],
      [azimds.urls.azureMl, `/MSI/auth?api-version=2017-09-01&${resource}`, {}],
      [
        azimds.urls.serviceFabric,
        `/metadata/identity/oauth2/token?api-version=2019-07-01-preview&${resource}`,
        { Secret: SECRET },
      ],
      [azimds.urls.cloudShell, `/oauth2/token?${resource}`, { Metadata: 'true' }],
    ] as const) {
      const head = await rawHead(base as string, path, headers);
      assertLine(head, 'Content-Type');
      assertLine(head, 'Content-Length', /^\d+$/);
    }
    const post = await rawHead(
      azimds.urls.appService as string,
      '/msi/token?api-version=2019-08-01',
      {
        'X-IDENTITY-HEADER': SECRET,
      },
      'POST',
    );
    assertLine(post, 'Allow', /^GET$/);
  });

  test('Retry-After on a throttled answer', async () => {
    azimds.faults.add({ path: '/metadata/versions', status: 429, retryAfter: 7, times: 1 });
    const head = await rawHead(azimds.urls.imds as string, '/metadata/versions', { Metadata: 'true' });
    assert.match(head[0] as string, / 429 /);
    assertLine(head, 'Retry-After', /^7$/);
    assertLine(head, 'Server');
  });
});
