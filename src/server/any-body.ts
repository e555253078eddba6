import type { FastifyInstance } from 'fastify';

/**
 * Makes every route of `app` take any request body as raw bytes (a Buffer), whatever its Content-Type
 * (or none). Azure's endpoints do not turn bodies away by media type: a POST to a GET-only path is a 405,
 * not fastify's 415, and StartRequests or token forms arrive as whatever curl -d or an SDK sends.
 * Handlers that read a body parse it themselves.
 */
export function acceptAnyBody(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
}
