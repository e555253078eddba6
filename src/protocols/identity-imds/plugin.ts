import type { FastifyPluginAsync } from 'fastify';
import type { SelectionError } from '../../core/identities/identity.js';
import { isImdsApiVersion } from '../../core/machines/api-versions.js';
import type { EmulatorState } from '../../core/state.js';
import { warnLocalTokensOnce } from '../../core/tokens/local-warning.js';
import type { AccessToken } from '../../core/tokens/provider.js';
import { identityErrors, type WireError } from '../../errors.js';
import { type Exchange, fastRoute } from '../../server/fast-path.js';
import { JSON_CONTENT_TYPE, prepareResponse } from '../../server/reply.js';
import { requestVm } from '../../server/request-vm.js';
import { IMDS_HEADERS, imdsCheck } from '../imds/plugin.js';
import type { ImdsCheckFailure } from '../imds/request-checks.js';
import { preparedTokenResponse } from '../shared/prepared-token.js';
import {
  isResource,
  nowSeconds,
  requestedSelectors,
  type SelectorNames,
  selectorsFrom,
} from '../shared/token-request.js';
import { imdsTokenBody, tokenFailureError } from './token-response.js';

export interface IdentityImdsPluginOptions {
  state: EmulatorState;
}

/** The identity category needs api-version 2018-02-01 or later (every SDK sends exactly that). */
const FIRST_IDENTITY_VERSION = '2018-02-01';

/** The shared IMDS checks, worded as the identity endpoint words them (Arc's HIMDS words them alike). */
export const IDENTITY_CHECK_ERRORS: Record<ImdsCheckFailure, WireError> = {
  'metadata-header': identityErrors.metadataHeaderMissing,
  'forwarded-for': identityErrors.forwardedForNotAllowed,
  'duplicate-parameter': identityErrors.duplicateQueryParameter,
  'api-version': identityErrors.apiVersionInvalid,
};

const selectionErrors: Record<SelectionError, WireError> = {
  'identity-not-found': identityErrors.identityNotFound,
  'multiple-user-assigned': identityErrors.multipleUserAssigned,
  'several-selectors': identityErrors.severalSelectors,
};

/**
 * Query parameters that name an identity. `mi_res_id` is the name other platforms use; SDKs never send
 * it to IMDS, azimds accepts it as an alias of `msi_res_id` (both at once count as two selectors).
 */
const SELECTOR_PARAMETERS: SelectorNames = [
  ['client_id', 'clientId'],
  ['object_id', 'principalId'],
  ['msi_res_id', 'resourceId'],
  ['mi_res_id', 'resourceId'],
];

/**
 * Managed identity on IMDS (protocols.md §6): `GET /metadata/identity/oauth2/token` and
 * `GET /metadata/identity/info`. Each request passes the shared IMDS gate (verb, the identity rate limit,
 * `Metadata` header — which also answers the SDKs' header-less probe at once —, X-Forwarded-For,
 * duplicate parameters), then api-version, `resource`, identity selection, and the token source.
 */
export const identityImdsPlugin: FastifyPluginAsync<IdentityImdsPluginOptions> = async (app, { state }) => {
  const check = imdsCheck(
    state,
    IDENTITY_CHECK_ERRORS,
    identityErrors.tooManyRequests,
    state.config.imds.rateLimit.identity,
  );
  if (state.tokens.mintsLocally) warnLocalTokensOnce(app.log);
  // Compile and run once, off the request path, what the first client's request would run cold
  // (selection, cache lookup, signing, rendering): the first token request then costs what later ones do.
  const warmIdentity = state.identities.all()[0];
  if (warmIdentity) {
    void state.tokens.keys.ready().then(
      async () => {
        const query = { 'api-version': FIRST_IDENTITY_VERSION, client_id: warmIdentity.clientId };
        if (!isIdentityApiVersion(query['api-version'])) return;
        const selection = state.identities.select(selectorsFrom(query, SELECTOR_PARAMETERS));
        if (!selection.ok) return;
        const request = { identity: selection.identity, resource: 'https://management.azure.com/' };
        state.tokens.cachedToken(request);
        // A few signatures, not one: WebCrypto's signing path (jose) is still cold after the first.
        for (let i = 0; i < 3; i++) {
          const minted = await state.tokens.local.mint(request);
          if (minted.ok) imdsTokenBody(minted.token, nowSeconds(state));
        }
      },
      () => {},
    );
  }

  const respond = preparedTokenResponse(state, imdsTokenBody, IMDS_HEADERS);
  const sendToken = (exchange: Exchange, token: AccessToken): undefined => exchange.send(respond(token));

  // Not `async`: a cached token (nearly every request) is answered without a promise.
  const token = (exchange: Exchange): undefined | Promise<undefined> => {
    const rejected = check(exchange, 'GET');
    if (rejected) return exchange.fail(rejected, IMDS_HEADERS);
    const query = exchange.query;
    if (!isIdentityApiVersion(query['api-version']))
      return exchange.fail(identityErrors.apiVersionInvalid, IMDS_HEADERS);
    const resource = query.resource;
    if (!isResource(resource)) return exchange.fail(identityErrors.resourceMissing, IMDS_HEADERS);
    // A selector IMDS does not take (`clientid`, `principal_id`) names no identity: never the default one.
    const selectors = requestedSelectors(query, SELECTOR_PARAMETERS);
    if (selectors === undefined) return exchange.fail(identityErrors.identityNotFound, IMDS_HEADERS);
    const selection = requestVm(state, exchange.raw).identities.select(selectors);
    if (!selection.ok) return exchange.fail(selectionErrors[selection.error], IMDS_HEADERS);
    exchange.setIdentity(selection.identity.clientId);
    const bypass = query.bypass_cache;
    const tokenRequest = {
      identity: selection.identity,
      resource,
      bypassCache: typeof bypass === 'string' && bypass.toLowerCase() === 'true',
    };
    const cached = state.tokens.cachedToken(tokenRequest);
    if (cached) return sendToken(exchange, cached);
    return state.tokens
      .getToken(tokenRequest)
      .then((result) =>
        result.ok
          ? sendToken(exchange, result.token)
          : exchange.fail(tokenFailureError(result.failure), IMDS_HEADERS),
      );
  };

  const info = (exchange: Exchange): undefined => {
    const rejected = check(exchange, 'GET');
    if (rejected) return exchange.fail(rejected, IMDS_HEADERS);
    if (!isIdentityApiVersion(exchange.query['api-version'])) {
      return exchange.fail(identityErrors.apiVersionInvalid, IMDS_HEADERS);
    }
    const { systemAssigned, tenantId } = requestVm(state, exchange.raw).identities.current;
    if (!systemAssigned) return exchange.fail(identityErrors.identityNotFound, IMDS_HEADERS);
    return exchange.send(
      prepareResponse(200, JSON_CONTENT_TYPE, Buffer.from(JSON.stringify({ tenantId })), IMDS_HEADERS),
    );
  };

  // msal-node (and so @azure/identity) canonicalizes the endpoint to `.../oauth2/token/`: IMDS takes both.
  for (const path of ['/metadata/identity/oauth2/token', '/metadata/identity/oauth2/token/'])
    fastRoute(app, path, token);
  for (const path of ['/metadata/identity/info', '/metadata/identity/info/']) fastRoute(app, path, info);
};

function isIdentityApiVersion(version: unknown): boolean {
  return typeof version === 'string' && isImdsApiVersion(version) && version >= FIRST_IDENTITY_VERSION;
}
