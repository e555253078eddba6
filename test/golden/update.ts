/**
 * Rewrites the golden files that pin the instance document IMDS serves for each api-version:
 * `test/golden/instance/<api-version>.json`, one per version IMDS accepts, for the zero-config VM
 * (its ids are stable: generated from fixed seeds). Run `npm run golden:update` after an intended
 * change to the document, then review the diff of the golden files: it is the change clients see.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { IMDS_API_VERSIONS } from '../../src/core/machines/api-versions.js';
import { buildSurface } from '../../src/server/emulator.js';

const dir = new URL('./instance/', import.meta.url);

/** A golden file: the served JSON, pretty-printed with its key order kept, and a final newline. */
export function goldenText(servedBody: string): string {
  return `${JSON.stringify(JSON.parse(servedBody), null, 2)}\n`;
}

async function main(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const app = await buildSurface('imds');
  try {
    const keep = new Set<string>();
    for (const version of IMDS_API_VERSIONS) {
      const res = await app.inject({
        url: `/metadata/instance?api-version=${version}`,
        headers: { Metadata: 'true' },
      });
      if (res.statusCode !== 200)
        throw new Error(`api-version ${version}: HTTP ${res.statusCode} ${res.body}`);
      writeFileSync(new URL(`${version}.json`, dir), goldenText(res.body));
      keep.add(`${version}.json`);
    }
    // A version dropped from the supported list loses its golden file.
    for (const file of readdirSync(dir)) if (!keep.has(file)) rmSync(new URL(file, dir));
    process.stdout.write(`wrote ${keep.size} golden files to test/golden/instance/\n`);
  } finally {
    await app.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
