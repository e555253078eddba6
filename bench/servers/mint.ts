/**
 * Bench child: the cost of minting a managed-identity token, in a fresh process, with azimds from
 * dist/. After the emulator started and its signing key is ready, it times (on one keep-alive
 * connection, after three instance-metadata requests):
 * - the process's very first token request (cold code paths, an uncached (identity, resource));
 * - `repeats` more first mints (each for a resource not asked before), and the same number of
 *   cached answers, for comparison;
 * - `repeats` bare `LocalIssuer` mints in-process (the core cost: claims + one RS256 signature).
 * Sends `{ type: 'mint', coldMs, mintMs: number[], cachedMs: number[], coreMs: number[] }` and exits.
 *
 * argv[2]: how many repetitions.
 */
import { Agent, get } from 'node:http';
import type * as Azimds from '../../src/index.js';

const repeats = Number(process.argv[2] ?? '200');
const lib = (await import(new URL('../../dist/index.js', import.meta.url).href)) as typeof Azimds;
const handle = await lib.startEmulator();
await handle.state.tokens.keys.ready();
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function timed(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    get(`${handle.urls.imds}${path}`, { headers: { Metadata: 'true' }, agent }, (response) => {
      response.resume();
      response.on('end', () => {
        const ms = performance.now() - start;
        if (response.statusCode === 200) resolve(ms);
        else reject(new Error(`${path} answered ${response.statusCode}`));
      });
    }).on('error', reject);
  });
}

const token = (resource: string) =>
  `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`;

// The process has served IMDS before (fastify, the query parser and the connection are warm): what is
// left cold is the token path itself. The very first request of a process, whatever it asks, is the
// start-up figure ("startEmulator() → first answer").
for (let i = 0; i < 3; i++) await timed('/metadata/instance?api-version=2021-02-01');
const coldMs = await timed(token('https://management.azure.com/'));
const mintMs: number[] = [];
const cachedMs: number[] = [];
for (let i = 0; i < repeats; i++) mintMs.push(await timed(token(`api://bench-${i}`)));
for (let i = 0; i < repeats; i++) cachedMs.push(await timed(token(`api://bench-${i}`)));

const identity = handle.state.identities.all()[0];
const coreMs: number[] = [];
for (let i = 0; identity && i < repeats; i++) {
  const start = performance.now();
  await handle.state.tokens.local.mint({ identity, resource: `api://core-${i}` });
  coreMs.push(performance.now() - start);
}

agent.destroy();
await handle.close();
process.send?.({ type: 'mint', coldMs, mintMs, cachedMs, coreMs }, () => process.exit(0));
