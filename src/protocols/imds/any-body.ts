import type { FastifyInstance } from 'fastify';

/**
 * Makes the plugin's routes take any request body as raw bytes, whatever its Content-Type (or none).
 * IMDS does not turn bodies away by media type: a POST to a GET-only category is a 405, not fastify's
 * 415, and StartRequests arrive as form-urlencoded from curl -d. Scoped to the calling plugin.
 */
export function acceptAnyBody(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
}
