/**
 * The fuzzer: sends seeded random requests (requests.ts) as raw bytes to every surface (surfaces.ts)
 * of a running emulator over real sockets, a few at a time, and counts what came back: answers by
 * status, 5xx, error answers not in the surface's shape, hangs (neither an answer nor a close within
 * `hangMs`) and connections closed without an answer where the request was well framed.
 */
import net from 'node:net';
import tls from 'node:tls';
import { type FuzzRequest, prng, randomRequest } from './requests.js';
import type { FuzzResponse, Surface } from './surfaces.js';

/** Where a surface listens. */
export interface Target {
  readonly surface: Surface;
  readonly host: string;
  readonly port: number;
}

export interface FuzzOptions {
  targets: readonly Target[];
  seed: number;
  /** Requests in all (spread evenly over the targets). */
  requests: number;
  /** Stop early after this long (the counts cover what was sent). */
  maxSeconds: number;
  /** Connections in flight at once. */
  concurrency: number;
  /** A request neither answered nor closed within this is a hang (above the server's 15 s request timeout). */
  hangMs: number;
  secrets: Readonly<Record<string, string>>;
  /** Called every `sampleEvery` requests (RSS sampling, progress). */
  onProgress?: (done: number) => void;
  sampleEvery?: number;
  /** Whether the emulator is still alive (a child process); checked at the end and on each failure. */
  alive?: () => boolean;
}

export interface Finding {
  readonly kind: 'hang' | '5xx' | 'wrong-shape' | 'closed-unanswered';
  readonly surface: string;
  readonly request: string;
  readonly detail: string;
}

export interface FuzzReport {
  sent: number;
  seconds: number;
  statuses: Record<string, number>;
  hangs: number;
  serverErrors: number;
  wrongShape: number;
  closedUnanswered: number;
  /** Closed without an answer where that is acceptable (framing the server could not finish reading). */
  closedOnBadFraming: number;
  crashed: boolean;
  /** The first few findings of each kind, for diagnosis. */
  findings: Finding[];
}

/** Parses the first HTTP response in `data`; undefined while incomplete (unless `final`: the socket closed). */
export function parseResponse(data: Buffer, final: boolean, head: boolean): FuzzResponse | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number((lines[0] ?? '').split(' ')[1]);
  if (!Number.isInteger(status)) return undefined;
  // 1xx interim responses (100 Continue) precede the real one.
  if (status >= 100 && status < 200) {
    const rest = parseResponse(data.subarray(end + 4), final, head);
    return rest;
  }
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const body = data.subarray(end + 4);
  if (head || status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) };
  const length = headers['content-length'];
  if (length !== undefined) {
    const n = Number(length);
    if (body.length >= n) return { status, headers, body: body.subarray(0, n) };
    return final ? { status, headers, body } : undefined;
  }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const decoded = dechunk(body);
    return decoded ? { status, headers, body: decoded } : final ? { status, headers, body } : undefined;
  }
  return final ? { status, headers, body } : undefined;
}

function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = Number.parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    if (data.length < eol + 2 + size + 2) return undefined;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

type Outcome = { kind: 'answered'; response: FuzzResponse } | { kind: 'closed' } | { kind: 'hang' };

/** Sends one request's bytes on a new connection and waits for the answer, a close, or `hangMs`. */
export function exchange(
  target: Target,
  request: FuzzRequest,
  hangMs: number,
  head: boolean,
): Promise<Outcome> {
  return new Promise((resolve) => {
    let data = Buffer.alloc(0);
    let settled = false;
    const socket: net.Socket = target.surface.tls
      ? tls.connect({
          host: target.host,
          port: target.port,
          rejectUnauthorized: false,
          servername: 'localhost',
        })
      : net.connect(target.port, target.host);
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: 'hang' }), hangMs);
    socket.once(target.surface.tls ? 'secureConnect' : 'connect', () => {
      socket.write(request.bytes, () => {
        if (request.endAfterSend) socket.end();
      });
    });
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const response = parseResponse(data, false, head);
      if (response) finish({ kind: 'answered', response });
    });
    const closed = () => {
      const response = parseResponse(data, true, head);
      finish(response ? { kind: 'answered', response } : { kind: 'closed' });
    };
    socket.on('end', closed);
    socket.on('close', closed);
    socket.on('error', () => {
      // ECONNRESET after the server answered and closed, or refused: decided by what was read.
    });
  });
}

/** Runs the fuzzer; resolves with the counts. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const report: FuzzReport = {
    sent: 0,
    seconds: 0,
    statuses: {},
    hangs: 0,
    serverErrors: 0,
    wrongShape: 0,
    closedUnanswered: 0,
    closedOnBadFraming: 0,
    crashed: false,
    findings: [],
  };
  const started = Date.now();
  const deadline = started + options.maxSeconds * 1000;
  const randoms = options.targets.map((_, i) => prng(options.seed * 1000 + i));
  const kept = new Map<string, number>();
  const note = (finding: Finding) => {
    const key = `${finding.kind}|${finding.surface}`;
    const n = kept.get(key) ?? 0;
    if (n < 5) report.findings.push(finding);
    kept.set(key, n + 1);
  };
  let next = 0;
  const worker = async () => {
    for (;;) {
      if (Date.now() > deadline) return;
      const i = next++;
      if (i >= options.requests) return;
      const t = i % options.targets.length;
      const target = options.targets[t] as Target;
      const request = randomRequest(
        randoms[t] as () => number,
        target.surface,
        `127.0.0.1:${target.port}`,
        options.secrets,
      );
      const head = request.label.includes(' HEAD ');
      const outcome = await exchange(target, request, options.hangMs, head);
      report.sent++;
      if (options.onProgress && report.sent % (options.sampleEvery ?? 1000) === 0)
        options.onProgress(report.sent);
      const base = { surface: target.surface.name, request: request.label };
      if (outcome.kind === 'hang') {
        report.hangs++;
        note({ ...base, kind: 'hang', detail: `no answer nor close within ${options.hangMs} ms` });
      } else if (outcome.kind === 'closed') {
        if (request.mayCloseUnanswered || request.endAfterSend) report.closedOnBadFraming++;
        else {
          report.closedUnanswered++;
          note({ ...base, kind: 'closed-unanswered', detail: 'closed without an answer' });
        }
      } else {
        const { status } = outcome.response;
        report.statuses[status] = (report.statuses[status] ?? 0) + 1;
        if (status >= 500) {
          report.serverErrors++;
          note({
            ...base,
            kind: '5xx',
            detail: `${status} ${outcome.response.body.toString('utf8').slice(0, 200)}`,
          });
        } else if (status >= 400 && !head) {
          const wrong = target.surface.errorShape(outcome.response);
          if (wrong) {
            report.wrongShape++;
            note({
              ...base,
              kind: 'wrong-shape',
              detail: `${status} ${wrong}: ${outcome.response.headers['content-type'] ?? ''} ${outcome.response.body.toString('utf8').slice(0, 200)}`,
            });
          }
        }
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  report.seconds = (Date.now() - started) / 1000;
  report.crashed = options.alive ? !options.alive() : false;
  return report;
}
