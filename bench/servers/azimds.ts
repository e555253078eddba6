/**
 * Bench child: azimds from the built package (dist/), as users run it. Started by the harness with
 * `fork()` and no loader, so nothing but dist/ and Node itself runs in this process. Protocol (IPC):
 * → `{ type: 'ready', urls, startMs }`; ← `'cpu'` → `{ type: 'cpu', usage }`; ← `'memory'` →
 * `{ type: 'memory', rss, heapUsed, logBytes, logEntries }` (bytes); ← `{ type: 'tls', host }` →
 * `{ type: 'tls', key, cert, ca }`: the key and chain (PEM) its https listeners serve to `host`, the
 * local CA's leaf then the CA (src/core/tls/local-ca.ts), for the bare https server and the clients;
 * ← `'close'` → exits.
 *
 * argv[2]: startEmulator options as JSON (the scenario's `options`).
 */
import type * as Azimds from '../../src/index.js';

// Imported by URL so type-checking never needs dist/ (it does not exist before the first build).
const lib = (await import(new URL('../../dist/index.js', import.meta.url).href)) as typeof Azimds;
const started = performance.now();
const handle = await lib.startEmulator(JSON.parse(process.argv[2] ?? '{}'));
/** How long `startEmulator()` took, ms (issue 13's start figure). */
const startMs = performance.now() - started;

process.on('message', (message: string | { type: string; host: string }) => {
  if (typeof message === 'object' && message.type === 'tls') {
    const ca = handle.state.localCa;
    const leaf = ca.leaf(message.host);
    process.send?.({
      type: 'tls',
      key: leaf.keyPem,
      cert: `${leaf.certPem}${ca.certPem()}`,
      ca: ca.certPem(),
    });
  }
  if (message === 'cpu') process.send?.({ type: 'cpu', usage: process.cpuUsage() });
  if (message === 'memory') {
    const { rss, heapUsed } = process.memoryUsage();
    const logEntries = handle.requestLog.entries().entries.length;
    process.send?.({ type: 'memory', rss, heapUsed, logBytes: handle.requestLog.bytes, logEntries });
  }
  if (message === 'close') void handle.close().then(() => process.exit(0));
});
process.send?.({ type: 'ready', urls: handle.urls, startMs });
