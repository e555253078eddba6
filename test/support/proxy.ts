/**
 * Talking to azimds's proxy (src/server/proxy) the way clients do: absolute-form requests and CONNECT
 * tunnels (TLS verified against the local CA), plus the environment a child process gets from the
 * printed proxy block.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface ProxiedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** `GET <absoluteUrl>` sent to the proxy at `proxyUrl` (plain HTTP through a proxy: absolute-form). */
export function viaProxy(
  proxyUrl: string,
  absoluteUrl: string,
  headers: Record<string, string> = {},
): Promise<ProxiedResponse> {
  const proxy = new URL(proxyUrl);
  const target = new URL(absoluteUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: proxy.hostname,
        port: proxy.port,
        path: absoluteUrl,
        headers: { host: target.host, ...headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Sends `CONNECT authority` to the proxy; resolves with its answer and the socket (open when 200). */
export function connectVia(
  proxyUrl: string,
  authority: string,
): Promise<{ status: number; socket: Socket; body: string }> {
  const proxy = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: authority });
    req.on('connect', (res, socket, head) => {
      const status = res.statusCode ?? 0;
      if (status === 200) return resolve({ status, socket, body: '' });
      // A refusal: Node hands over its body as the tunnel's first bytes; read to the end.
      let body = head.toString('utf8');
      socket.setEncoding('utf8');
      socket.on('data', (d) => {
        body += d;
      });
      socket.on('end', () => resolve({ status, socket, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * `GET https://<host><path>` through a CONNECT tunnel, TLS verified against `ca` (PEM) for `host`.
 * Resolves with the response; rejects when the certificate does not verify.
 */
export async function httpsViaProxy(
  proxyUrl: string,
  host: string,
  path: string,
  ca: string,
  headers: Record<string, string> = {},
  request: { method?: string; body?: string } = {},
): Promise<ProxiedResponse & { peerSubjectAltName?: string }> {
  const tunnel = await connectVia(proxyUrl, `${host}:443`);
  if (tunnel.status !== 200) throw new Error(`CONNECT ${host}: ${tunnel.status} ${tunnel.body}`);
  const secure = tlsConnect({ socket: tunnel.socket, servername: host, ca });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', reject);
  });
  const peerSubjectAltName = secure.getPeerCertificate().subjectaltname;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        createConnection: () => secure,
        path,
        method: request.method ?? 'GET',
        headers: { host, connection: 'close', ...headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => {
          secure.destroy();
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            ...(peerSubjectAltName ? { peerSubjectAltName } : {}),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

/** An answer of an Azure host through the proxy, with its body parsed as JSON when it is JSON. */
export interface AzureResponse extends ProxiedResponse {
  // biome-ignore lint/suspicious/noExplicitAny: tests read the fields they assert on, of many shapes
  json: any;
}

/**
 * `method https://<Azure host>/...` sent as a client with the proxy block sends it: through the
 * emulator's proxy (CONNECT), TLS verified against its local CA. `token` becomes `Authorization:
 * Bearer`; a `body` object is sent as JSON.
 * @example `await viaAzure(azimds, 'GET', 'https://management.azure.com/subscriptions?api-version=2022-12-01', { token })`
 */
export async function viaAzure(
  emulator: { urls: { proxy?: string }; state: { localCa: { certPem(): string } } },
  method: string,
  url: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<AzureResponse> {
  const target = new URL(url);
  const proxy = emulator.urls.proxy;
  if (!proxy) throw new Error('the proxy is off');
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await httpsViaProxy(
    proxy,
    target.hostname,
    `${target.pathname}${target.search}`,
    emulator.state.localCa.certPem(),
    headers,
    { method, ...(body === undefined ? {} : { body }) },
  );
  let json: unknown;
  try {
    json = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    json = undefined;
  }
  return { ...res, json };
}

/** The environment of a child process given only the proxy block (plus PATH and HOME to run at all). */
export function blockOnly(
  block: Record<string, string>,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'SystemRoot', 'TEMP', 'TMP']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...block, ...extra };
}
