import type { IncomingMessage } from 'node:http';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { IMDS_VERSIONS_ASCENDING, NEWEST_IMDS_VERSIONS } from '../../core/machines/api-versions.js';
import type { Machine } from '../../core/machines/machine.js';
import { RateLimiter } from '../../core/rate-limit.js';
import type { EmulatorState } from '../../core/state.js';
import { apiVersionInvalid, imdsErrors, methodNotAllowed, type WireError } from '../../errors.js';
import { type Exchange, fastRoute } from '../../server/fast-path.js';
import {
  JSON_CONTENT_TYPE,
  type PreparedResponse,
  prepareResponse,
  sendWireError,
} from '../../server/reply.js';
import { requestVm } from '../../server/request-vm.js';
import { isWireError, renderNode } from './render.js';
import {
  checkImdsRequest,
  type ImdsCheckFailure,
  type ImdsRequest,
  metadataApiVersion,
} from './request-checks.js';

export interface ImdsPluginOptions {
  state: EmulatorState;
}

/** One VM's cached `/metadata/instance` responses: per api-version, then per `format?path`. */
interface InstanceCache {
  readonly byVersion: Map<string, Map<string, PreparedResponse>>;
  bytes: number;
  revision: number;
}

/** Headers IMDS puts on every response. */
export const IMDS_HEADERS: Readonly<Record<string, string>> = { Server: 'IMDS/150.870.65.1544' };

const apiVersionError = apiVersionInvalid(NEWEST_IMDS_VERSIONS);

const checkErrors: Record<ImdsCheckFailure, WireError> = {
  'metadata-header': imdsErrors.metadataHeaderMissing,
  'forwarded-for': imdsErrors.forwardedForNotAllowed,
  'duplicate-parameter': imdsErrors.duplicateQueryParameter,
  'api-version': apiVersionError,
};

/** Bytes of rendered responses the instance endpoint keeps (every version and path clients ask for fits many times). */
const MAX_CACHED_BYTES = 8 * 1024 * 1024;

/**
 * IMDS metadata categories: `/metadata/instance[/…]` (route filtering, `format=text`) and
 * `/metadata/versions`. Other categories (identity, attested, scheduledevents, loadbalancer) are
 * their own plugins on the same listener and share `imdsCheck`. Both routes are fast-path routes
 * (server/fast-path.ts): the same code answers through fastify's router and ahead of it.
 */
export const imdsPlugin: FastifyPluginAsync<ImdsPluginOptions> = async (app, { state }) => {
  const check = imdsCheck(state);
  // Complete responses per api-version, then per `format?path`; dropped whenever the VM changes.
  // Bounded: only supported versions and paths that exist are cached (errors never are).
  // One cache per VM of the fleet (docs/fleet.md), kept with the VM's Machine.
  const caches = new WeakMap<Machine, InstanceCache>();
  const versions = prepareResponse(
    200,
    JSON_CONTENT_TYPE,
    Buffer.from(JSON.stringify({ apiVersions: IMDS_VERSIONS_ASCENDING })),
    IMDS_HEADERS,
  );

  const instance = (exchange: Exchange, rest: string): undefined => {
    const rejected = check(exchange, 'GET');
    if (rejected) return exchange.fail(rejected, IMDS_HEADERS);
    const query = exchange.query;
    const version = metadataApiVersion(query);
    if (!version) return exchange.fail(apiVersionError, IMDS_HEADERS);
    const format = query.format as string | undefined;
    const machine = requestVm(state, exchange.raw).machine;
    let vmCache = caches.get(machine);
    if (vmCache === undefined) {
      vmCache = { byVersion: new Map(), bytes: 0, revision: machine.revision };
      caches.set(machine, vmCache);
    }
    if (machine.revision !== vmCache.revision) {
      vmCache.byVersion.clear();
      vmCache.bytes = 0;
      vmCache.revision = machine.revision;
    }
    let byPath = vmCache.byVersion.get(version);
    if (byPath === undefined) {
      byPath = new Map();
      vmCache.byVersion.set(version, byPath);
    }
    // No format (the common case) keys on the path alone: no string is built per request. A path
    // never holds `?`, so the two kinds of key cannot collide.
    const key = format === undefined ? rest : `${format}?${rest}`;
    let prepared = byPath.get(key);
    if (prepared === undefined) {
      const segments = rest.split('/').filter((s) => s.length > 0);
      const found = machine.lookup(version, segments);
      if (!found.found) return exchange.fail(imdsErrors.notFound, IMDS_HEADERS);
      const result = renderNode(found.value, format);
      if (isWireError(result)) return exchange.fail(result, IMDS_HEADERS);
      prepared = prepareResponse(200, result.contentType, result.body, IMDS_HEADERS);
      // The body counts twice when it is also kept as text (PreparedResponse.text).
      const size = prepared.body.length + (prepared.text?.length ?? 0) + key.length;
      if (vmCache.bytes + size <= MAX_CACHED_BYTES) {
        byPath.set(key, prepared);
        vmCache.bytes += size;
      }
    }
    return exchange.send(prepared);
  };

  fastRoute(app, '/metadata/instance', instance, true);
  fastRoute(app, '/metadata/versions', (exchange) => {
    const rejected = check(exchange, 'GET');
    if (rejected) return exchange.fail(rejected, IMDS_HEADERS);
    return exchange.send(versions);
  });
};

/**
 * The gate in front of every IMDS route, in Azure's order: verb, rate limit, `Metadata` header,
 * X-Forwarded-For, duplicate parameters. Returns the error to answer when the request is rejected
 * (the rate limit's token is taken when it passes). `errors` lets a category word the failures its own
 * way (the identity endpoint does); `limits` gives it its own rate (the identity category's is 20
 * requests per second).
 */
export function imdsCheck(
  state: EmulatorState,
  errors: Record<ImdsCheckFailure, WireError> = checkErrors,
  throttled: WireError = imdsErrors.tooManyRequests,
  limits: { requestsPerSecond: number; burst: number } = state.config.imds.rateLimit,
): (request: ImdsRequest, allow: string) => WireError | undefined {
  const { strictMetadataHeader, rateLimit } = state.config.imds;
  // Azure's limits are per VM: each VM of a fleet has its own buckets (VmState.rateLimiters).
  const limiterOf = rateLimit.enabled
    ? (raw: IncomingMessage) => sharedLimiter(state, requestVm(state, raw).rateLimiters, limits)
    : undefined;
  return (request, allow) => {
    // `allow` is one verb on most routes: compare before splitting.
    if (request.method !== allow && !allow.split(', ').includes(request.method)) {
      return methodNotAllowed(request.url.split('?')[0] ?? '', request.method, allow);
    }
    if (limiterOf && !limiterOf(request.raw).take(request.ip)) return throttled;
    const failure = checkImdsRequest(request, strictMetadataHeader);
    return failure ? errors[failure] : undefined;
  };
}

/** `imdsCheck` for fastify routes: sends the error and returns the reply when the request is rejected. */
export function imdsGuard(
  ...args: Parameters<typeof imdsCheck>
): (request: FastifyRequest, reply: FastifyReply, allow: string) => FastifyReply | undefined {
  const check = imdsCheck(...args);
  return (request, reply, allow) => {
    const rejected = check(request, allow);
    return rejected ? sendWireError(reply, rejected, IMDS_HEADERS) : undefined;
  };
}

// Azure's limit is per VM across the metadata categories, and separate for the identity category: one
// limiter per (VM, limits) pair, so every category guarded with the same limits shares buckets.
function sharedLimiter(
  state: EmulatorState,
  byLimits: Map<object, RateLimiter>,
  limits: { requestsPerSecond: number; burst: number },
): RateLimiter {
  const limiter =
    byLimits.get(limits) ?? new RateLimiter(limits.requestsPerSecond, limits.burst, state.clock);
  byLimits.set(limits, limiter);
  return limiter;
}
