import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { IMDS_VERSIONS_ASCENDING, NEWEST_IMDS_VERSIONS } from '../../core/machines/api-versions.js';
import { RateLimiter } from '../../core/rate-limit.js';
import type { EmulatorState } from '../../core/state.js';
import { apiVersionInvalid, imdsErrors, methodNotAllowed, type WireError } from '../../errors.js';
import {
  JSON_CONTENT_TYPE,
  type PreparedResponse,
  prepareResponse,
  sendPrepared,
  sendWireError,
} from '../../server/reply.js';
import { isWireError, renderNode } from './render.js';
import { checkImdsRequest, type ImdsCheckFailure, metadataApiVersion, type Query } from './request-checks.js';

export interface ImdsPluginOptions {
  state: EmulatorState;
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

/**
 * IMDS metadata categories: `/metadata/instance[/…]` (route filtering, `format=text`) and
 * `/metadata/versions`. Other categories (identity, attested, scheduledevents, loadbalancer) are
 * their own plugins on the same listener and share `guardImdsRequest`.
 */
export const imdsPlugin: FastifyPluginAsync<ImdsPluginOptions> = async (app, { state }) => {
  const guard = imdsGuard(state);
  // Complete responses per api-version, then per `format?path`; dropped whenever the VM changes.
  // Bounded: only supported versions and paths that exist are cached (errors never are).
  const cache = new Map<string, Map<string, PreparedResponse>>();
  let cachedRevision = state.machine.revision;
  const versions = prepareResponse(
    200,
    JSON_CONTENT_TYPE,
    Buffer.from(JSON.stringify({ apiVersions: IMDS_VERSIONS_ASCENDING })),
    IMDS_HEADERS,
  );

  const instance = (request: FastifyRequest, reply: FastifyReply) => {
    const rejected = guard(request, reply, 'GET');
    if (rejected) return rejected;
    const query = request.query as Query;
    const version = metadataApiVersion(query);
    if (!version) return sendWireError(reply, apiVersionError, IMDS_HEADERS);
    const rest = (request.params as { '*'?: string })['*'] ?? '';
    const format = query.format as string | undefined;
    if (state.machine.revision !== cachedRevision) {
      cache.clear();
      cachedRevision = state.machine.revision;
    }
    let byPath = cache.get(version);
    if (byPath === undefined) {
      byPath = new Map();
      cache.set(version, byPath);
    }
    // No format (the common case) keys on the path alone: no string is built per request. A path
    // never holds `?`, so the two kinds of key cannot collide.
    const key = format === undefined ? rest : `${format}?${rest}`;
    let prepared = byPath.get(key);
    if (prepared === undefined) {
      const segments = rest.split('/').filter((s) => s.length > 0);
      const found = state.machine.lookup(version, segments);
      if (!found.found) return sendWireError(reply, imdsErrors.notFound, IMDS_HEADERS);
      const result = renderNode(found.value, format);
      if (isWireError(result)) return sendWireError(reply, result, IMDS_HEADERS);
      prepared = prepareResponse(200, result.contentType, result.body, IMDS_HEADERS);
      byPath.set(key, prepared);
    }
    return sendPrepared(reply, prepared);
  };

  app.all('/metadata/instance', instance);
  app.all('/metadata/instance/*', instance);
  app.all('/metadata/versions', (request, reply) => {
    const rejected = guard(request, reply, 'GET');
    if (rejected) return rejected;
    return sendPrepared(reply, versions);
  });
};

/**
 * The gate in front of every IMDS route, in Azure's order: verb, rate limit, `Metadata` header,
 * X-Forwarded-For, duplicate parameters. Returns the sent reply when the request is rejected.
 * `errors` lets a category word the failures its own way (the identity endpoint does); `limits`
 * gives it its own rate (the identity category's is 20 requests per second).
 */
export function imdsGuard(
  state: EmulatorState,
  errors: Record<ImdsCheckFailure, WireError> = checkErrors,
  throttled: WireError = imdsErrors.tooManyRequests,
  limits: { requestsPerSecond: number; burst: number } = state.config.imds.rateLimit,
): (request: FastifyRequest, reply: FastifyReply, allow: string) => FastifyReply | undefined {
  const { strictMetadataHeader, rateLimit } = state.config.imds;
  const limiter = rateLimit.enabled ? sharedLimiter(state, limits) : undefined;
  return (request, reply, allow) => {
    // `allow` is one verb on most routes: compare before splitting.
    if (request.method !== allow && !allow.split(', ').includes(request.method)) {
      return sendWireError(
        reply,
        methodNotAllowed(request.url.split('?')[0] ?? '', request.method, allow),
        IMDS_HEADERS,
      );
    }
    if (limiter && !limiter.take(request.ip)) return sendWireError(reply, throttled, IMDS_HEADERS);
    const failure = checkImdsRequest(request, strictMetadataHeader);
    return failure ? sendWireError(reply, errors[failure], IMDS_HEADERS) : undefined;
  };
}

// Azure's limit is per VM across the metadata categories, and separate for the identity category: one
// limiter per (emulator, limits) pair, so every category guarded with the same limits shares buckets.
const limiters = new WeakMap<EmulatorState, Map<object, RateLimiter>>();

function sharedLimiter(
  state: EmulatorState,
  limits: { requestsPerSecond: number; burst: number },
): RateLimiter {
  const byLimits = limiters.get(state) ?? new Map<object, RateLimiter>();
  limiters.set(state, byLimits);
  const limiter =
    byLimits.get(limits) ?? new RateLimiter(limits.requestsPerSecond, limits.burst, state.clock);
  byLimits.set(limits, limiter);
  return limiter;
}
