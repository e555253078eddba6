/**
 * `/metadata/instance`: route filtering, `format=json|text`, leaves, arrays, tags, userData and the
 * response headers, as Azure serves them (protocols.md §1.4, §2, §5.2). Each case runs through
 * inject() and over real HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IMDS_API_VERSIONS } from '../../src/core/machines/api-versions.js';
import {
  branches,
  instancePath,
  leaves,
  openTransport,
  TRANSPORTS,
  type Transport,
} from '../support/imds.js';

const V = '2021-12-13';
const NEWEST = IMDS_API_VERSIONS[0];
const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const LEAF_NEEDS_TEXT = { error: 'Bad request. Leaf nodes are only supported with format=text' };
const NOT_FOUND = { error: 'Not found' };

/** A VM with two tags, two NICs and two data disks, to exercise arrays and tags. */
const VM = {
  vm: {
    compute: {
      name: 'web-01',
      tags: { env: 'ci', owner: 'platform' },
      userData: Buffer.from('#!/bin/sh\necho hello\n').toString('base64'),
      storageProfile: { dataDisks: [{ lun: 0 }, { lun: 1, diskSizeGB: 128 }] },
    },
    network: {
      interface: [
        { ipv4: { ipAddress: [{ privateIpAddress: '10.1.0.4', publicIpAddress: '52.1.2.3' }] } },
        { ipv4: { ipAddress: [{ privateIpAddress: '10.1.1.4' }] }, macAddress: '000d3a112233' },
      ],
    },
  },
};

for (const kind of TRANSPORTS) {
  describe(`IMDS instance metadata (${kind})`, () => {
    let imds: Transport;
    let doc: { compute: Record<string, unknown>; network: { interface: unknown[] } };
    before(async () => {
      imds = await openTransport(kind, VM);
      doc = JSON.parse((await imds.get(`/metadata/instance?api-version=${V}`)).body);
    });
    after(() => imds.close());

    test('serves {compute, network} as JSON with Content-Type application/json; charset=utf-8', async () => {
      const res = await imds.get(`/metadata/instance?api-version=${V}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], JSON_TYPE);
      assert.deepEqual(Object.keys(JSON.parse(res.body)), ['compute', 'network']);
    });

    test('serves format=json exactly like no format', async () => {
      const plain = await imds.get(`/metadata/instance?api-version=${V}`);
      const json = await imds.get(`/metadata/instance?api-version=${V}&format=json`);
      assert.equal(json.status, 200);
      assert.equal(json.body, plain.body);
    });

    test('sends the IMDS Server header on success', async () => {
      const res = await imds.get(`/metadata/instance?api-version=${V}`);
      assert.match(res.headers.server ?? '', /^IMDS\//);
    });

    test('serves the compute and network categories as JSON subtrees', async () => {
      const compute = await imds.get(`/metadata/instance/compute?api-version=${V}`);
      assert.equal(compute.status, 200);
      assert.equal(compute.headers['content-type'], JSON_TYPE);
      assert.deepEqual(JSON.parse(compute.body), doc.compute);
      const network = await imds.get(`/metadata/instance/network?api-version=${V}`);
      assert.deepEqual(JSON.parse(network.body), doc.network);
    });

    test('serves every non-leaf path as the JSON of that subtree', async () => {
      for (const branch of branches(doc)) {
        const res = await imds.get(instancePath(branch.segments, V));
        assert.equal(res.status, 200, branch.segments.join('/'));
        assert.deepEqual(JSON.parse(res.body), branch.value, branch.segments.join('/'));
      }
    });

    test('ignores a trailing slash', async () => {
      const res = await imds.get(`/metadata/instance/compute/?api-version=${V}`);
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.body), doc.compute);
      const root = await imds.get(`/metadata/instance/?api-version=${V}`);
      assert.deepEqual(JSON.parse(root.body), doc);
      const leaf = await imds.get(`/metadata/instance/compute/name/?api-version=${V}&format=text`);
      assert.equal(leaf.body, 'web-01');
    });

    test('answers a leaf asked for as JSON (no format or format=json) with 400', async () => {
      for (const query of ['', '&format=json']) {
        const res = await imds.get(`/metadata/instance/compute/vmId?api-version=${V}${query}`);
        assert.equal(res.status, 400);
        assert.equal(res.headers['content-type'], JSON_TYPE);
        assert.deepEqual(JSON.parse(res.body), LEAF_NEEDS_TEXT);
      }
    });

    test('serves a leaf with format=text as the bare value, text/plain; charset=utf-8, no newline', async () => {
      const res = await imds.get(`/metadata/instance/compute/vmId?api-version=${V}&format=text`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], TEXT_TYPE);
      assert.equal(res.body, doc.compute.vmId);
      assert.match(res.body, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    test('serves an empty leaf with format=text as an empty body', async () => {
      const res = await imds.get(`/metadata/instance/compute/placementGroupId?api-version=${V}&format=text`);
      assert.equal(res.status, 200);
      assert.equal(res.body, '');
    });

    // Over HTTP the newest version (a superset of the others) is enough; inject walks them all.
    const walked = kind === 'inject' ? IMDS_API_VERSIONS : [NEWEST];
    test(`serves every leaf of the document with format=text as exactly its value (${walked.length === 1 ? NEWEST : 'every api-version'})`, async () => {
      for (const version of walked) {
        const full = JSON.parse((await imds.get(`/metadata/instance?api-version=${version}`)).body);
        const all = leaves(full);
        assert.ok(all.length > 20, `${version}: only ${all.length} leaves`);
        for (const leaf of all) {
          const where = `${version} ${leaf.segments.join('/')}`;
          const res = await imds.get(instancePath(leaf.segments, version, 'text'));
          assert.equal(res.status, 200, where);
          assert.equal(res.headers['content-type'], TEXT_TYPE, where);
          assert.equal(res.body, leaf.value, where);
          const json = await imds.get(instancePath(leaf.segments, version));
          assert.deepEqual(JSON.parse(json.body), LEAF_NEEDS_TEXT, where);
        }
      }
    });

    test('lists a non-leaf with format=text: child names one per line, "/" after those with children', async () => {
      const root = await imds.get(`/metadata/instance?api-version=${V}&format=text`);
      assert.equal(root.status, 200);
      assert.equal(root.headers['content-type'], TEXT_TYPE);
      assert.equal(root.body, 'compute/\nnetwork/');
      const osProfile = await imds.get(`/metadata/instance/compute/osProfile?api-version=${V}&format=text`);
      assert.equal(osProfile.body, 'adminUsername\ncomputerName\ndisablePasswordAuthentication');
      const compute = await imds.get(`/metadata/instance/compute?api-version=${V}&format=text`);
      const lines = compute.body.split('\n');
      assert.ok(lines.includes('vmId'));
      assert.ok(lines.includes('storageProfile/'));
      assert.ok(lines.includes('tagsList/'));
      assert.deepEqual(
        lines,
        Object.keys(doc.compute).map((k) => (typeof doc.compute[k] === 'object' ? `${k}/` : k)),
      );
    });

    test('lists an array with format=text as its indexes, each with "/"', async () => {
      const res = await imds.get(`/metadata/instance/network/interface?api-version=${V}&format=text`);
      assert.equal(res.body, '0/\n1/');
      const empty = await imds.get(
        `/metadata/instance/network/interface/0/ipv6/ipAddress?api-version=${V}&format=text`,
      );
      assert.equal(empty.status, 200);
      assert.equal(empty.body, '');
    });

    test('serves compute/tags with format=text as key:value pairs joined by ";"', async () => {
      const res = await imds.get(`/metadata/instance/compute/tags?api-version=${V}&format=text`);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'env:ci;owner:platform');
    });

    test('serves compute/tagsList as a bare JSON array of {name, value}', async () => {
      const res = await imds.get(`/metadata/instance/compute/tagsList?api-version=${V}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], JSON_TYPE);
      assert.equal(res.body, '[{"name":"env","value":"ci"},{"name":"owner","value":"platform"}]');
    });

    test('serves compute/userData with format=text as the base64 given at VM create (from 2021-01-01)', async () => {
      const res = await imds.get('/metadata/instance/compute/userData?api-version=2021-01-01&format=text');
      assert.equal(res.status, 200);
      assert.equal(Buffer.from(res.body, 'base64').toString('utf8'), '#!/bin/sh\necho hello\n');
    });

    test('answers compute/userData below 2021-01-01 with 404', async () => {
      const res = await imds.get('/metadata/instance/compute/userData?api-version=2020-12-01&format=text');
      assert.equal(res.status, 404);
      assert.deepEqual(JSON.parse(res.body), NOT_FOUND);
    });

    test('serves customData always as an empty string (IMDS never serves it)', async () => {
      const res = await imds.get(`/metadata/instance/compute/customData?api-version=${V}&format=text`);
      assert.equal(res.body, '');
    });

    test('walks array indexes in the path', async () => {
      const res = await imds.get(
        `/metadata/instance/network/interface/0/ipv4/ipAddress/0/publicIpAddress?api-version=${V}&format=text`,
      );
      assert.equal(res.status, 200);
      assert.equal(res.body, '52.1.2.3');
      const second = await imds.get(
        `/metadata/instance/network/interface/1/macAddress?api-version=${V}&format=text`,
      );
      assert.equal(second.body, '000D3A112233');
      const disk = await imds.get(
        `/metadata/instance/compute/storageProfile/dataDisks/1/diskSizeGB?api-version=${V}&format=text`,
      );
      assert.equal(disk.body, '128');
    });

    test('serves an array element as JSON', async () => {
      const res = await imds.get(`/metadata/instance/network/interface/1/ipv4/ipAddress/0?api-version=${V}`);
      assert.deepEqual(JSON.parse(res.body), { privateIpAddress: '10.1.1.4', publicIpAddress: '' });
    });

    for (const [what, path] of [
      ['an out-of-range index', 'network/interface/2'],
      ['an index past the end of a nested array', 'network/interface/0/ipv4/ipAddress/1/privateIpAddress'],
      ['a negative index', 'network/interface/-1'],
      ['an index with a leading zero', 'network/interface/00'],
      ['a key used on an array', 'network/interface/first'],
      ['an unknown key', 'compute/noSuchField'],
      ['an unknown category below instance', 'storage'],
      ['a key in another case', 'compute/VMID'],
      ['a path below a leaf', 'compute/vmId/more'],
      ['an inherited property name', 'compute/constructor'],
      ['an array property name', 'compute/tagsList/length'],
    ] as const) {
      test(`answers ${what} (${path}) with 404 {"error":"Not found"}`, async () => {
        for (const format of [undefined, 'text']) {
          const res = await imds.get(instancePath(path.split('/'), V, format));
          assert.equal(res.status, 404, `${path} format=${format}`);
          assert.equal(res.headers['content-type'], JSON_TYPE);
          assert.deepEqual(JSON.parse(res.body), NOT_FOUND);
          assert.match(res.headers.server ?? '', /^IMDS\//);
        }
      });
    }

    test('answers format=xml with 400 naming the parameter and the value', async () => {
      const res = await imds.get(`/metadata/instance?api-version=${V}&format=xml`);
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.body), {
        error:
          'Parameter value is not allowed, or parameter value "xml" is not allowed for parameter "format". Fix the request and retry.',
      });
    });

    test('ignores query parameters it does not know', async () => {
      const res = await imds.get(`/metadata/instance/compute/name?api-version=${V}&format=text&extra=1`);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'web-01');
    });

    test('serves physicalZone, the latest field, at the newest api-version', async () => {
      const res = await imds.get(`/metadata/instance/compute/physicalZone?api-version=${NEWEST}&format=text`);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'westeurope-az1');
    });

    test('serves a change to the live VM at once (cached responses are dropped)', async () => {
      const original = imds.state.machine.config;
      imds.state.machine.replace({ ...original, compute: { ...original.compute, name: 'renamed-01' } });
      try {
        const res = await imds.get(`/metadata/instance/compute/name?api-version=${V}&format=text`);
        assert.equal(res.body, 'renamed-01');
      } finally {
        imds.state.machine.replace(original);
      }
      const back = await imds.get(`/metadata/instance/compute/name?api-version=${V}&format=text`);
      assert.equal(back.body, 'web-01');
    });
  });
}
