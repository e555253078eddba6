import type { FastifyReply } from 'fastify';
import type { WireError } from '../errors.js';

/** Content types as Azure sends them (always with a charset). */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
export const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

/** Sends pre-serialized bytes; the hot path of every surface. */
export function sendBytes(
  reply: FastifyReply,
  status: number,
  contentType: string,
  body: Buffer,
  headers?: Readonly<Record<string, string>>,
): FastifyReply {
  reply.code(status).header('content-type', contentType);
  if (headers) reply.headers(headers);
  return reply.send(body);
}

/** Sends an entry of the error table (errors.ts). */
export function sendWireError(
  reply: FastifyReply,
  error: WireError,
  headers?: Readonly<Record<string, string>>,
): FastifyReply {
  reply.code(error.status).header('content-type', error.contentType);
  if (error.headers) reply.headers(error.headers);
  if (headers) reply.headers(headers);
  return reply.send(error.body);
}
