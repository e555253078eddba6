/**
 * Golden files pin the instance document of the zero-config VM for every api-version IMDS accepts.
 * A change to what clients receive shows up as a reviewed diff of test/golden/instance/*.json;
 * regenerate them with `npm run golden:update` after an intended change.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { IMDS_API_VERSIONS } from '../../src/core/machines/api-versions.js';
import { goldenText } from '../golden/update.js';
import { openTransport, TRANSPORTS, type Transport } from '../support/imds.js';

const goldenDir = new URL('../golden/instance/', import.meta.url);

function golden(version: string): string {
  return readFileSync(new URL(`${version}.json`, goldenDir), 'utf8');
}

test('there is exactly one golden file per supported api-version', () => {
  const files = readdirSync(goldenDir).filter((f) => f.endsWith('.json'));
  assert.deepEqual(files.sort(), IMDS_API_VERSIONS.map((v) => `${v}.json`).sort());
});

for (const kind of TRANSPORTS) {
  describe(`golden instance documents (${kind})`, () => {
    let imds: Transport;
    before(async () => {
      imds = await openTransport(kind);
    });
    after(() => imds.close());

    for (const version of IMDS_API_VERSIONS) {
      test(`serves the pinned document for api-version ${version}, keys in the same order`, async () => {
        const res = await imds.get(`/metadata/instance?api-version=${version}`);
        assert.equal(res.status, 200);
        const expected = golden(version);
        // Same values and same key order: the pretty-printed forms are identical text.
        assert.equal(
          goldenText(res.body),
          expected,
          `run npm run golden:update if ${version} changed on purpose`,
        );
        // And the wire bytes are the compact serialization of the golden document (no whitespace).
        assert.equal(res.body, JSON.stringify(JSON.parse(expected)));
      });
    }
  });
}
