/**
 * The IMDS transports of ./imds.ts (inject and real HTTP) with a request shape for protocol tests that
 * send bodies and vary headers: `Metadata: true` unless `metadata: false`, and the body parsed as JSON.
 */
import type { EmulatorOptions } from '../../src/server/emulator.js';
import { METADATA, openTransport, type Transport, type TransportKind, type WireResponse } from './imds.js';

export { TRANSPORTS as BOTH } from './imds.js';

export interface RequestOptions {
  method?: string;
  /** Headers sent besides `Metadata: true`. */
  headers?: Record<string, string>;
  /** `false`: leave out the Metadata header. */
  metadata?: boolean;
  body?: string;
}

/** A parsed JSON body; `any` because tests read the fields they assert on, of many shapes. */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type JsonBody = any;

export interface ImdsClient {
  readonly transport: TransportKind;
  readonly state: Transport['state'];
  request(path: string, options?: RequestOptions): Promise<WireResponse>;
  /** `request` and JSON.parse of the body (`undefined` when empty). */
  json(path: string, options?: RequestOptions): Promise<Omit<WireResponse, 'body'> & { body: JsonBody }>;
  close(): Promise<void>;
}

/** Opens an emulator reachable over `transport`; close it when done. */
export async function openImds(transport: TransportKind, options: EmulatorOptions = {}): Promise<ImdsClient> {
  const t = await openTransport(transport, options);
  const request = (path: string, o: RequestOptions = {}) =>
    t.request(o.method ?? 'GET', path, { ...(o.metadata === false ? {} : METADATA), ...o.headers }, o.body);
  return {
    transport,
    state: t.state,
    request,
    json: async (path, o) => {
      const r = await request(path, o);
      return { ...r, body: r.body === '' ? undefined : JSON.parse(r.body) };
    },
    close: () => t.close(),
  };
}
