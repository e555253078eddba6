/**
 * api-version rules of IMDS (protocols.md §1.3) and the version in which each field of the instance
 * document appears (§2). The table below is written from the reference, independently of
 * src/core/machines/field-versions.ts, so a wrong entry there fails here.
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

/** Microsoft's published list (protocols.md §1.3), newest first. */
const PUBLISHED_VERSIONS = [
  '2025-04-07',
  '2024-07-17',
  '2024-03-15',
  '2023-11-15',
  '2023-07-01',
  '2021-12-13',
  '2021-11-15',
  '2021-11-01',
  '2021-10-01',
  '2021-08-01',
  '2021-05-01',
  '2021-03-01',
  '2021-02-01',
  '2021-01-01',
  '2020-12-01',
  '2020-10-01',
  '2020-09-01',
  '2020-07-15',
  '2020-06-01',
  '2019-11-01',
  '2019-08-15',
  '2019-08-01',
  '2019-06-04',
  '2019-06-01',
  '2019-04-30',
  '2019-03-11',
  '2019-02-01',
  '2018-10-01',
  '2018-04-02',
  '2018-02-01',
  '2017-12-01',
  '2017-10-01',
  '2017-08-01',
  '2017-04-02',
  '2017-03-01',
];

const API_VERSION_ERROR = {
  error:
    'Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds',
  'newest-versions': ['2025-04-07', '2024-07-17', '2024-03-15'],
};

/**
 * Field → api-version that introduced it (protocols.md §2.1-2.3), as route-filter paths; `*` is any
 * array element. A field not listed comes with its closest listed ancestor (`compute/storageProfile`
 * brings `osDisk/name`). The oldest fields are documented from 2017-04-02; azimds serves them to the
 * preview version 2017-03-01 too (an empty document would help nobody), see OLDEST_SERVED_AS.
 */
const INTRODUCED_IN: ReadonlyArray<[string, string]> = [
  ['compute', '2017-04-02'],
  ['network', '2017-04-02'],
  ['compute/placementGroupId', '2017-08-01'],
  ['compute/resourceGroupName', '2017-08-01'],
  ['compute/subscriptionId', '2017-08-01'],
  ['compute/tags', '2017-08-01'],
  ['compute/vmScaleSetName', '2017-12-01'],
  ['compute/zone', '2017-12-01'],
  ['compute/plan', '2018-04-02'],
  ['compute/publicKeys', '2018-04-02'],
  ['compute/azEnvironment', '2018-10-01'],
  ['compute/provider', '2018-10-01'],
  ['compute/customData', '2019-02-01'],
  ['compute/resourceId', '2019-03-11'],
  ['compute/storageProfile', '2019-06-01'],
  ['compute/tagsList', '2019-06-04'],
  ['compute/isHostCompatibilityLayerVm', '2020-06-01'],
  ['compute/securityProfile', '2020-06-01'],
  ['compute/osProfile', '2020-07-15'],
  ['compute/licenseType', '2020-09-01'],
  ['compute/osProfile/disablePasswordAuthentication', '2020-10-01'],
  ['compute/evictionPolicy', '2020-12-01'],
  ['compute/priority', '2020-12-01'],
  ['compute/userData', '2021-01-01'],
  ['compute/storageProfile/resourceDisk', '2021-02-01'],
  ['compute/extendedLocation', '2021-03-01'],
  ['compute/virtualMachineScaleSet', '2021-03-01'],
  ['compute/storageProfile/dataDisks/*/isUltraDisk', '2021-05-01'],
  ['compute/storageProfile/dataDisks/*/bytesPerSecondThrottle', '2021-05-01'],
  ['compute/storageProfile/dataDisks/*/diskCapacityBytes', '2021-05-01'],
  ['compute/storageProfile/dataDisks/*/isSharedDisk', '2021-05-01'],
  ['compute/storageProfile/dataDisks/*/opsPerSecondThrottle', '2021-05-01'],
  ['compute/platformSubFaultDomain', '2021-10-01'],
  ['compute/additionalCapabilities', '2021-11-01'],
  ['compute/securityProfile/encryptionAtHost', '2021-11-01'],
  ['compute/storageProfile/osDisk/encryptionSettings/diskEncryptionKey', '2021-11-01'],
  ['compute/storageProfile/osDisk/encryptionSettings/keyEncryptionKey', '2021-11-01'],
  ['compute/storageProfile/dataDisks/*/encryptionSettings/diskEncryptionKey', '2021-11-01'],
  ['compute/storageProfile/dataDisks/*/encryptionSettings/keyEncryptionKey', '2021-11-01'],
  ['compute/host', '2021-11-15'],
  ['compute/hostGroup', '2021-11-15'],
  ['compute/securityProfile/securityType', '2021-12-13'],
  ['compute/storageProfile/imageReference/communityGalleryImageId', '2023-07-01'],
  ['compute/storageProfile/imageReference/sharedGalleryImageId', '2023-07-01'],
  ['compute/storageProfile/imageReference/exactVersion', '2023-07-01'],
  ['compute/physicalZone', '2023-11-15'],
];

/** azimds serves the preview version 2017-03-01 the fields documented from its successor. */
const OLDEST_SERVED_AS: Readonly<Record<string, string>> = { '2017-03-01': '2017-04-02' };

/** The version that introduced the field at `segments`: its closest listed ancestor's (or its own). */
function introducedIn(segments: readonly string[]): string {
  for (let n = segments.length; n > 0; n--) {
    const entry = INTRODUCED_IN.find(([path]) => {
      const parts = path.split('/');
      return parts.length === n && parts.every((p, i) => p === '*' || p === segments[i]);
    });
    if (entry) return entry[1];
  }
  throw new Error(`no entry covers ${segments.join('/')}`);
}

/** The supported version just before `version`, or undefined for the oldest. */
function versionBefore(version: string): string | undefined {
  const ascending = [...IMDS_API_VERSIONS].reverse();
  return ascending[ascending.indexOf(version as never) - 1];
}

test('supports exactly the api-versions Microsoft publishes, newest first', () => {
  assert.deepEqual([...IMDS_API_VERSIONS], PUBLISHED_VERSIONS);
});

for (const kind of TRANSPORTS) {
  describe(`IMDS api-version rules (${kind})`, () => {
    let imds: Transport;
    before(async () => {
      imds = await openTransport(kind);
    });
    after(() => imds.close());

    test('answers a request without api-version with 400 and the three newest versions, newest first', async () => {
      const res = await imds.get('/metadata/instance');
      assert.equal(res.status, 400);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepEqual(JSON.parse(res.body), API_VERSION_ERROR);
      assert.equal(res.body, JSON.stringify(API_VERSION_ERROR));
    });

    for (const bad of ['2099-01-01', '2017-03-02', '2021-02-01-preview', 'latest', '', '2021-2-1']) {
      test(`answers the unsupported api-version "${bad}" with the same 400`, async () => {
        const res = await imds.get(`/metadata/instance?api-version=${encodeURIComponent(bad)}`);
        assert.equal(res.status, 400);
        assert.deepEqual(JSON.parse(res.body), API_VERSION_ERROR);
      });
    }

    test('requires api-version on filtered paths too', async () => {
      const res = await imds.get('/metadata/instance/compute/vmId?format=text');
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.body), API_VERSION_ERROR);
    });

    test('accepts every supported api-version', async () => {
      for (const version of IMDS_API_VERSIONS) {
        const res = await imds.get(`/metadata/instance?api-version=${version}`);
        assert.equal(res.status, 200, version);
      }
    });

    test('serves /metadata/versions without api-version: every supported version, oldest first', async () => {
      const res = await imds.get('/metadata/versions');
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepEqual(JSON.parse(res.body), { apiVersions: [...PUBLISHED_VERSIONS].reverse() });
    });

    test('serves /metadata/versions the same when an api-version is given anyway', async () => {
      const res = await imds.get('/metadata/versions?api-version=2021-02-01');
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.body), { apiVersions: [...PUBLISHED_VERSIONS].reverse() });
    });

    test('requires the Metadata header on /metadata/versions', async () => {
      const res = await imds.request('GET', '/metadata/versions');
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.body), {
        error: 'Bad request. Required metadata header not specified',
      });
    });

    test('omits userData below 2021-01-01 and serves it from 2021-01-01', async () => {
      const below = await imds.get('/metadata/instance/compute?api-version=2020-12-01');
      assert.equal(Object.hasOwn(JSON.parse(below.body), 'userData'), false);
      const from = await imds.get('/metadata/instance/compute?api-version=2021-01-01');
      assert.equal(typeof JSON.parse(from.body).userData, 'string');
    });

    test('omits securityProfile.securityType below 2021-12-13 but keeps the rest of securityProfile', async () => {
      const below = await imds.get('/metadata/instance/compute/securityProfile?api-version=2021-11-15');
      assert.deepEqual(JSON.parse(below.body), {
        secureBootEnabled: 'true',
        virtualTpmEnabled: 'true',
        encryptionAtHost: 'false',
      });
      const from = await imds.get(
        '/metadata/instance/compute/securityProfile/securityType?api-version=2021-12-13&format=text',
      );
      assert.equal(from.body, 'TrustedLaunch');
    });

    test('omits physicalZone below 2023-11-15 (404 when asked for) and serves it from 2023-11-15', async () => {
      const below = await imds.get(
        '/metadata/instance/compute/physicalZone?api-version=2023-07-01&format=text',
      );
      assert.equal(below.status, 404);
      const from = await imds.get(
        '/metadata/instance/compute/physicalZone?api-version=2023-11-15&format=text',
      );
      assert.equal(from.status, 200);
      assert.equal(from.body, 'westeurope-az1');
    });

    test('serves only the oldest fields at 2017-04-02', async () => {
      const res = await imds.get('/metadata/instance/compute?api-version=2017-04-02');
      assert.deepEqual(Object.keys(JSON.parse(res.body)).sort(), [
        'location',
        'name',
        'offer',
        'osType',
        'platformFaultDomain',
        'platformUpdateDomain',
        'publisher',
        'sku',
        'version',
        'vmId',
        'vmSize',
      ]);
    });
  });
}

describe('fields appear from the api-version that introduced them (inject)', () => {
  let imds: Transport;
  let newest: unknown;
  before(async () => {
    imds = await openTransport('inject');
    newest = JSON.parse((await imds.get(`/metadata/instance?api-version=${IMDS_API_VERSIONS[0]}`)).body);
  });
  after(() => imds.close());

  for (const [field, introduced] of INTRODUCED_IN) {
    const earlier = versionBefore(introduced);
    const absentAt = earlier && OLDEST_SERVED_AS[earlier] !== introduced ? earlier : undefined;
    test(`${field}: served from ${introduced}${absentAt ? `, absent at ${absentAt}` : ''}`, async () => {
      const segments = field.replaceAll('*', '0').split('/');
      const from = await imds.get(instancePath(segments, introduced, 'text'));
      assert.equal(from.status, 200, `${field} at ${introduced}: ${from.body}`);
      if (absentAt) {
        const res = await imds.get(instancePath(segments, absentAt, 'text'));
        assert.equal(res.status, 404, `${field} at ${absentAt} should be absent`);
        assert.deepEqual(JSON.parse(res.body), { error: 'Not found' });
      }
    });
  }

  test('serves the preview version 2017-03-01 the same document as 2017-04-02', async () => {
    const preview = await imds.get('/metadata/instance?api-version=2017-03-01');
    const first = await imds.get('/metadata/instance?api-version=2017-04-02');
    assert.equal(preview.body, first.body);
  });

  test('at every version, a field of the document is served exactly when the version introduced it', async () => {
    for (const version of IMDS_API_VERSIONS) {
      const served = JSON.parse((await imds.get(`/metadata/instance?api-version=${version}`)).body);
      const servedPaths = new Set(leaves(served).map((l) => l.segments.join('/')));
      const effective = OLDEST_SERVED_AS[version] ?? version;
      for (const leaf of leaves(newest)) {
        const path = leaf.segments.join('/');
        const expected = introducedIn(leaf.segments) <= effective;
        assert.equal(
          servedPaths.has(path),
          expected,
          `${path} (from ${introducedIn(leaf.segments)}) at ${version}`,
        );
      }
      // Nothing outside the newest document either.
      for (const path of servedPaths)
        assert.ok(
          leaves(newest).some((l) => l.segments.join('/') === path),
          path,
        );
    }
  });

  test('every primitive in every version is a string, and no object is served empty', async () => {
    for (const version of IMDS_API_VERSIONS) {
      const doc = JSON.parse((await imds.get(`/metadata/instance?api-version=${version}`)).body);
      for (const leaf of leaves(doc)) {
        assert.equal(typeof leaf.value, 'string', `${version}: ${leaf.segments.join('/')}`);
      }
      for (const branch of branches(doc)) {
        if (Array.isArray(branch.value)) continue; // empty arrays are Azure's (ipv6.ipAddress: [])
        assert.notDeepEqual(branch.value, {}, `${version}: ${branch.segments.join('/')} is an empty object`);
      }
    }
  });
});
