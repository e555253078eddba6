/**
 * Bench child: how long `startEmulator()` takes until its first request is answered, in a fresh
 * process (what the first test of a suite sees) and then repeatedly in the same process. The HTTP
 * client is warmed against a throwaway server first, so only azimds's own start-up is timed.
 * Sends `{ type: 'startup', importMs, coldMs, warmMs: number[] }` over IPC and exits.
 *
 * argv[2]: request path; argv[3]: how many warm repetitions.
 */
import { createServer, get } from 'node:http';
import type * as Azimds from '../../src/index.js';

const path = process.argv[2] ?? '/metadata/instance?api-version=2025-04-07';
const repeats = Number(process.argv[3] ?? '20');

/** GET with `Metadata: true` on a fresh connection; resolves with the status once the body is read. */
function request(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { Metadata: 'true' }, agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    }).on('error', reject);
  });
}

const warmup = createServer((_req, res) => res.end('ok'));
await new Promise<void>((resolve) => warmup.listen(0, '127.0.0.1', resolve));
const address = warmup.address();
for (let i = 0; i < 3; i++)
  await request(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`);
await new Promise((resolve) => warmup.close(resolve));

const t = performance.now();
const lib = (await import(new URL('../../dist/index.js', import.meta.url).href)) as typeof Azimds;
const importMs = performance.now() - t;

async function once(): Promise<number> {
  const start = performance.now();
  const azimds = await lib.startEmulator();
  const status = await request(`${azimds.urls.imds}${path}`);
  const elapsed = performance.now() - start;
  await azimds.close();
  if (status !== 200) throw new Error(`first request answered ${status}`);
  return elapsed;
}

const coldMs = await once();
const warmMs: number[] = [];
for (let i = 0; i < repeats; i++) warmMs.push(await once());
process.send?.({ type: 'startup', importMs, coldMs, warmMs }, () => process.exit(0));
