import type { FastifyInstance } from 'fastify';
import type { SelectionError } from '../../core/identities/identity.js';
import type { EmulatorState } from '../../core/state.js';
import type { AccessToken } from '../../core/tokens/provider.js';
import { formTokenErrors, identityErrors, type WireError } from '../../errors.js';
import { type Exchange, fastRoute } from '../../server/fast-path.js';
import { requestVm } from '../../server/request-vm.js';
import { tokenFailureError } from '../identity-imds/token-response.js';
import { hasMetadataHeader } from '../imds/request-checks.js';
import { preparedTokenResponse } from './prepared-token.js';
import {
  hasDuplicate,
  isResource,
  type Params,
  param,
  parseForm,
  requestedSelectors,
  type SelectorNames,
} from './token-request.js';

const selectionErrors: Record<SelectionError, WireError> = {
  'identity-not-found': identityErrors.identityNotFound,
  'multiple-user-assigned': identityErrors.multipleUserAssigned,
  'several-selectors': identityErrors.severalSelectors,
};

export interface FormTokenOptions {
  state: EmulatorState;
  /** Verbs taken: `POST` (a form body) and, for the VM extension, `GET` (query parameters). */
  methods: readonly ('GET' | 'POST')[];
  /** Identity selectors honoured; none: the default identity answers whatever the request says. */
  selectors: SelectorNames;
}

/**
 * `/oauth2/token` as the legacy MSI VM extension served it, and Cloud Shell after it: `Metadata: true`,
 * `resource` in a form body (or the query of a GET), OAuth-style errors as IMDS's, and a body of
 * strings — `access_token`, `refresh_token` (empty), `expires_in`, `expires_on`, `not_before`,
 * `resource`, `token_type`, in that order (the extension's documented response).
 */
export function registerFormTokenRoutes(app: FastifyInstance, options: FormTokenOptions): void {
  const { state, methods, selectors } = options;
  const strict = state.config.imds.strictMetadataHeader;
  const allow = methods.join(', ');
  const methodNotAllowed = formTokenErrors.methodNotAllowed(allow);

  const respond = preparedTokenResponse(state, formTokenBody);
  const send = (exchange: Exchange, token: AccessToken) => exchange.send(respond(token));

  // Not `async`: a cached token is answered without a promise.
  const token = (exchange: Exchange): undefined | Promise<undefined> => {
    if (!(methods as readonly string[]).includes(exchange.method)) return exchange.fail(methodNotAllowed);
    if (!hasMetadataHeader(exchange, strict)) return exchange.fail(identityErrors.metadataHeaderMissing);
    const query = exchange.query;
    // A GET's parameters are its query object itself: the per-query memo of requestedSelectors holds.
    let params: Params = query;
    if (exchange.method === 'POST') {
      const form = parseForm(exchange.body);
      if (hasDuplicate(form)) return exchange.fail(formTokenErrors.duplicateParameter);
      params = { ...query, ...form };
    }
    if (hasDuplicate(query)) return exchange.fail(formTokenErrors.duplicateParameter);
    const resource = param(params, 'resource');
    if (!isResource(resource)) return exchange.fail(identityErrors.resourceMissing);
    // A selector this endpoint does not take names no identity (Cloud Shell takes none).
    const requested = requestedSelectors(params, selectors);
    if (requested === undefined) return exchange.fail(identityErrors.identityNotFound);
    const selection = requestVm(state, exchange.raw).identities.select(requested);
    if (!selection.ok) return exchange.fail(selectionErrors[selection.error]);
    exchange.setIdentity(selection.identity.clientId);
    const request = { identity: selection.identity, resource };
    const cached = state.tokens.cachedToken(request);
    if (cached) return send(exchange, cached);
    return state.tokens
      .getToken(request)
      .then((result) =>
        result.ok ? send(exchange, result.token) : exchange.fail(tokenFailureError(result.failure)),
      );
  };

  fastRoute(app, '/oauth2/token', token);
}

/** The extension's token body (see above). */
export function formTokenBody(token: AccessToken, now: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      access_token: token.accessToken,
      refresh_token: '',
      expires_in: String(Math.max(0, token.expiresOn - now)),
      expires_on: String(token.expiresOn),
      not_before: String(token.notBefore),
      resource: token.resource,
      token_type: token.tokenType,
    }),
  );
}
