import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent, request as httpsRequest } from 'node:https';
import * as tls from 'node:tls';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { msal } from './msal.js';

/** Largest response body read from Entra; its token and discovery answers are a few kilobytes. */
const MAX_BODY_BYTES = 1_000_000;

/**
 * One token acquisition (an msal call and every request it makes: discovery, token). Its requests share
 * one deadline, so an acquisition never outlives its timeout, and the transport problem that ended it is
 * kept here, readable where msal would only report "endpoints cannot be resolved".
 */
export interface Acquisition {
  /** Epoch ms (real time: network timeouts are real, whatever the emulator's clock says). */
  readonly deadline: number;
  readonly timeoutMs: number;
  transportFailure?: { message: string; reason: 'timeout' | 'network' | 'unavailable' };
}

const acquisitions = new AsyncLocalStorage<Acquisition>();

/** Runs `fn` (an msal call) as `acquisition`: the requests it makes give up at its deadline. */
export function runAcquisition<T>(acquisition: Acquisition, fn: () => Promise<T>): Promise<T> {
  return acquisitions.run(acquisition, fn);
}

export interface EntraHttpOptions {
  /** Per-request limit when no deadline is set by `withDeadline`. */
  timeoutMs: number;
  /** Extra trusted CA certificates (PEM), added to the system's. */
  extraCaPem?: string;
  /** Proxy settings (`HTTPS_PROXY`, `NO_PROXY`); honoured by Node 24.5 and later. */
  env?: NodeJS.ProcessEnv;
}

/**
 * msal-node's network module, on node:https: requests end at the acquisition's deadline (msal's own
 * client has no timeout for token requests), extra CAs can be trusted without NODE_EXTRA_CA_CERTS, and
 * transport failures are kept on the acquisition, readable where msal would only say "endpoints cannot be
 * resolved".
 * Non-JSON answers (a proxy's HTML error page) become OAuth-shaped errors msal reports as such.
 */
export class EntraHttpClient implements INetworkModule {
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  constructor(options: EntraHttpOptions) {
    this.#timeoutMs = options.timeoutMs;
    const env = options.env ?? process.env;
    const proxied = Boolean(env.HTTPS_PROXY || env.https_proxy);
    this.#agent = new Agent({
      keepAlive: true,
      ...(options.extraCaPem ? { ca: [...systemCas(), options.extraCaPem] } : {}),
      ...(proxied ? { proxyEnv: env } : {}),
    });
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.#send<T>('GET', url, options);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.#send<T>('POST', url, options);
  }

  /** Closes idle connections. */
  close(): void {
    this.#agent.destroy();
  }

  #send<T>(
    method: 'GET' | 'POST',
    url: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> {
    const acquisition = acquisitions.getStore() ?? {
      deadline: Date.now() + this.#timeoutMs,
      timeoutMs: this.#timeoutMs,
    };
    const { deadline, timeoutMs } = acquisition;
    const note = (message: string, reason: 'timeout' | 'network' | 'unavailable') => {
      acquisition.transportFailure = { message, reason };
    };
    const budget = Math.max(1, deadline - Date.now());
    const target = new URL(url);
    const where = `${target.host}${target.pathname}`;
    const body = method === 'POST' ? Buffer.from(options?.body ?? '') : undefined;
    const headers: Record<string, string> = { ...(options?.headers ?? {}) };
    if (body) headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const fail = (message: string, reason: 'timeout' | 'network' = 'network') => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        note(message, reason);
        reject(new (msal().AuthError)('network_error', '', message));
      };
      const req = httpsRequest(target, { method, headers, agent: this.#agent }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) req.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          const responseHeaders: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) responseHeaders[k] = Array.isArray(v) ? v.join(', ') : v;
          }
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          if (parsed === null || typeof parsed !== 'object') {
            const type = res.headers['content-type'] ?? 'no content type';
            const message = `HTTP ${status} from ${where} with a body that is not JSON (${type})`;
            note(message, 'unavailable');
            parsed = {
              error: status >= 500 ? 'temporarily_unavailable' : 'invalid_response',
              error_description: message,
            };
          } else if (status >= 500 || (method === 'GET' && status >= 400)) {
            note(`HTTP ${status} from ${where}`, 'unavailable');
          }
          resolve({ status, headers: responseHeaders, body: parsed as T });
        });
        res.on('error', (error) => {
          fail(`reading the answer of ${where} failed: ${error.message}`);
        });
      });
      timer = setTimeout(() => {
        fail(`no answer from ${where} within the timeout of ${timeoutMs} ms`, 'timeout');
        req.destroy();
      }, budget);
      req.on('error', (error) => {
        fail(`cannot reach ${where}: ${describeNetworkError(error)}`);
      });
      req.end(body);
    });
  }
}

/**
 * The trust store node uses by default (system/bundled roots and NODE_EXTRA_CA_CERTS). A namespace
 * import: `tls.getCACertificates` exists from Node 22.15 on, and a named import of it would fail to
 * load the whole package on older Node; there the bundled roots stand in.
 */
function systemCas(): readonly string[] {
  const getCACertificates = (tls as { getCACertificates?: (type: 'default') => string[] }).getCACertificates;
  return typeof getCACertificates === 'function' ? getCACertificates('default') : tls.rootCertificates;
}

function describeNetworkError(error: NodeJS.ErrnoException): string {
  return error.code && !error.message.includes(error.code)
    ? `${error.code}: ${error.message}`
    : error.message;
}
