import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ArcConfig } from '../../config/platforms.js';
import type { ManagedIdentity, SelectionError } from '../../core/identities/identity.js';
import { isImdsApiVersion } from '../../core/machines/api-versions.js';
import type { ArcChallenges } from '../../core/platforms/arc-challenges.js';
import type { EmulatorState } from '../../core/state.js';
import type { AccessToken } from '../../core/tokens/provider.js';
import { arcErrors, identityErrors, type WireError } from '../../errors.js';
import { JSON_CONTENT_TYPE, sendBytes, sendWireError } from '../../server/reply.js';
import { requestVm } from '../../server/request-vm.js';
import { IDENTITY_CHECK_ERRORS } from '../identity-imds/plugin.js';
import { tokenFailureError } from '../identity-imds/token-response.js';
import { IMDS_HEADERS, imdsGuard } from '../imds/plugin.js';
import {
  isResource,
  mintToken,
  nowSeconds,
  type Params,
  param,
  requestedSelectors,
  type SelectorNames,
} from '../shared/token-request.js';

export interface ArcTokenPluginOptions {
  state: EmulatorState;
  arc: ArcConfig;
  challenges: ArcChallenges;
}

/** The first api-version HIMDS's token endpoint takes (older Go clients send it; msal-node 2020-06-01). */
const FIRST_ARC_VERSION = '2019-08-15';

const selectionErrors: Record<SelectionError, WireError> = {
  'identity-not-found': arcErrors.identityNotFound,
  'multiple-user-assigned': identityErrors.multipleUserAssigned,
  'several-selectors': identityErrors.severalSelectors,
};

/**
 * Selectors of an agent with user-assigned support: IMDS's names. `mi_res_id` is not one (MSAL's
 * authors saw agent 1.67 ignore it and answer with the system-assigned identity); azimds refuses it
 * with `identityNotFound` rather than hand out another identity's token.
 */
const SELECTORS: SelectorNames = [
  ['client_id', 'clientId'],
  ['object_id', 'principalId'],
  ['msi_res_id', 'resourceId'],
];

/**
 * Azure Arc's HIMDS token endpoint (protocols.md §7.3): `GET /metadata/identity/oauth2/token`.
 *
 * 1. IMDS's gate (verb, the identity rate limit, `Metadata: true`, X-Forwarded-For, duplicates), then
 *    api-version, `resource` and the identity (a selector names a user-assigned identity; the
 *    system-assigned identity answers without one) — errors here come before any challenge.
 * 2. No `Authorization`: 401 with `WWW-Authenticate: Basic realm=<dir>/<uuid>.key`, a new single-use
 *    secret file (owner-only) in the challenge directory.
 * 3. `Authorization: Basic <file contents>`: the secret is redeemed (and its file deleted) and the
 *    token is sent in IMDS's shape, plus `object_id` and `msi_res_id` echoing a user-assigned
 *    identity, as agents that honour selectors do (MSAL refuses a user-assigned token without them).
 *    A wrong, used or expired secret gets 401 and a new challenge.
 */
export const arcTokenPlugin: FastifyPluginAsync<ArcTokenPluginOptions> = async (
  app,
  { state, arc, challenges },
) => {
  challenges.prepare();
  app.addHook('onClose', async () => challenges.close());
  const guard = imdsGuard(
    state,
    IDENTITY_CHECK_ERRORS,
    identityErrors.tooManyRequests,
    state.config.imds.rateLimit.identity,
  );

  const challenge = (request: FastifyRequest, reply: FastifyReply, error: WireError): FastifyReply => {
    let path: string;
    try {
      const issued = challenges.issue();
      // Too many challenges pending (a flood): refuse new ones; pending ones stay valid.
      if (!issued) return sendWireError(reply, identityErrors.tooManyRequests, IMDS_HEADERS);
      path = issued.path;
    } catch (cause) {
      request.log.error({ err: cause, dir: challenges.dir }, 'Azure Arc: cannot write a challenge file');
      return sendWireError(reply, arcErrors.challengeFailed, IMDS_HEADERS);
    }
    return sendWireError(reply, error, { ...IMDS_HEADERS, 'Www-Authenticate': `Basic realm=${path}` });
  };

  const token = async (request: FastifyRequest, reply: FastifyReply) => {
    const rejected = guard(request, reply, 'GET');
    if (rejected) return rejected;
    const query = request.query as Params;
    const version = param(query, 'api-version');
    if (!version || !isImdsApiVersion(version) || version < FIRST_ARC_VERSION) {
      return sendWireError(reply, identityErrors.apiVersionInvalid, IMDS_HEADERS);
    }
    const resource = param(query, 'resource');
    if (!isResource(resource)) return sendWireError(reply, identityErrors.resourceMissing, IMDS_HEADERS);
    // A selector the agent does not take (`mi_res_id`) is refused: answering with the machine's
    // identity would hand out another identity's token. The older agent (`userAssignedIdentities:
    // false`, opt-in) ignores every selector on purpose, so SDKs' fail-closed check can be tested.
    const selectors = arc.userAssignedIdentities ? requestedSelectors(query, SELECTORS) : [];
    if (selectors === undefined) return sendWireError(reply, arcErrors.identityNotFound, IMDS_HEADERS);
    const selection = requestVm(state, request.raw).identities.select(selectors);
    // Arc selectors name user-assigned identities; the machine's own identity is asked for without one.
    if (selection.ok && selectors.length > 0 && selection.identity.kind === 'system-assigned') {
      return sendWireError(reply, arcErrors.identityNotFound, IMDS_HEADERS);
    }
    if (!selection.ok) return sendWireError(reply, selectionErrors[selection.error], IMDS_HEADERS);

    challenges.sweep();
    const authorization = request.headers.authorization;
    if (authorization === undefined) return challenge(request, reply, arcErrors.challenge);
    const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization);
    if (!basic || challenges.redeem(basic[1] as string) !== 'ok') {
      return challenge(request, reply, arcErrors.secretRejected);
    }
    const result = await mintToken(state, request, selection.identity, resource);
    if (!result.ok) return sendWireError(reply, tokenFailureError(result.failure), IMDS_HEADERS);
    const body = arcTokenBody(
      result.token,
      selection.identity,
      arc.userAssignedIdentities,
      nowSeconds(state),
    );
    return sendBytes(reply, 200, JSON_CONTENT_TYPE, body, IMDS_HEADERS);
  };

  // msal-node canonicalizes some endpoints with a trailing slash; HIMDS answers both.
  for (const path of ['/metadata/identity/oauth2/token', '/metadata/identity/oauth2/token/']) {
    app.all(path, token);
  }
};

/**
 * HIMDS's token body: IMDS's fields as strings, keys alphabetical (msal-python needs `expires_in`,
 * msal-node `expires_on`), with `object_id` and `msi_res_id` for a user-assigned identity.
 */
export function arcTokenBody(
  token: AccessToken,
  identity: ManagedIdentity,
  echo: boolean,
  now: number,
): Buffer {
  const userAssigned = echo && identity.kind === 'user-assigned';
  const body: Record<string, string> = {
    access_token: token.accessToken,
    client_id: token.clientId,
    expires_in: String(Math.max(0, token.expiresOn - now)),
    expires_on: String(token.expiresOn),
    ext_expires_in: String(token.lifetimeSeconds),
    ...(userAssigned ? { msi_res_id: identity.resourceId } : {}),
    not_before: String(token.notBefore),
    ...(userAssigned ? { object_id: identity.principalId } : {}),
    refresh_token: '',
    resource: token.resource,
    token_type: token.tokenType,
  };
  return Buffer.from(JSON.stringify(body));
}
