/**
 * Bench child: the baseline. A bare `node:http` server that answers every request with one captured
 * azimds response (status, headers in azimds's order and case, body bytes), so the only difference
 * from azimds is the work azimds does per request. Protocol (IPC):
 * → `{ type: 'ready', port }`; ← `{ type: 'serve', response }` → `{ type: 'serving' }`;
 * ← `'cpu'` → `{ type: 'cpu', usage }`; ← `'close'` → exits.
 */
import { createServer, type OutgoingHttpHeaders } from 'node:http';

interface ServeMessage {
  type: 'serve';
  response: { status: number; headers: Array<[string, string]>; body: string; keepAliveSeconds?: number };
}

let status = 500;
let headers: OutgoingHttpHeaders = {};
let body = Buffer.alloc(0);

const server = createServer((_request, response) => {
  response.writeHead(status, headers);
  response.end(body);
});

process.on('message', (message: ServeMessage | string) => {
  if (message === 'cpu') process.send?.({ type: 'cpu', usage: process.cpuUsage() });
  else if (message === 'close') server.close(() => process.exit(0));
  else if (typeof message === 'object' && message.type === 'serve') {
    status = message.response.status;
    headers = Object.fromEntries(message.response.headers);
    body = Buffer.from(message.response.body, 'base64');
    // Same `Keep-Alive: timeout=N` header as the server it mirrors.
    if (message.response.keepAliveSeconds) server.keepAliveTimeout = message.response.keepAliveSeconds * 1000;
    process.send?.({ type: 'serving' });
  }
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
});
