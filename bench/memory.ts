/**
 * Memory of the azimds process (issue 16): resident set size idle, after 100,000 requests, and after
 * 100,000 requests logged at the largest size a request can have (a URL filling Node's 16 KiB header
 * limit, each one different, so nothing is shared between entries), with the request log's own bytes.
 */
import { connect } from 'node:net';
import { ServerProcess } from './harness.js';

export interface MemoryFigures {
  /** Bytes. */
  idleRss: number;
  afterRequestsRss: number;
  afterLargeRss: number;
  /** The request log after the large requests: its byte count and entries kept. */
  logBytes: number;
  logEntries: number;
  /** The URL length of a large request. */
  largeUrlLength: number;
  requests: number;
}

interface MemoryReply {
  rss: number;
  heapUsed: number;
  logBytes: number;
  logEntries: number;
}

/**
 * Sends `total` GETs over `connections` keep-alive connections (closed loop), the path of request `i`
 * being `path(i)`; resolves when every response has been read.
 */
function send(port: number, total: number, connections: number, path: (i: number) => string): Promise<void> {
  let issued = 0;
  let open = connections;
  return new Promise((resolve, reject) => {
    for (let c = 0; c < connections; c++) {
      const socket = connect(port, '127.0.0.1');
      let pending = '';
      const next = () => {
        if (issued >= total) {
          socket.end();
          return;
        }
        const i = issued++;
        socket.write(`GET ${path(i)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nMetadata: true\r\n\r\n`);
      };
      socket.setEncoding('latin1');
      socket.on('connect', next);
      socket.on('data', (chunk: string) => {
        pending += chunk;
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(pending.slice(0, end))?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        pending = pending.slice(end + 4 + length);
        next();
      });
      socket.on('error', reject);
      socket.on('close', () => {
        if (--open === 0) resolve();
      });
    }
  });
}

/** Runs the three measurements on a fresh azimds child (default options: request log on, 1000 entries). */
export async function measureMemory(requests = 100_000): Promise<MemoryFigures> {
  const azimds = await ServerProcess.start('./servers/azimds.ts', ['{}']);
  try {
    const port = Number(new URL((azimds.ready.urls as Record<string, string>).imds ?? '').port);
    const memory = async () => (await azimds.ask('memory', 'memory')) as unknown as MemoryReply;
    await new Promise((r) => setTimeout(r, 500));
    const idle = await memory();
    await send(port, requests, 32, () => '/metadata/instance?api-version=2025-04-07');
    const afterRequests = await memory();
    // The request head must stay under Node's 16 KiB limit: the URL takes nearly all of it.
    const base = '/metadata/instance?api-version=2025-04-07&x=';
    const largeUrlLength = 16_384 - 200;
    const filler = 'a'.repeat(largeUrlLength - base.length - 8);
    await send(port, requests, 32, (i) => `${base}${filler}${String(i).padStart(8, '0')}`);
    const afterLarge = await memory();
    return {
      idleRss: idle.rss,
      afterRequestsRss: afterRequests.rss,
      afterLargeRss: afterLarge.rss,
      logBytes: afterLarge.logBytes,
      logEntries: afterLarge.logEntries,
      largeUrlLength,
      requests,
    };
  } finally {
    await azimds.stop();
  }
}
