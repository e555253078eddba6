/** Helpers for ARM tests: tokens of the world's identities and calls through inject(). */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { EmulatorState } from '../../src/core/state.js';
import { buildSurface, type EmulatorOptions } from '../../src/server/emulator.js';

export const ARM_RESOURCE = 'https://management.azure.com/';

export type ArmApp = FastifyInstance & { state: EmulatorState };

/** The ARM surface of an emulator built from `options`, for inject(). */
export function armApp(options: EmulatorOptions = {}): Promise<ArmApp> {
  return buildSurface('arm', options) as Promise<ArmApp>;
}

/** A token azimds issues to the identity named `name` (the VM's name: its system-assigned identity). */
export async function tokenFor(state: EmulatorState, name: string, resource = ARM_RESOURCE): Promise<string> {
  const identity = state.identities.all().find((i) => i.name === name);
  assert.ok(identity, `no identity ${name}`);
  await state.tokens.keys.ready();
  const result = await state.tokens.local.mint({ identity, resource });
  assert.ok(result.ok);
  return result.token.accessToken;
}

export interface ArmResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field in assertions
  body: any;
}

/** `method url` with `Authorization: Bearer token` (none when token is undefined) and a JSON body. */
export async function armCall(
  app: ArmApp,
  method: string,
  url: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ArmResponse> {
  const res = await app.inject({
    method: method as 'GET',
    url,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  let parsed: unknown;
  try {
    parsed = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    parsed = res.body;
  }
  return { status: res.statusCode, headers: res.headers, body: parsed };
}
