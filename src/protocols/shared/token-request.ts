import type { FastifyRequest } from 'fastify';
import type { IdentitySelector, ManagedIdentity } from '../../core/identities/identity.js';
import type { EmulatorState } from '../../core/state.js';
import type { AccessToken, TokenResult } from '../../core/tokens/provider.js';
import { setRequestIdentity } from '../../server/request-log.js';

/** Request parameters (query or form), as fastify's query parser gives them: repeated names are arrays. */
export type Params = Record<string, string | string[] | undefined>;

/** A platform's names for identity selectors, e.g. App Service's `[['client_id', 'clientId'], ['principal_id', 'principalId'], ...]`. */
export type SelectorNames = ReadonlyArray<readonly [string, IdentitySelector['by']]>;

/**
 * The identity a token request asks for, as a platform reads it: the selectors `params` carries under
 * `names` (`selectorsFrom`), or undefined when it carries a selector the platform does not take
 * (`foreignSelector`): such a request names no identity and must be refused, never answered with the
 * default one. The result is shared (callers only read it): a client repeating its request hands in
 * the same frozen query object (`parseQuery`), which costs one comparison.
 */
export function requestedSelectors(params: Params, names: SelectorNames): IdentitySelector[] | undefined {
  if (params !== lastParams || names !== lastNames) {
    lastSelectors = foreignSelector(params, names) ? undefined : selectorsFrom(params, names);
    lastParams = params;
    lastNames = names;
  }
  return lastSelectors;
}

let lastParams: Params | undefined;
let lastNames: SelectorNames | undefined;
let lastSelectors: IdentitySelector[] | undefined;

/** The selectors `params` carries under `names`; an empty value counts as absent (a script's unset variable). */
export function selectorsFrom(params: Params, names: SelectorNames): IdentitySelector[] {
  const selectors: IdentitySelector[] = [];
  for (const [name, by] of names) {
    const value = params[name];
    if (typeof value === 'string' && value !== '') selectors.push({ by, value });
  }
  return selectors;
}

/**
 * Parameter names that select an identity on some platform (protocols.md §6.1, §7), compared without
 * case and underscores: `client_id`, `clientid`, `object_id`, `principal_id`, `msi_res_id`, `mi_res_id`
 * and their spellings (`clientId`, `ClientId`, ...).
 */
const IDENTITY_PARAMETERS = new Set(['clientid', 'objectid', 'principalid', 'msiresid', 'miresid']);

/** Parameter names seen that select no identity (exactly as sent). */
const PLAIN_PARAMETERS = new Set<string>();

/**
 * The first identity-selecting parameter in `params` (non-empty) that this platform does not take under
 * `names`, or undefined. A platform must refuse such a request instead of answering with its default
 * identity: Azure ML's 2017-09-01 endpoint answers `client_id=<id>` with 400 (it takes only `clientid`),
 * and a token of another identity than the one asked for is the one answer no client can detect.
 */
export function foreignSelector(params: Params, names: SelectorNames): string | undefined {
  for (const key in params) {
    if (PLAIN_PARAMETERS.has(key)) continue;
    if (!IDENTITY_PARAMETERS.has(key.replaceAll('_', '').toLowerCase())) {
      // Remembered (boundedly), so `api-version` and `resource` cost one lookup per request.
      if (PLAIN_PARAMETERS.size < 256) PLAIN_PARAMETERS.add(key);
      continue;
    }
    if (names.some(([name]) => name === key)) continue;
    const value = param(params, key);
    if (value !== undefined && value !== '') return key;
  }
  return undefined;
}

/** The first value of a parameter, or undefined. */
export function param(params: Params, name: string): string | undefined {
  const value = params[name];
  return Array.isArray(value) ? value[0] : value;
}

/** True when a parameter appears more than once. */
export function hasDuplicate(params: Params): boolean {
  for (const key in params) if (Array.isArray(params[key])) return true;
  return false;
}

/** Parses an `application/x-www-form-urlencoded` body (any bytes: a malformed body parses to what it can). */
export function parseForm(body: unknown): Params {
  const out: Params = {};
  if (!Buffer.isBuffer(body) || body.length === 0) return out;
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
    const seen = out[key];
    out[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

/**
 * A token for `identity` and `resource` from the emulator's token service (cached per pair, as every
 * platform's token service caches), recording the identity in the request log.
 */
export function mintToken(
  state: EmulatorState,
  request: FastifyRequest,
  identity: ManagedIdentity,
  resource: string,
  bypassCache = false,
  refreshIfSha256?: string,
): Promise<TokenResult> {
  setRequestIdentity(request, identity.clientId);
  return state.tokens.getToken({
    identity,
    resource,
    bypassCache,
    ...(refreshIfSha256 === undefined ? {} : { refreshIfSha256 }),
  });
}

/** Seconds since the epoch on the emulator's clock. */
export function nowSeconds(state: EmulatorState): number {
  return Math.floor(state.clock.now() / 1000);
}

/** True when `resource` is a usable audience (present and not blank). */
export function isResource(resource: unknown): resource is string {
  return typeof resource === 'string' && resource.trim() !== '';
}

// Bodies that depend only on the token (no `expires_in`), serialized once per token and platform shape.
const staticBodies = new WeakMap<AccessToken, Map<string, Buffer>>();

/** `build(token)`, serialized once per (token, `shape`): a cached token is served from the same bytes. */
export function staticBody(
  token: AccessToken,
  shape: string,
  build: (token: AccessToken) => unknown,
): Buffer {
  let bodies = staticBodies.get(token);
  if (!bodies) {
    bodies = new Map();
    staticBodies.set(token, bodies);
  }
  let body = bodies.get(shape);
  if (!body) {
    body = Buffer.from(JSON.stringify(build(token)));
    bodies.set(shape, body);
  }
  return body;
}
