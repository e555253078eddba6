/**
 * Test support for IMDS protocol tests: the same request, sent two ways.
 *
 * - `inject`: fastify's inject() on the IMDS surface (buildSurface), no socket;
 * - `http`: a real emulator (startEmulator) on a loopback port, driven with fetch.
 *
 * A protocol test runs its cases on both, so the wire behaviour is pinned with and without a socket.
 */
import type { FastifyInstance } from 'fastify';
import type { EmulatorState } from '../../src/core/state.js';
import { buildSurface, type EmulatorOptions, startEmulator } from '../../src/server/emulator.js';

export type TransportKind = 'inject' | 'http';
export const TRANSPORTS: readonly TransportKind[] = ['inject', 'http'];

/** What a client sees: status, headers (lower-case names) and the body as text. */
export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Transport {
  readonly kind: TransportKind;
  /** The emulator's live state (VM, clock). */
  readonly state: EmulatorState;
  /** Sends `method path` with exactly `headers` (no Metadata header unless given) and `body`, if any. */
  request(
    method: string,
    path: string,
    headers?: Record<string, string>,
    body?: string,
  ): Promise<WireResponse>;
  /** GET with `Metadata: true`, as every well-behaved IMDS client sends it. */
  get(path: string): Promise<WireResponse>;
  close(): Promise<void>;
}

/** The header every IMDS client must send. */
export const METADATA = { Metadata: 'true' } as const;

/**
 * The fields of an IMDS token response (and of Arc's HIMDS, which answers in the same shape), in the
 * order IMDS sends them (protocols.md).
 */
export const IMDS_TOKEN_FIELDS = [
  'access_token',
  'client_id',
  'expires_in',
  'expires_on',
  'ext_expires_in',
  'not_before',
  'refresh_token',
  'resource',
  'token_type',
] as const;

/** Sends a request through fastify's inject() (no socket) and returns what a client would see. */
export async function injectRequest(
  app: Pick<FastifyInstance, 'inject'>,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<WireResponse> {
  const res = await app.inject({
    method: method as 'GET',
    url: path,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = String(v);
  return { status: res.statusCode, headers: out, body: res.body };
}

/** Opens an emulator reachable through `kind`. */
export async function openTransport(kind: TransportKind, options: EmulatorOptions = {}): Promise<Transport> {
  let state: EmulatorState;
  let request: Transport['request'];
  let close: () => Promise<void>;
  if (kind === 'inject') {
    const app = await buildSurface('imds', options);
    state = app.state;
    request = (method, path, headers, body) => injectRequest(app, method, path, headers, body);
    close = () => app.close();
  } else {
    const emulator = await startEmulator(options);
    const base = emulator.urls.imds;
    if (!base) throw new Error('IMDS is not enabled by these options');
    state = emulator.state;
    request = async (method, path, headers = {}, body) => {
      const res = await fetch(`${base}${path}`, { method, headers, body: body ?? null, redirect: 'manual' });
      return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
    };
    close = () => emulator.close();
  }
  return { kind, state, request, get: (path) => request('GET', path, METADATA), close };
}

/** A leaf of the instance document: its route-filter path segments and its value. */
export interface Leaf {
  segments: string[];
  value: unknown;
}

/** Every leaf (primitive) of a JSON document, with the path IMDS route filtering uses to reach it. */
export function leaves(node: unknown, segments: string[] = []): Leaf[] {
  if (node === null || typeof node !== 'object') return [{ segments, value: node }];
  const entries = Array.isArray(node) ? node.map((v, i) => [String(i), v] as const) : Object.entries(node);
  return entries.flatMap(([k, v]) => leaves(v, [...segments, k]));
}

/** Every object or array inside a JSON document (the root included), with its path. */
export function branches(node: unknown, segments: string[] = []): Leaf[] {
  if (node === null || typeof node !== 'object') return [];
  const entries = Array.isArray(node) ? node.map((v, i) => [String(i), v] as const) : Object.entries(node);
  return [{ segments, value: node }, ...entries.flatMap(([k, v]) => branches(v, [...segments, k]))];
}

/** `/metadata/instance/a/b?api-version=V[&format=F]`. */
export function instancePath(segments: readonly string[], version: string, format?: string): string {
  const path = ['/metadata/instance', ...segments.map(encodeURIComponent)].join('/');
  return `${path}?api-version=${version}${format === undefined ? '' : `&format=${format}`}`;
}
