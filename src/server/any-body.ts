import type { IncomingMessage } from 'node:http';
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';

const NO_BODY = Buffer.alloc(0);

/**
 * Makes every route of `app` take any request body as raw bytes (a Buffer), whatever its Content-Type
 * (or none). Azure's endpoints do not turn bodies away by media type: a POST to a GET-only path is a 405,
 * not fastify's 415, and StartRequests or token forms arrive as whatever curl -d or an SDK sends.
 * Handlers that read a body parse it themselves.
 *
 * The bytes are read here rather than by fastify's `parseAs: 'buffer'` reader because the listener's
 * server ends a request without `Content-Length` and `Transfer-Encoding` before anyone reads it (Node's
 * `optimizeEmptyRequests`, see `connectionServerOptions`): such a request has no body (RFC 9112 §6.3),
 * it never emits `end`, and fastify's reader, which waits for `end`, would hold a bodiless POST with a
 * Content-Type forever. Limits and errors are fastify's own: a body over the route's `bodyLimit` is
 * `FST_ERR_CTP_BODY_TOO_LARGE` (413), one whose length differs from its `Content-Length` is
 * `FST_ERR_CTP_INVALID_CONTENT_LENGTH` (400), a stream error is a 400.
 */
export function acceptAnyBody(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', readBody);
}

function readBody(
  request: FastifyRequest,
  payload: IncomingMessage,
  done: (error: Error | null, body?: Buffer) => void,
): void {
  // Ended by Node before we read it: no Content-Length, no Transfer-Encoding, so no body.
  if (payload.readableEnded) {
    done(null, NO_BODY);
    return;
  }
  const limit = request.routeOptions.bodyLimit ?? Number.POSITIVE_INFINITY;
  const declared = Number(request.headers['content-length']);
  if (declared > limit) {
    done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit) {
      stop();
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = (error?: Error & { statusCode?: number }) => {
    stop();
    if (error) {
      if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
      done(error);
    } else if (!Number.isNaN(declared) && received !== declared) {
      done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
    } else {
      // A copy: the body must not be a view over the socket's read buffer.
      done(null, Buffer.concat(chunks, received));
    }
  };
  const stop = () => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onEnd);
  };
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onEnd);
  payload.resume();
}
