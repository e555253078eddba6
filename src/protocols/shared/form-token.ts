import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SelectionError } from '../../core/identities/identity.js';
import type { EmulatorState } from '../../core/state.js';
import type { AccessToken } from '../../core/tokens/provider.js';
import { formTokenErrors, identityErrors, type WireError } from '../../errors.js';
import { JSON_CONTENT_TYPE, sendBytes, sendWireError } from '../../server/reply.js';
import { tokenFailureError } from '../identity-imds/token-response.js';
import { hasMetadataHeader } from '../imds/request-checks.js';
import {
  foreignSelector,
  hasDuplicate,
  isResource,
  mintToken,
  nowSeconds,
  type Params,
  param,
  parseForm,
  type SelectorNames,
  selectorsFrom,
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

  const token = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!(methods as readonly string[]).includes(request.method)) {
      return sendWireError(reply, methodNotAllowed);
    }
    if (!hasMetadataHeader(request, strict))
      return sendWireError(reply, identityErrors.metadataHeaderMissing);
    const query = request.query as Params;
    const form = request.method === 'POST' ? parseForm(request.body) : {};
    if (hasDuplicate(query) || hasDuplicate(form)) {
      return sendWireError(reply, formTokenErrors.duplicateParameter);
    }
    const params: Params = { ...query, ...form };
    const resource = param(params, 'resource');
    if (!isResource(resource)) return sendWireError(reply, identityErrors.resourceMissing);
    // A selector this endpoint does not take names no identity (Cloud Shell takes none).
    if (foreignSelector(params, selectors)) return sendWireError(reply, identityErrors.identityNotFound);
    const selection = state.identities.select(selectorsFrom(params, selectors));
    if (!selection.ok) return sendWireError(reply, selectionErrors[selection.error]);
    const result = await mintToken(state, request, selection.identity, resource);
    if (!result.ok) return sendWireError(reply, tokenFailureError(result.failure));
    return sendBytes(reply, 200, JSON_CONTENT_TYPE, formTokenBody(result.token, nowSeconds(state)));
  };

  app.all('/oauth2/token', token);
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
