import { isUtf8 } from 'node:buffer';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { WireError } from '../errors.js';

declare module 'node:http' {
  interface ServerResponse {
    /**
     * The prepared response written on it (`writePrepared`, `sendEmpty`): the request log's details
     * (server/request-details.ts) keep a reference to it, on the fast path and fastify's alike.
     */
    azimdsSent?: PreparedResponse;
  }
}

/** Content types as Azure sends them (always with a charset). */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
export const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

/**
 * A response ready to write: status, the complete header object and the body bytes. Build it once
 * (`prepareResponse`) where the response is static and send it with `sendPrepared`.
 */
export interface PreparedResponse {
  readonly status: number;
  /** Names as sent on the wire, in wire order: `Content-Type`, the given headers, `Content-Length`. */
  readonly headers: Readonly<OutgoingHttpHeaders>;
  readonly body: Buffer;
  /**
   * `body` as a string that Node writes as exactly these bytes (UTF-8), when that holds and every
   * header is ASCII; else undefined and `body` is written. `writePrepared` sends it: Node then
   * writes head and body as one string in one write, where a Buffer body goes out as a second chunk
   * of a `writev` (12–17 % more req/s for a bare node:http server on this machine, docs/performance.md).
   */
  readonly text?: string;
}

/**
 * Builds a `PreparedResponse`: `Content-Type`, the given headers (a later set wins over an earlier one,
 * names compared without case), `Content-Length` last. Names keep the spelling given — Azure's
 * services spell them in Go's/.NET's canonical form (`Content-Type`, `Server`, `Www-Authenticate`,
 * `Retry-After`), and scripts grep the raw bytes — where fastify's `reply.header()` lower-cases them.
 */
export function prepareResponse(
  status: number,
  contentType: string,
  body: Buffer,
  ...headerSets: Array<Readonly<Record<string, string>> | undefined>
): PreparedResponse {
  const headers: Record<string, string> = { 'Content-Type': contentType };
  for (const set of headerSets) {
    if (set) for (const name of Object.keys(set)) setHeader(headers, name, set[name] as string);
  }
  headers['Content-Length'] = String(body.length);
  const text = wireText(body, headers);
  return text === undefined ? { status, headers, body } : { status, headers, body, text };
}

/**
 * `body` as a string for `PreparedResponse.text`, or undefined. Node writes a string body with the
 * head in one string (`OutgoingMessage._send`) and encodes it as UTF-8, so the string is used only if
 * it encodes back to `body` byte for byte (not for bytes that are not UTF-8) and the head is ASCII
 * (UTF-8 would change a Latin-1 header value's bytes).
 */
function wireText(body: Buffer, headers: Readonly<Record<string, string>>): string | undefined {
  for (const name of Object.keys(headers)) {
    if (!isAsciiText(name) || !isAsciiText(headers[name] as string)) return undefined;
  }
  // Valid UTF-8 decodes and encodes back to the same bytes.
  return isUtf8(body) ? body.toString('utf8') : undefined;
}

/** True when every character of `text` is ASCII (its UTF-8 length is its length). */
const isAsciiText = (text: string) => Buffer.byteLength(text) === text.length;

/** Sets `name` in `headers`, replacing a header of the same name in another letter case. */
function setHeader(headers: Record<string, string>, name: string, value: string): void {
  if (!(name in headers)) {
    const lower = name.toLowerCase();
    for (const seen of Object.keys(headers)) if (seen.toLowerCase() === lower) delete headers[seen];
  }
  headers[name] = value;
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
    return sendEmpty(reply, response.status, response.headers as Record<string, string>);
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
  res.azimdsSent = response;
  res.writeHead(response.status, response.headers);
  res.end(response.text ?? response.body);
}

const NO_BODY = Buffer.alloc(0);

/**
 * Sends a response without a body (a 200 without content, 204, 304) with the header names as given:
 * no `Content-Type`; `Content-Length: 0` where a body could have been (not on 1xx/204/304).
 */
export function sendEmpty(
  reply: FastifyReply,
  status: number,
  headers?: Readonly<Record<string, string>>,
): FastifyReply {
  if (reply.sent) return reply;
  reply.hijack();
  writeEmpty(reply.raw, status, headers);
  return reply;
}

/** `sendEmpty` on a raw Node response (the fast path's `Exchange.sendEmpty`). */
export function writeEmpty(
  res: ServerResponse,
  status: number,
  headers?: Readonly<Record<string, string>>,
): void {
  const out: Record<string, string> = {};
  if (headers) {
    for (const name of Object.keys(headers)) {
      const lower = name.toLowerCase();
      if (lower !== 'content-type' && lower !== 'content-length') out[name] = headers[name] as string;
    }
  }
  if (status >= 200 && status !== 204 && status !== 304) out['Content-Length'] = '0';
  res.azimdsSent = { status, headers: out, body: NO_BODY };
  res.writeHead(status, out);
  res.end();
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
