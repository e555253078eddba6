/**
 * An emulator for control-API and fault-injection tests, reachable two ways with one shared state:
 * - `inject`: the IMDS and control listeners' fastify apps built from one state, no socket;
 * - `http`: a real emulator (startEmulator) on loopback ports, driven with fetch.
 */
import { rm } from 'node:fs/promises';
import type { EmulatorState } from '../../src/core/state.js';
import {
  createState,
  type EmulatorOptions,
  libraryConfig,
  listenerSpecs,
  startEmulator,
} from '../../src/server/emulator.js';
import { buildListenerApp } from '../../src/server/listener.js';
import { createLogger } from '../../src/server/logger.js';
import { injectRequest, type TransportKind } from './imds.js';

export { METADATA, TRANSPORTS as BOTH } from './imds.js';
export type Transport = TransportKind;

export interface Reply {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON (`undefined` when empty). */
  // biome-ignore lint/suspicious/noExplicitAny: tests read the fields they assert on, of many shapes
  json: any;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as JSON (with `content-type: application/json` unless headers say otherwise). */
  body?: unknown;
  /** Sent as is. */
  rawBody?: string;
}

export type Send = (path: string, options?: SendOptions) => Promise<Reply>;

export interface TestEmulator {
  readonly transport: Transport;
  readonly state: EmulatorState;
  /** Requests to the control API. */
  readonly control: Send;
  /** Requests to IMDS (no `Metadata` header unless given). */
  readonly imds: Send;
  readonly urls: { imds?: string; control?: string };
  close(): Promise<void>;
}

function parse(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function prepare(options: SendOptions): { method: string; headers: Record<string, string>; body?: string } {
  const headers = { ...(options.headers ?? {}) };
  let body = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
  }
  return { method: options.method ?? 'GET', headers, ...(body === undefined ? {} : { body }) };
}

/** Adds the header every control API client sends with a change (as the CLI does; docs/dashboard.md#safety). */
function asControlClient(options: SendOptions): SendOptions {
  return { ...options, headers: { 'x-azimds-control': '1', ...(options.headers ?? {}) } };
}

/** Opens an emulator for `transport`; close it when done. */
export async function openEmulator(
  transport: Transport,
  options: EmulatorOptions = {},
): Promise<TestEmulator> {
  if (transport === 'inject') {
    const config = libraryConfig(options);
    const state = createState(config);
    const log = createLogger('silent');
    const specs = listenerSpecs(state);
    const apps = new Map(
      await Promise.all(
        specs.map(async (spec) => {
          const app = await buildListenerApp(spec, log);
          await app.ready();
          return [spec.name, app] as const;
        }),
      ),
    );
    const sender =
      (name: string): Send =>
      async (path, options = {}) => {
        const app = apps.get(name);
        if (!app) throw new Error(`surface ${name} is not enabled`);
        const { method, headers, body } = prepare(name === 'control' ? asControlClient(options) : options);
        const res = await injectRequest(app, method, path, headers, body);
        return { ...res, json: parse(res.body) };
      };
    return {
      transport,
      state,
      control: sender('control'),
      imds: sender('imds'),
      urls: {},
      close: async () => {
        await Promise.all([...apps.values()].map((a) => a.close()));
        // The library's own data directory (attestation CA, ...) when the test gave none.
        if (options.dataDir === undefined) await rm(config.dataDir, { recursive: true, force: true });
      },
    };
  }
  const emulator = await startEmulator(options);
  const sender =
    (base: string | undefined): Send =>
    async (path, options = {}) => {
      if (!base) throw new Error('surface not enabled');
      const { method, headers, body } = prepare(
        base === emulator.urls.control ? asControlClient(options) : options,
      );
      const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
      const text = await res.text();
      return { status: res.status, headers: Object.fromEntries(res.headers), body: text, json: parse(text) };
    };
  return {
    transport,
    state: emulator.state,
    control: sender(emulator.urls.control),
    imds: sender(emulator.urls.imds),
    urls: emulator.urls,
    close: () => emulator.close(),
  };
}
