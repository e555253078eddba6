import type { EmulatorState } from '../../core/state.js';
import { keyVaultError, keyVaultErrors, statusCode } from '../../errors.js';
import { lazyPlugin } from '../../server/lazy-surface.js';
import type { ListenerSpec } from '../../server/listener.js';

/** Headers Key Vault sends on every response (observed in azure-sdk-for-js recordings). */
export const KEY_VAULT_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-cache',
  pragma: 'no-cache',
  expires: '-1',
  'x-content-type-options': 'nosniff',
};

/** Fault-injection bodies in Key Vault's shape (429 `Throttled` as Key Vault's throttling answers). */
const FAULT_TEXT: Record<number, [string, string]> = {
  429: [
    'Throttled',
    'Request was not allowed because the application has exceeded the maximum allowed requests.',
  ],
  500: ['InternalServerError', 'The service encountered an internal error.'],
  503: ['ServiceUnavailable', 'The service is unavailable; retry the request.'],
};

/**
 * The `key-vault` surface (team/seams.md §1): the secrets data plane, one listener for every vault
 * (chosen by Host). Served through the proxy as `https://<vault>.vault.azure.net`; with `keyVault.port`
 * also on a direct endpoint (`keyVault.host` or the top-level `host`), over TLS from the local CA (any
 * `<vault>.vault.localhost` name by SNI; `127.0.0.1` serves the default vault).
 */
export function keyVaultListenerSpec(state: EmulatorState): ListenerSpec {
  const { config } = state;
  return {
    name: 'key-vault',
    host: config.keyVault.host ?? config.host,
    // No port: the proxy serves the surface in-process (a direct endpoint only when asked for).
    ...(config.keyVault.port === undefined
      ? {}
      : {
          port: config.keyVault.port,
          serverOptions: { https: state.localCa.serverOptions(config.keyVault.host ?? config.host) },
        }),
    // Loaded when the surface's app is built: the proxy builds it on its first request for a vault.
    plugins: [
      {
        plugin: lazyPlugin(() => import('./plugin.js').then((m) => m.keyVaultPlugin)) as never,
        options: { state },
      },
    ],
    headers: KEY_VAULT_HEADERS,
    errors: {
      // Host guard, timeouts and parser-level refusals in Key Vault's shape.
      refused: (status, message) => keyVaultError(status, statusCode(status), message),
      notFound: () => keyVaultErrors.notFound,
      internal: () => keyVaultErrors.internal,
      fault: (_request, status, retryAfter) => {
        const [code, message] = FAULT_TEXT[status] ?? ['Error', 'An error occurred.'];
        const error = keyVaultError(status, code, message);
        return retryAfter === undefined
          ? error
          : { ...error, headers: { 'retry-after': String(retryAfter) } };
      },
    },
  };
}
