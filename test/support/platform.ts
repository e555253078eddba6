/**
 * Protocol tests of the managed-identity platforms (Arc, App Service, Service Fabric, ...): the same
 * request sent over inject() on the platform's surface (no socket) or over a real listener (HTTP, or
 * HTTPS trusting the emulator's certificate for Service Fabric).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { after, before } from 'node:test';
import type { PlatformId } from '../../src/core/platforms/catalog.js';
import type { EmulatorState } from '../../src/core/state.js';
import {
  buildSurface,
  type EmulatorHandle,
  type EmulatorOptions,
  startEmulator,
} from '../../src/server/emulator.js';
import { injectRequest, type Transport, type TransportKind, type WireResponse } from './imds.js';

export { TRANSPORTS, type TransportKind, type WireResponse } from './imds.js';

/** An IMDS transport's `kind`, `state`, `request` (exactly these headers and body) and `close`, on a platform's surface. */
export interface PlatformTransport extends Pick<Transport, 'kind' | 'state' | 'request' | 'close'> {
  /** The running emulator (http only). */
  readonly handle: EmulatorHandle | undefined;
  /** `request` and JSON.parse of the body. */
  json(
    ...args: Parameters<Transport['request']>
    // biome-ignore lint/suspicious/noExplicitAny: tests read the fields they assert on, of many shapes
  ): Promise<WireResponse & { json: any }>;
}

/** Opens an emulator with `options` and reaches `platform`'s surface through `kind`. */
export async function openPlatform(
  kind: TransportKind,
  platform: PlatformId,
  options: EmulatorOptions,
): Promise<PlatformTransport> {
  let send: PlatformTransport['request'];
  let state: EmulatorState;
  let close: () => Promise<void>;
  let handle: EmulatorHandle | undefined;
  if (kind === 'inject') {
    const app = await buildSurface(platform, options);
    state = app.state;
    close = () => app.close();
    send = (method, path, headers, body) => injectRequest(app, method, path, headers, body);
  } else {
    handle = await startEmulator(options);
    state = handle.state;
    const base = handle.urls[platform];
    if (!base) throw new Error(`${platform} is not enabled by these options`);
    const ca = platform === 'serviceFabric' ? state.platforms.certificate().certPem : undefined;
    const running = handle;
    close = () => running.close();
    send = (method, path, headers = {}, body) => wire(`${base}${path}`, { method, headers, body, ca });
  }
  const request = send;
  return {
    kind,
    state,
    handle,
    request,
    json: async (method, path, headers, body) => {
      const res = await request(method, path, headers, body);
      return { ...res, json: JSON.parse(res.body) };
    },
    close,
  };
}

/**
 * `openPlatform` for a describe block: opened in the block's `before` hook and closed in its `after`
 * hook. The returned transport is usable in the block's tests.
 */
export function platformSuite(
  kind: TransportKind,
  platform: PlatformId,
  options: EmulatorOptions,
): Omit<PlatformTransport, 'close'> {
  let open: PlatformTransport | undefined;
  before(async () => {
    open = await openPlatform(kind, platform, options);
  });
  after(() => open?.close());
  const current = (): PlatformTransport => {
    if (!open) throw new Error('platformSuite: used before its before() hook ran');
    return open;
  };
  return {
    kind,
    get state() {
      return current().state;
    },
    get handle() {
      return current().handle;
    },
    request: (...args) => current().request(...args),
    json: (...args) => current().json(...args),
  };
}

/** One request with node:http(s): `ca` trusts a certificate, `checkServerIdentity` pins one. */
export function wire(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | undefined;
    ca?: string | undefined;
    checkServerIdentity?: (host: string, cert: { fingerprint: string }) => Error | undefined;
  } = {},
): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const https = target.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(
      target,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        ...(https
          ? {
              ...(options.ca ? { ca: options.ca } : {}),
              ...(options.checkServerIdentity ? { checkServerIdentity: options.checkServerIdentity } : {}),
              agent: false,
            }
          : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = String(v);
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
