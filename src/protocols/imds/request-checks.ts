import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { isImdsApiVersion } from '../../core/machines/api-versions.js';
import type { Query } from '../../server/fast-path.js';

/**
 * The checks every IMDS category applies before anything else, in Azure's order. Each category maps a
 * failure to its own error body (instance and identity word them differently).
 */
export type ImdsCheckFailure = 'metadata-header' | 'forwarded-for' | 'duplicate-parameter' | 'api-version';

export type { Query };

/**
 * What the IMDS checks read of a request. Fastify's request and the fast path's `Exchange`
 * (server/fast-path.ts) are both one, so each check is written once for both paths.
 */
export interface ImdsRequest {
  readonly method: string;
  /** Path and query as received. */
  readonly url: string;
  /** Client address (the rate limit's key). */
  readonly ip: string;
  readonly headers: IncomingHttpHeaders;
  /** Parsed query (`Query`). */
  readonly query: unknown;
  /** The request as Node received it: which VM of a fleet it is addressed to (server/request-vm.ts). */
  readonly raw: IncomingMessage;
}

/** True when the request carries `Metadata: true` (any case unless `strict`). */
export function hasMetadataHeader(request: Pick<ImdsRequest, 'headers'>, strict: boolean): boolean {
  const value = request.headers.metadata;
  if (typeof value !== 'string') return false;
  return strict ? value === 'true' : value.toLowerCase() === 'true';
}

/** Header, proxy and duplicate-parameter checks; `undefined` when the request passes. */
export function checkImdsRequest(request: ImdsRequest, strict: boolean): ImdsCheckFailure | undefined {
  if (!hasMetadataHeader(request, strict)) return 'metadata-header';
  if (request.headers['x-forwarded-for'] !== undefined) return 'forwarded-for';
  const query = request.query as Query;
  for (const key in query) if (Array.isArray(query[key])) return 'duplicate-parameter';
  return undefined;
}

/** The api-version of the request when IMDS supports it for metadata categories. */
export function metadataApiVersion(query: Query): string | undefined {
  const v = query['api-version'];
  return typeof v === 'string' && isImdsApiVersion(v) ? v : undefined;
}
