/**
 * An IMDS client for protocol tests that send bodies (POST) and arbitrary headers, over either
 * fastify's inject() (no socket) or a real emulator on a loopback port (fetch).
 */
import type { EmulatorState } from '../../src/core/state.js';
import { buildSurface, type EmulatorOptions, startEmulator } from '../../src/server/emulator.js';

export type Transport = 'inject' | 'http';
export const BOTH: readonly Transport[] = ['inject', 'http'];

export interface Reply {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
}

export interface RequestOptions {
  method?: string;
  /** Exactly the headers sent; `Metadata: true` is added unless `metadata: false`. */
  headers?: Record<string, string>;
  metadata?: boolean;
  body?: string;
}

/** A parsed JSON body; `any` because tests read the fields they assert on, of many shapes. */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type JsonBody = any;

export interface ImdsClient {
  readonly transport: Transport;
  readonly state: EmulatorState;
  request(path: string, options?: RequestOptions): Promise<Reply>;
  /** `request` and JSON.parse of the body. */
  json(
    path: string,
    options?: RequestOptions,
  ): Promise<{ status: number; headers: Record<string, string>; body: JsonBody }>;
  close(): Promise<void>;
}

/** Opens an emulator reachable over `transport`; close it when done. */
export async function openImds(transport: Transport, options: EmulatorOptions = {}): Promise<ImdsClient> {
  let send: (method: string, path: string, headers: Record<string, string>, body?: string) => Promise<Reply>;
  let state: EmulatorState;
  let close: () => Promise<void>;
  if (transport === 'inject') {
    const app = await buildSurface('imds', options);
    state = app.state;
    close = () => app.close();
    send = async (method, path, headers, body) => {
      const res = await app.inject({
        method: method as 'GET',
        url: path,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = String(v);
      return { status: res.statusCode, headers: out, body: res.body };
    };
  } else {
    const emulator = await startEmulator(options);
    state = emulator.state;
    close = () => emulator.close();
    send = async (method, path, headers, body) => {
      const res = await fetch(`${emulator.urls.imds}${path}`, { method, headers, body: body ?? null });
      return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
    };
  }
  const request = (path: string, o: RequestOptions = {}) =>
    send(
      o.method ?? 'GET',
      path,
      { ...(o.metadata === false ? {} : { Metadata: 'true' }), ...o.headers },
      o.body,
    );
  return {
    transport,
    state,
    request,
    json: async (path, o) => {
      const r = await request(path, o);
      return { ...r, body: r.body === '' ? undefined : JSON.parse(r.body) };
    },
    close,
  };
}
