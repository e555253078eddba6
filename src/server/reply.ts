import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { WireError } from '../errors.js';

/** Content types as Azure sends them (always with a charset). */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
export const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

/**
 * A response ready to write: status, the complete header object and the body bytes. Build it once
 * (`prepareResponse`) where the response is static and send it with `sendPrepared`.
 */
export interface PreparedResponse {
  readonly status: number;
  /** Lower-case names in wire order: `content-type`, the given headers, `content-length`. */
  readonly headers: Readonly<OutgoingHttpHeaders>;
  readonly body: Buffer;
}

/**
 * Builds a `PreparedResponse` with exactly the headers fastify's `reply.send()` would write for the
 * same calls (names lower-cased, later ones win, `content-length` last).
 */
export function prepareResponse(
  status: number,
  contentType: string,
  body: Buffer,
  ...headerSets: Array<Readonly<Record<string, string>> | undefined>
): PreparedResponse {
  const headers: Record<string, string> = { 'content-type': contentType };
  for (const set of headerSets) {
    if (set) for (const name of Object.keys(set)) headers[name.toLowerCase()] = set[name] as string;
  }
  headers['content-length'] = String(body.length);
  return { status, headers, body };
}

/**
 * Writes a prepared response straight to the socket: the hot path of every surface. Fastify's send
 * pipeline (content-type parsing, header merging, onSend hooks) is skipped, which is most of what
 * fastify costs per request; onRequest/preHandler hooks have run before and onResponse hooks and the
 * log controller (request log) still run when the response finishes. Statuses without a body (1xx,
 * 204, 304) take fastify's path, which knows their rules.
 */
export function sendPrepared(reply: FastifyReply, response: PreparedResponse): FastifyReply {
  if (response.status < 200 || response.status === 204 || response.status === 304) {
    return reply
      .code(response.status)
      .headers(response.headers as Record<string, string>)
      .send(response.body);
  }
  if (reply.sent) return reply;
  reply.hijack();
  writePrepared(reply.raw, response);
  return reply;
}

/**
 * Writes a prepared response on a raw Node response (the fast path's and `sendPrepared`'s last step).
 * Only for statuses with a body (every error and answer of the Azure surfaces).
 */
export function writePrepared(res: ServerResponse, response: PreparedResponse): void {
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

/** Sends pre-serialized bytes (builds the header object per call: prefer `sendPrepared` for static responses). */
export function sendBytes(
  reply: FastifyReply,
  status: number,
  contentType: string,
  body: Buffer,
  headers?: Readonly<Record<string, string>>,
): FastifyReply {
  return sendPrepared(reply, prepareResponse(status, contentType, body, headers));
}

// The prepared form of each error table entry, for the headers object it was last sent with (the
// table's entries are constants, so most sends find it here).
const preparedErrors = new WeakMap<
  WireError,
  { headers: Readonly<Record<string, string>> | undefined; prepared: PreparedResponse }
>();

/** The prepared form of an entry of the error table (errors.ts) with the surface's `headers`. */
export function preparedWireError(
  error: WireError,
  headers?: Readonly<Record<string, string>>,
): PreparedResponse {
  const memo = preparedErrors.get(error);
  if (memo !== undefined && memo.headers === headers) return memo.prepared;
  const prepared = prepareResponse(error.status, error.contentType, error.body, error.headers, headers);
  preparedErrors.set(error, { headers, prepared });
  return prepared;
}

/** Sends an entry of the error table (errors.ts). */
export function sendWireError(
  reply: FastifyReply,
  error: WireError,
  headers?: Readonly<Record<string, string>>,
): FastifyReply {
  return sendPrepared(reply, preparedWireError(error, headers));
}
