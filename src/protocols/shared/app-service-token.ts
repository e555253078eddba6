import type { FastifyInstance } from 'fastify';
import type { SelectionError } from '../../core/identities/identity.js';
import type { EmulatorState } from '../../core/state.js';
import type { AccessToken } from '../../core/tokens/provider.js';
import { appServiceError, appServiceMessages, platformFaultError, type WireError } from '../../errors.js';
import { type Exchange, fastRoute } from '../../server/fast-path.js';
import type { SurfaceErrors } from '../../server/listener.js';
import { JSON_CONTENT_TYPE, type PreparedResponse, prepareResponse } from '../../server/reply.js';
import { requestVm } from '../../server/request-vm.js';
import { isResource, param, requestedSelectors, type SelectorNames } from './token-request.js';

/** One api-version of an App Service-shaped token service: secret header, selectors, body. */
export interface AppServiceTokenVersion {
  /** Header carrying the secret, lower-case (`x-identity-header`, `secret`). */
  readonly header: 'x-identity-header' | 'secret';
  /** The header as named in messages. */
  readonly headerName: string;
  readonly selectors: SelectorNames;
  /** The token body (bytes, see staticBody); `state` for what the shape depends on (the VM's osType). */
  readonly body: (token: AccessToken, state: EmulatorState) => Buffer;
}

export interface AppServiceTokenOptions {
  state: EmulatorState;
  /** Whose path (`platforms.<platform>.path`) and secret. */
  platform: 'appService' | 'azureMl';
  /** The api-versions served, by value of `api-version`. */
  versions: Readonly<Record<string, AppServiceTokenVersion>>;
  /** `token_sha256_to_refresh` (MSAL's revocation signal) fetches a fresh token. */
  honourRefresh: boolean;
  /**
   * The platform's own refusal of a missing (`received` empty) or wrong secret (Azure ML's plain text);
   * default App Service's `{statusCode, message}` 400 (missing) / 401 (wrong).
   */
  secretRefused?: (received: string) => WireError;
}

const selectionMessages: Record<SelectionError, string> = {
  'identity-not-found': appServiceMessages.identityNotFound,
  'multiple-user-assigned': appServiceMessages.identityNotFound,
  'several-selectors': appServiceMessages.severalSelectors,
};

/**
 * The token route of App Service (protocols.md §7.1, §7.2) and of Azure ML, which descends from App
 * Service's 2017 protocol (§7.6): `GET <path>?api-version=...&resource=...` with the version's secret
 * header, its selectors, and errors `{statusCode, message, correlationId}` in this order of checks:
 * secret header missing (400) or wrong (401) — first, as a token service guarding a secret does, so a
 * client that mistook the platform for another (Cloud Shell's POST without a secret) is told about the
 * secret — then verb (405), api-version (400), resource (400), identity (400), token (400 for a
 * resource refused upstream, else 500). The header checked is the api-version's; for a version not
 * served, whichever of the versions' headers the request carries.
 */
export function registerAppServiceTokenRoute(app: FastifyInstance, options: AppServiceTokenOptions): void {
  const { state, platform, versions, honourRefresh, secretRefused } = options;
  const supported = Object.keys(versions).join(', ');
  const all = Object.values(versions);
  const fail = (exchange: Exchange, status: number, message: string, headers?: Record<string, string>) =>
    exchange.fail(appServiceError(status, message), headers);
  // The prepared response of each token body (bodies are built once per token: see staticBody).
  const prepared = new WeakMap<Buffer, PreparedResponse>();
  const send = (exchange: Exchange, body: Buffer) => {
    let response = prepared.get(body);
    if (response === undefined) {
      response = prepareResponse(200, JSON_CONTENT_TYPE, body);
      prepared.set(body, response);
    }
    return exchange.send(response);
  };

  // Not `async`: a cached token (nearly every request) is answered without a promise.
  const route = (exchange: Exchange): undefined | Promise<undefined> => {
    const query = exchange.query;
    const apiVersion = param(query, 'api-version');
    // Own keys only: `api-version=constructor` is not a version.
    const version =
      apiVersion !== undefined && Object.hasOwn(versions, apiVersion) ? versions[apiVersion] : undefined;
    const secretVersion =
      version ??
      all.find((v) => typeof exchange.headers[v.header] === 'string') ??
      (all[0] as AppServiceTokenVersion);
    const presented = exchange.headers[secretVersion.header];
    if (typeof presented !== 'string' || presented === '') {
      if (secretRefused) return exchange.fail(secretRefused(''));
      return fail(exchange, 400, appServiceMessages.headerMissing(secretVersion.headerName));
    }
    if (!state.platforms.secrets.matches(platform, presented)) {
      if (secretRefused) return exchange.fail(secretRefused(presented));
      return fail(exchange, 401, appServiceMessages.headerInvalid(secretVersion.headerName));
    }
    if (exchange.method !== 'GET') {
      return fail(exchange, 405, appServiceMessages.methodNotAllowed, { Allow: 'GET' });
    }
    if (!version) return fail(exchange, 400, appServiceMessages.apiVersionInvalid(apiVersion, supported));
    const resource = param(query, 'resource');
    if (!isResource(resource)) return fail(exchange, 400, appServiceMessages.resourceMissing);
    // A selector this version does not take (Azure ML's `client_id`) names no identity: 400, as Azure ML answers.
    const requested = requestedSelectors(query, version.selectors);
    if (requested === undefined) return fail(exchange, 400, appServiceMessages.identityNotFound);
    const selection = requestVm(state, exchange.raw).identities.select(requested);
    if (!selection.ok) return fail(exchange, 400, selectionMessages[selection.error]);
    exchange.setIdentity(selection.identity.clientId);
    // MSAL's revocation signal: a fresh token only when it names the cached one (the cache decides).
    const refresh = honourRefresh ? param(query, 'token_sha256_to_refresh') : undefined;
    const request = {
      identity: selection.identity,
      resource,
      ...(refresh === undefined ? {} : { refreshIfSha256: refresh }),
    };
    const cached = refresh === undefined ? state.tokens.cachedToken(request) : undefined;
    if (cached) return send(exchange, version.body(cached, state));
    return state.tokens.getToken(request).then((result) => {
      if (result.ok) return send(exchange, version.body(result.token, state));
      const status = result.failure.code === 'invalid-resource' ? 400 : 500;
      return fail(exchange, status, appServiceMessages.tokenFailed(result.failure.description));
    });
  };
  fastRoute(app, state.config.platforms[platform].path, route);
}

/** The listener errors of an App Service-shaped token service (404, 500 and injected faults). */
export const appServiceSurfaceErrors: SurfaceErrors = {
  notFound: () => appServiceError(404, 'The requested resource is not found.'),
  internal: () => appServiceError(500, 'An error occurred.'),
  fault: (_request, status, retryAfter) => platformFaultError('app-service', status, retryAfter),
  refused: (status, message) => appServiceError(status, message),
};
