import type { FastifyRequest } from 'fastify';
import { isImdsApiVersion } from '../../core/machines/api-versions.js';

/**
 * The checks every IMDS category applies before anything else, in Azure's order. Each category maps a
 * failure to its own error body (instance and identity word them differently).
 */
export type ImdsCheckFailure = 'metadata-header' | 'forwarded-for' | 'duplicate-parameter' | 'api-version';

export type Query = Record<string, string | string[] | undefined>;

/** True when the request carries `Metadata: true` (any case unless `strict`). */
export function hasMetadataHeader(request: FastifyRequest, strict: boolean): boolean {
  const value = request.headers.metadata;
  if (typeof value !== 'string') return false;
  return strict ? value === 'true' : value.toLowerCase() === 'true';
}

/** Header, proxy and duplicate-parameter checks; `undefined` when the request passes. */
export function checkImdsRequest(request: FastifyRequest, strict: boolean): ImdsCheckFailure | undefined {
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
