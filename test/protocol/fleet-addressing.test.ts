/**
 * How a request finds its VM in a fleet (docs/fleet.md, src/server/request-vm.ts), over real HTTP: the
 * proxy URL's user part (absolute-form and CONNECT), an unknown name (407), the source address with
 * `imds.vmBySourceAddress` (loopback aliases 127.0.0.x stand in for the namespaces' private IPs),
 * per-VM ports, the default VM; per-VM tokens, scheduled events per VM and per scale set /
 * availability set through the control API.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';

const NAME_PATH = '/metadata/instance/compute/name?api-version=2021-02-01&format=text';
const TOKEN_PATH =
  '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/';

const basic = (name: string) => `Basic ${Buffer.from(`${name}:`).toString('base64')}`;

interface Answer {
  status: number;
  body: string;
}

/** A plain GET (origin- or absolute-form) to `base` with `headers`, optionally from `localAddress`. */
function get(
  base: string,
  path: string,
  headers: Record<string, string> = {},
  localAddress?: string,
): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path,
        headers: { Metadata: 'true', ...headers },
        ...(localAddress ? { localAddress } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** CONNECT 169.254.169.254:80 as VM `name`, then one plain request in the tunnel; the raw answer. */
function throughTunnel(proxy: string, name: string, path: string): Promise<string> {
  const url = new URL(proxy);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method: 'CONNECT',
      path: '169.254.169.254:80',
      headers: { 'Proxy-Authorization': basic(name) },
    });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        return resolve(`CONNECT ${res.statusCode}`);
      }
      let raw = '';
      socket.setEncoding('utf8');
      socket.on('data', (d) => {
        raw += d;
      });
      socket.on('end', () => resolve(raw));
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\nConnection: close\r\n\r\n`,
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const oidOf = (tokenBody: string) =>
  JSON.parse(
    Buffer.from(
      (JSON.parse(tokenBody).access_token as string).split('.')[1] as string,
      'base64url',
    ).toString(),
  ).oid as string;

describe('fleet addressing', () => {
  let azimds: EmulatorHandle;
  const principal = (name: string) => azimds.vm(name).state.identities.current.systemAssigned?.principalId;

  before(async () => {
    azimds = await startEmulator({
      imds: { vmBySourceAddress: true },
      fleet: {
        count: 2,
        vms: ['127.0.0.2', '127.0.0.3'].map((ip, i) => ({
          compute: { name: `ns-vm-${i + 2}` },
          network: { interface: [{ ipv4: { ipAddress: [{ privateIpAddress: ip }] } }] },
          availabilitySet: 'avset-ns',
        })),
        scaleSets: [{ name: 'vmss-web', count: 3, template: { compute: {}, network: {} } }],
      },
      proxy: { enabled: true, port: 0 },
      control: { port: 0 },
    } as never);
  });
  after(() => azimds.close());

  test('the proxy URL user part picks the VM (absolute-form): metadata and a token as that VM', async () => {
    const proxy = azimds.urls.proxy as string;
    for (const name of ['azimds-vm-01', 'azimds-vm-02', 'vmss-web_1']) {
      const meta = await get(proxy, `http://169.254.169.254${NAME_PATH}`, {
        'Proxy-Authorization': basic(name),
      });
      assert.deepEqual(meta, { status: 200, body: name });
      const token = await get(proxy, `http://169.254.169.254${TOKEN_PATH}`, {
        'Proxy-Authorization': basic(name),
      });
      assert.equal(token.status, 200);
      assert.equal(oidOf(token.body), principal(name));
    }
    assert.notEqual(principal('azimds-vm-01'), principal('azimds-vm-02'));
    // The request log says which VM answered.
    const logged = azimds.requestLog
      .entries()
      .entries.filter((e) => e.path === '/metadata/identity/oauth2/token');
    assert.deepEqual(
      logged.slice(-3).map((e) => e.vm),
      ['azimds-vm-01', 'azimds-vm-02', 'vmss-web_1'],
    );
  });

  test('CONNECT carries the VM into the tunnel', async () => {
    const raw = await throughTunnel(azimds.urls.proxy as string, 'vmss-web_2', NAME_PATH);
    assert.match(raw, /^HTTP\/1\.1 200/);
    assert.ok(raw.endsWith('\r\n\r\nvmss-web_2'), raw);
  });

  test('an unknown VM name gets 407 UnknownVm, on absolute-form and CONNECT', async () => {
    const proxy = azimds.urls.proxy as string;
    const answer = await get(proxy, `http://169.254.169.254${NAME_PATH}`, {
      'Proxy-Authorization': basic('nope'),
    });
    assert.equal(answer.status, 407);
    assert.equal(JSON.parse(answer.body).error.code, 'UnknownVm');
    assert.equal(await throughTunnel(proxy, 'nope', NAME_PATH), 'CONNECT 407');
  });

  test('no credentials: the default VM (member 0)', async () => {
    const meta = await get(azimds.urls.proxy as string, `http://169.254.169.254${NAME_PATH}`);
    assert.deepEqual(meta, { status: 200, body: 'azimds-vm-01' });
  });

  test('imds.vmBySourceAddress: the VM whose private IP is the client address; others get the default', async () => {
    const imds = azimds.urls.imds as string;
    assert.deepEqual(await get(imds, NAME_PATH, {}, '127.0.0.2'), { status: 200, body: 'ns-vm-2' });
    assert.deepEqual(await get(imds, NAME_PATH, {}, '127.0.0.3'), { status: 200, body: 'ns-vm-3' });
    const token = await get(imds, TOKEN_PATH, {}, '127.0.0.3');
    assert.equal(oidOf(token.body), principal('ns-vm-3'));
    assert.deepEqual(await get(imds, NAME_PATH, {}, '127.0.0.1'), { status: 200, body: 'azimds-vm-01' });
    const [last, before] = azimds.requestLog.entries().entries.reverse();
    assert.equal(last?.vm, undefined, 'the default VM is not named');
    assert.equal(before?.vm, 'ns-vm-3');
  });

  test('per-VM ports: POST /vms/{name}/listeners opens IMDS and the legacy extension as that VM', async () => {
    const res = await fetch(`${azimds.urls.control}/vms/azimds-vm-02/listeners`, {
      method: 'POST',
      headers: { 'x-azimds-control': '1' },
    });
    assert.equal(res.status, 200);
    const { urls } = (await res.json()) as { urls: { imds: string; vmExtension: string } };
    assert.deepEqual(await get(urls.imds, NAME_PATH), { status: 200, body: 'azimds-vm-02' });
    const ext = await get(urls.vmExtension, '/oauth2/token?resource=https://management.azure.com/');
    assert.equal(ext.status, 200);
    assert.equal(oidOf(ext.body), principal('azimds-vm-02'));
    // Opened once: the same URLs again.
    const again = await fetch(`${azimds.urls.control}/vms/azimds-vm-02/listeners`, {
      method: 'POST',
      headers: { 'x-azimds-control': '1' },
    });
    assert.deepEqual(((await again.json()) as { urls: object }).urls, urls);
  });

  test('GET /vms lists the fleet; ?vm= of an unknown name is 404 VmNotFound', async () => {
    const list = (await (await fetch(`${azimds.urls.control}/vms`)).json()) as {
      count: number;
      vms: Array<{ name: string; scaleSet?: string; availabilitySet?: string }>;
    };
    assert.equal(list.count, 7);
    assert.deepEqual(
      list.vms.filter((v) => v.scaleSet === 'vmss-web').map((v) => v.name),
      ['vmss-web_0', 'vmss-web_1', 'vmss-web_2'],
    );
    const missing = await fetch(`${azimds.urls.control}/vm?vm=nope`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'VmNotFound');
  });

  test('scheduled events per VM, and for a whole scale set / availability set', async () => {
    const control = azimds.urls.control as string;
    const post = (query: string) =>
      fetch(`${control}/events?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'Reboot', notBefore: '+5m' }),
      });
    assert.equal((await post('vm=azimds-vm-02')).status, 201);
    const scaleSet = (await (await post('scaleSet=vmss-web')).json()) as { events: Array<{ vm: string }> };
    assert.deepEqual(
      scaleSet.events.map((e) => e.vm),
      ['vmss-web_0', 'vmss-web_1', 'vmss-web_2'],
    );
    const avset = (await (await post('availabilitySet=avset-ns')).json()) as {
      events: Array<{ vm: string }>;
    };
    assert.deepEqual(
      avset.events.map((e) => e.vm),
      ['ns-vm-2', 'ns-vm-3'],
    );
    const eventsOf = async (name: string) => {
      const answer = await get(
        azimds.urls.proxy as string,
        'http://169.254.169.254/metadata/scheduledevents?api-version=2020-07-01',
        {
          'Proxy-Authorization': basic(name),
        },
      );
      return (JSON.parse(answer.body) as { Events: Array<{ Resources: string[] }> }).Events;
    };
    const [own] = await eventsOf('azimds-vm-02');
    assert.deepEqual(own?.Resources, ['azimds-vm-02']);
    assert.equal((await eventsOf('vmss-web_1')).length, 1);
    assert.equal((await eventsOf('ns-vm-3')).length, 1);
    assert.equal((await eventsOf('azimds-vm-01')).length, 0);
  });
});

describe('fleet rate limits', () => {
  let azimds: EmulatorHandle;
  before(async () => {
    azimds = await startEmulator({
      imds: { rateLimit: { enabled: true, requestsPerSecond: 0.001, burst: 2 } },
      fleet: { count: 2 },
      proxy: { enabled: true, port: 0 },
    } as never);
  });
  after(() => azimds.close());

  test("each VM has its own buckets (Azure's limit is per VM): one VM throttled, the other not", async () => {
    const proxy = azimds.urls.proxy as string;
    const as = (name: string) =>
      get(proxy, `http://169.254.169.254${NAME_PATH}`, { 'Proxy-Authorization': basic(name) });
    assert.equal((await as('azimds-vm-01')).status, 200);
    assert.equal((await as('azimds-vm-01')).status, 200);
    assert.equal((await as('azimds-vm-01')).status, 429);
    assert.deepEqual(await as('azimds-vm-02'), { status: 200, body: 'azimds-vm-02' });
  });
});
