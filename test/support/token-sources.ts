/**
 * Test support for token-source tests: an emulator whose log is captured (every line, at trace level,
 * so a test can assert no secret ever reaches it), and IMDS token requests as a client sends them.
 */
import { Writable } from 'node:stream';
import type { ManagedIdentity } from '../../src/core/identities/identity.js';
import { type EmulatorHandle, type EmulatorOptions, startEmulator } from '../../src/server/emulator.js';
import { createLogger } from '../../src/server/logger.js';

export interface TokenReply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the fields they assert on
  json: any;
  body: string;
}

export interface SourcesEmulator {
  readonly emulator: EmulatorHandle;
  /** Every log line so far (JSON). */
  readonly log: string[];
  /** `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=…` with `Metadata: true`. */
  token(resource: string, params?: Record<string, string>): Promise<TokenReply>;
  /** The request log as the control API serves it (`GET /logs`), as text. */
  requestLog(): Promise<string>;
  close(): Promise<void>;
}

/** A log stream that keeps every line. */
export function captureLog(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  return { lines, stream };
}

export async function startWithSources(options: EmulatorOptions): Promise<SourcesEmulator> {
  const { lines, stream } = captureLog();
  const emulator = await startEmulator({ ...options, logger: createLogger('trace', stream) });
  const imds = emulator.urls.imds as string;
  return {
    emulator,
    log: lines,
    async token(resource, params = {}) {
      const query = new URLSearchParams({ 'api-version': '2018-02-01', resource, ...params });
      const res = await fetch(`${imds}/metadata/identity/oauth2/token?${query}`, {
        headers: { Metadata: 'true' },
      });
      const body = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, body };
    },
    async requestLog() {
      const res = await fetch(`${emulator.urls.control}/logs`);
      return res.text();
    },
    close: () => emulator.close(),
  };
}

/** Runs `fn` against an emulator started with `options` (startWithSources), closed afterwards whatever happens. */
export async function withSources(
  options: EmulatorOptions,
  fn: (azimds: SourcesEmulator) => Promise<void>,
): Promise<void> {
  const azimds = await startWithSources(options);
  try {
    await fn(azimds);
  } finally {
    await azimds.close();
  }
}

/** The claims of a JWT (not verified). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** A user-assigned identity with fixed ids, for unit tests of the issuer, the token cache and the sources. */
export const TEST_IDENTITY: ManagedIdentity = {
  kind: 'user-assigned',
  name: 'id-app',
  clientId: '0d1c6c2e-3c5c-4f5e-9a44-5b1f3c7e2a10',
  principalId: '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d',
  resourceId:
    '/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app',
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
};
