/**
 * `/metadata/loadbalancer` (protocols.md §5.1; Microsoft's "Retrieve load balancer metadata" and its
 * troubleshooting table): the document from config, ports as JSON numbers, 404 without a Standard LB.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadBalancerSchema } from '../../src/config/load-balancer.js';
import { AzimdsError } from '../../src/errors.js';
import { startEmulator } from '../../src/server/emulator.js';
import { BOTH, type ImdsClient, openImds } from '../support/imds-client.js';

const LB = '/metadata/loadbalancer?api-version=2020-10-01';
const dataDir = mkdtempSync(join(tmpdir(), 'azimds-lb-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const NO_LB = {
  error:
    'No load balancer metadata is found. Check if your virtual machine is using any nonbasic SKU load balancer and retry later.',
};

const loadBalancer = {
  publicIpAddresses: [{ frontendIpAddress: '51.0.0.1', privateIpAddress: '10.1.0.4' }],
  inboundRules: [
    {
      frontendIpAddress: '50.0.0.1',
      protocol: 'tcp' as const,
      frontendPort: 80,
      backendPort: 443,
      privateIpAddress: '10.1.0.4',
    },
    {
      frontendIpAddress: '2603:10e1:100:2::1:1',
      protocol: 'tcp' as const,
      frontendPort: 80,
      backendPort: 443,
      privateIpAddress: 'ace:cab:deca:deed::1',
    },
  ],
  outboundRules: [{ frontendIpAddress: '50.0.0.1', privateIpAddress: '10.1.0.4' }],
};

for (const transport of BOTH) {
  describe(`load balancer metadata over ${transport}`, () => {
    let imds: ImdsClient;
    before(async () => {
      imds = await openImds(transport, { dataDir, loadBalancer });
    });
    after(() => imds.close());

    test("serves Microsoft's sample document from config, ports as numbers", async () => {
      const res = await imds.request(LB);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepEqual(JSON.parse(res.body), { loadbalancer: loadBalancer });
      assert.match(res.body, /"frontendPort":80,"backendPort":443/);
    });

    test('serves every api-version from 2020-10-01 on', async () => {
      for (const v of ['2020-12-01', '2021-02-01', '2025-04-07']) {
        assert.equal((await imds.request(`/metadata/loadbalancer?api-version=${v}`)).status, 200, v);
      }
    });

    test('rejects api-versions before 2020-10-01, or none, with the api-version error', async () => {
      for (const path of ['/metadata/loadbalancer?api-version=2020-09-01', '/metadata/loadbalancer']) {
        const res = await imds.json(path);
        assert.equal(res.status, 400, path);
        assert.deepEqual(res.body['newest-versions'], ['2025-04-07', '2024-07-17', '2024-03-15']);
      }
    });

    test('applies the IMDS checks: Metadata header (400), GET only (405)', async () => {
      const noHeader = await imds.json(LB, { metadata: false });
      assert.equal(noHeader.status, 400);
      assert.deepEqual(noHeader.body, { error: 'Bad request. Required metadata header not specified' });
      const post = await imds.json(LB, { method: 'POST', body: '{}' });
      assert.equal(post.status, 405);
      assert.deepEqual(post.body, {
        error: 'Http method is not allowed: Path = "/metadata/loadbalancer", Method = "POST"',
      });
    });
  });
}

describe('without a Standard load balancer', () => {
  test("answers 404 with Azure's message when none is configured", async () => {
    const imds = await openImds('http', { dataDir });
    try {
      const res = await imds.json(LB);
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, NO_LB);
    } finally {
      await imds.close();
    }
  });

  test('answers the same 404 for a Basic SKU load balancer', async () => {
    const imds = await openImds('inject', { dataDir, loadBalancer: { ...loadBalancer, sku: 'Basic' } });
    try {
      assert.deepEqual((await imds.json(LB)).body, NO_LB);
    } finally {
      await imds.close();
    }
  });

  test('serves a load balancer added at run time, and 404 again once removed', async () => {
    const imds = await openImds('inject', { dataDir });
    try {
      imds.state.loadBalancer.replace(
        loadBalancerSchema.parse({ outboundRules: [{ frontendIpAddress: '20.0.0.9' }] }),
      );
      const res = await imds.json(LB);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.loadbalancer.outboundRules, [
        { frontendIpAddress: '20.0.0.9', privateIpAddress: '10.0.0.4' },
      ]);
      imds.state.loadBalancer.replace(undefined);
      assert.equal((await imds.request(LB)).status, 404);
    } finally {
      await imds.close();
    }
  });
});

describe('load balancer config', () => {
  test("defaults privateIpAddress to the VM's primary private address and protocol to tcp", async () => {
    const imds = await openImds('inject', {
      dataDir,
      vm: { network: { interface: [{ ipv4: { ipAddress: [{ privateIpAddress: '10.9.0.7' }] } }] } },
      loadBalancer: {
        inboundRules: [{ frontendIpAddress: '20.1.1.1', frontendPort: 443, backendPort: 8443 }],
      },
    });
    try {
      const res = await imds.json(LB);
      assert.deepEqual(res.body, {
        loadbalancer: {
          publicIpAddresses: [],
          inboundRules: [
            {
              frontendIpAddress: '20.1.1.1',
              protocol: 'tcp',
              frontendPort: 443,
              backendPort: 8443,
              privateIpAddress: '10.9.0.7',
            },
          ],
          outboundRules: [],
        },
      });
    } finally {
      await imds.close();
    }
  });

  test('rejects ports that are not integers in 0-65535 and addresses that are not IPs', async () => {
    for (const bad of [
      { inboundRules: [{ frontendIpAddress: '20.1.1.1', frontendPort: 70000, backendPort: 80 }] },
      { inboundRules: [{ frontendIpAddress: '20.1.1.1', frontendPort: '80', backendPort: 80 }] },
      { outboundRules: [{ frontendIpAddress: 'lb.example.com' }] },
    ]) {
      await assert.rejects(
        startEmulator({ dataDir, loadBalancer: bad as never }),
        (e: unknown) =>
          e instanceof AzimdsError && e.code === 'CONFIG_INVALID' && /loadBalancer\./.test(e.message),
      );
    }
  });
});
