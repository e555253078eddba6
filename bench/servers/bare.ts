/**
 * Bench child: the baseline. A bare `node:http` server that answers every request with one captured
 * azimds response (status, headers in azimds's order and case, body bytes), so the only difference
 * from azimds is the work azimds does per request. For azimds's https surfaces, a bare `node:https`
 * server beside it answers the same way with the key and certificate chain azimds serves (its local
 * CA's leaf: RSA-2048, then the CA), Node's default TLS settings on both sides, so the TLS work is
 * the same too. With `--mirror` this server also does what azimds's listeners do to make Node's own
 * work per request cheaper: Node's `optimizeEmptyRequests` (server/connection-guards.ts) and the body
 * written as a string when it is UTF-8 and the head ASCII (`PreparedResponse.text`,
 * server/reply.ts): the baseline that shows azimds's own work alone.
 * Protocol (IPC):
 * → `{ type: 'ready', port }` (http); ← `{ type: 'serve', response, tls? }` → `{ type: 'serving', port }`
 * (the http port, or the https one with `tls: { key, cert }`, PEM);
 * ← `'cpu'` → `{ type: 'cpu', usage }`; ← `'close'` → exits.
 */

import { isUtf8 } from 'node:buffer';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

interface ServeMessage {
  type: 'serve';
  response: { status: number; headers: Array<[string, string]>; body: string; keepAliveSeconds?: number };
  tls?: { key: string; cert: string };
}

let status = 500;
let headers: OutgoingHttpHeaders = {};
let body: Buffer | string = Buffer.alloc(0);

const answer = (_request: IncomingMessage, response: ServerResponse) => {
  response.writeHead(status, headers);
  response.end(body);
};
const mirror = process.argv.includes('--mirror');
/** Node's server options of azimds's listeners that change per-request work, when asked to mirror them. */
const options = { optimizeEmptyRequests: mirror };
const server = createServer(options, answer);
/** Created on the first https scenario; later ones swap its certificate in. */
let secure: HttpsServer | undefined;

const portOf = (s: { address(): AddressInfo | string | null }) => {
  const address = s.address();
  return typeof address === 'object' && address ? address.port : 0;
};

async function serve(message: ServeMessage): Promise<number> {
  status = message.response.status;
  headers = Object.fromEntries(message.response.headers);
  const bytes = Buffer.from(message.response.body, 'base64');
  const asciiHead = Object.entries(headers).every(
    ([n, v]) => Buffer.byteLength(`${n}${v}`) === `${n}${v}`.length,
  );
  body = mirror && asciiHead && isUtf8(bytes) ? bytes.toString('utf8') : bytes;
  let target: typeof server | HttpsServer = server;
  if (message.tls) {
    if (secure) secure.setSecureContext(message.tls);
    else {
      const created = createHttpsServer({ ...options, ...message.tls }, answer);
      await new Promise<void>((resolve) => created.listen(0, '127.0.0.1', resolve));
      secure = created;
    }
    target = secure;
  }
  // Same `Keep-Alive: timeout=N` header as the server it mirrors.
  if (message.response.keepAliveSeconds) target.keepAliveTimeout = message.response.keepAliveSeconds * 1000;
  return portOf(target);
}

process.on('message', (message: ServeMessage | string) => {
  if (message === 'cpu') process.send?.({ type: 'cpu', usage: process.cpuUsage() });
  else if (message === 'close') {
    secure?.close();
    server.close(() => process.exit(0));
  } else if (typeof message === 'object' && message.type === 'serve') {
    void serve(message).then((port) => process.send?.({ type: 'serving', port }));
  }
});

server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: portOf(server) });
});
