import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULTS } from '../../config/defaults.js';
import { SECRET_NAME } from '../../config/key-vault.js';
import type { VaultCaller } from '../../core/key-vault/authorization.js';
import type { SecretFailure, SecretInput, SecretPatch, SecretResult } from '../../core/key-vault/secrets.js';
import type { SecretOperation, VaultRecord } from '../../core/key-vault/vault.js';
import type { EmulatorState } from '../../core/state.js';
import { verifyBearer } from '../../core/tokens/bearer.js';
import { keyVaultErrors, type WireError } from '../../errors.js';
import { JSON_CONTENT_TYPE, sendBytes, sendWireError } from '../../server/reply.js';
import { setRequestIdentity } from '../../server/request-log.js';
import {
  deletedSecretBundle,
  deletedSecretItem,
  secretBundle,
  secretItem,
  secretProperties,
} from './bundles.js';
import { challengeHeader, VAULT_RESOURCE, vaultAddress } from './host.js';
import { KEY_VAULT_HEADERS } from './listener.js';

/** What the authentication hook found, for the route handlers. */
interface KeyVaultRequestContext {
  vault: VaultRecord;
  caller: VaultCaller;
  /** Base URL of ids and nextLinks. */
  origin: string;
  /** Query parameters, keys and values percent-decoded (`api%2Dversion` is `api-version`). */
  query: URLSearchParams;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the Key Vault surface's authentication hook. */
    azimdsKeyVault: KeyVaultRequestContext | undefined;
  }
}

export interface KeyVaultPluginOptions {
  state: EmulatorState;
}

/**
 * api-versions Key Vault clients send: 7.0 to 7.6 (with `-preview[.N]` variants) and dated versions such
 * as `2025-07-01` (keyvault-secrets 4.11). Any well-formed version is accepted, as new ones appear
 * faster than emulators learn them (reference §0.4).
 */
const API_VERSION = /^(?:7\.\d|\d{4}-\d{2}-\d{2})(?:-preview(?:\.\d+)?)?$/;
/** Key Vault's limit on a secret value: 25 KB (Microsoft's "Azure Key Vault service limits"). */
const MAX_VALUE_CHARS = 25_600;

const SECRET_HEADERS = (vault: VaultRecord) => ({
  'x-ms-keyvault-region': vault.location,
  'x-ms-request-id': randomUUID(),
});

function failureError(failure: SecretFailure, vault: VaultRecord): WireError {
  switch (failure.kind) {
    case 'not-found':
      return keyVaultErrors.secretNotFound(
        failure.version ? `${failure.name}/${failure.version}` : failure.name,
      );
    case 'deleted-not-found':
      return keyVaultErrors.deletedSecretNotFound(failure.name);
    case 'disabled':
      return keyVaultErrors.secretDisabled;
    case 'expired':
      return keyVaultErrors.secretExpired;
    case 'not-yet-valid':
      return keyVaultErrors.secretNotYetValid;
    case 'deleted-conflict':
      return keyVaultErrors.deletedButRecoverable(failure.name);
    case 'purge-protected':
      return keyVaultErrors.purgeProtected(vault.name, vault.location);
  }
}

/**
 * Message of a 401 for a token that is present but not acceptable, in Key Vault's words: AKV10022 (audience),
 * AKV10032 (issuer), S2S12086 (expired: `[TokenExpired] …`; forged or unreadable), as quoted in public issues.
 */
function tokenMessage(failure: string, vault: VaultRecord, resource: string, state: EmulatorState): string {
  switch (failure) {
    case 'wrong-audience':
      return `AKV10022: Invalid audience. Expected ${resource}.`;
    case 'wrong-issuer':
    case 'wrong-tenant':
      return `AKV10032: Invalid issuer. Expected one of ${state.tokens.issuers(vault.tenantId).v1}.`;
    case 'expired':
      return "[TokenExpired] Error validating token: 'S2S12086'.";
    default:
      return "Error validating token: 'S2S12086'.";
  }
}

/**
 * The Key Vault secrets data plane (docs/key-vault.md): the vault comes from the Host header; every
 * request is authenticated in `onRequest`, before its body is read, and gets Key Vault's 401 challenge
 * without a valid azimds token; each operation is then authorized by the vault's rule (RBAC data action
 * or access policy) and served from the Key Vault core.
 */
export const keyVaultPlugin: FastifyPluginAsync<KeyVaultPluginOptions> = async (app, { state }) => {
  const kv = state.keyVaults;
  app.decorateRequest('azimdsKeyVault', undefined);

  app.addHook('onRequest', async (request, reply) => {
    const address = vaultAddress(request.headers.host, request.protocol);
    const vault = address.vaultName === undefined ? kv.catalog.defaultVault() : kv.vault(address.vaultName);
    if (!vault) {
      return sendWireError(
        reply,
        keyVaultErrors.vaultNotFound(request.headers.host ?? '(no host)'),
        KEY_VAULT_HEADERS,
      );
    }
    const challenge = {
      'www-authenticate': challengeHeader(vault.tenantId, address.resource),
      ...KEY_VAULT_HEADERS,
    };
    const audiences = [VAULT_RESOURCE, address.resource, address.origin];
    const result = await verifyBearer(state, request.headers.authorization, audiences);
    if (!result.ok) {
      const error =
        result.failure === 'missing'
          ? keyVaultErrors.missingToken
          : keyVaultErrors.invalidToken(tokenMessage(result.failure, vault, address.resource, state));
      return sendWireError(reply, error, challenge);
    }
    const { bearer } = result;
    if (bearer.tenantId.toLowerCase() !== vault.tenantId.toLowerCase()) {
      return sendWireError(
        reply,
        keyVaultErrors.invalidToken(tokenMessage('wrong-tenant', vault, address.resource, state)),
        challenge,
      );
    }
    if (bearer.appId) setRequestIdentity(request, bearer.appId);
    const q = request.url.indexOf('?');
    request.azimdsKeyVault = {
      vault,
      origin: address.origin,
      query: new URLSearchParams(q < 0 ? '' : request.url.slice(q + 1)),
      caller: {
        principalId: bearer.principalId,
        tenantId: bearer.tenantId,
        ...(bearer.appId === undefined ? {} : { appId: bearer.appId }),
        issuer: typeof bearer.claims.iss === 'string' ? bearer.claims.iss : '',
      },
    };
  });

  const send = (reply: FastifyReply, ctx: KeyVaultRequestContext, status: number, body: unknown) =>
    sendBytes(reply, status, JSON_CONTENT_TYPE, Buffer.from(JSON.stringify(body)), {
      ...KEY_VAULT_HEADERS,
      ...SECRET_HEADERS(ctx.vault),
    });
  const fail = (reply: FastifyReply, error: WireError) => sendWireError(reply, error, KEY_VAULT_HEADERS);

  /**
   * Common checks of every operation: api-version, the secret name, then the vault's authorization rule.
   * Returns the context, or undefined after sending the error.
   */
  const admit = (
    request: FastifyRequest,
    reply: FastifyReply,
    operation: SecretOperation,
    name?: string,
  ): KeyVaultRequestContext | undefined => {
    const ctx = request.azimdsKeyVault as KeyVaultRequestContext;
    const version = ctx.query.get('api-version');
    if (!version) {
      fail(reply, keyVaultErrors.badParameter('The api-version query parameter is required.'));
      return undefined;
    }
    if (!API_VERSION.test(version)) {
      fail(
        reply,
        keyVaultErrors.badParameter(
          `The specified version (${version}) is not recognized. Consider using the latest supported version (2025-07-01).`,
        ),
      );
      return undefined;
    }
    if (name !== undefined && !SECRET_NAME.test(name)) {
      fail(reply, keyVaultErrors.badParameter(`The request URI contains an invalid name: ${name}`));
      return undefined;
    }
    const decision = kv.authorize(ctx.vault, ctx.caller, operation, name);
    if (!decision.allowed) {
      const c = ctx.caller;
      const caller = `appid=${c.appId ?? ''};oid=${c.principalId};iss=${c.issuer}`;
      const vault = ctx.vault;
      fail(
        reply,
        decision.model === 'rbac'
          ? keyVaultErrors.forbiddenByRbac(
              caller,
              decision.dataAction,
              name === undefined
                ? vault.resourceId.toLowerCase()
                : `${vault.resourceId.toLowerCase()}/secrets/${name}`,
              vault.name,
              vault.location,
            )
          : keyVaultErrors.forbiddenByPolicy(caller, decision.permission, vault.name, vault.location),
      );
      return undefined;
    }
    return ctx;
  };

  /** Sends a core result: `render` on success, Azure's error otherwise. */
  const answer = <T>(
    reply: FastifyReply,
    ctx: KeyVaultRequestContext,
    result: SecretResult<T>,
    render: (value: T) => unknown,
  ) =>
    result.ok
      ? send(reply, ctx, 200, render(result.value))
      : fail(reply, failureError(result.failure, ctx.vault));

  /** A page of a list: `maxresults` (1-25, default 25) and the `$skiptoken` of our nextLink. */
  const page = <T>(
    reply: FastifyReply,
    ctx: KeyVaultRequestContext,
    path: string,
    items: readonly T[],
    render: (item: T) => unknown,
  ) => {
    const max = ctx.query.get('maxresults');
    const size = max === null || max === '' ? DEFAULTS.keyVault.maxResults : Number(max);
    if (!Number.isInteger(size) || size < 1 || size > DEFAULTS.keyVault.maxResults) {
      return fail(
        reply,
        keyVaultErrors.badParameter(
          `Invalid value for maxresults: ${max}. It must be between 1 and ${DEFAULTS.keyVault.maxResults}.`,
        ),
      );
    }
    const token = ctx.query.get('$skiptoken');
    const start = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) {
      return fail(reply, keyVaultErrors.badParameter('The $skiptoken parameter is not valid.'));
    }
    const slice = items.slice(start, start + size);
    const next = start + size < items.length ? start + size : undefined;
    const nextLink =
      next === undefined
        ? null
        : `${ctx.origin}${path}?api-version=${encodeURIComponent(ctx.query.get('api-version') ?? '')}&$skiptoken=${Buffer.from(String(next)).toString('base64url')}&maxresults=${size}`;
    return send(reply, ctx, 200, { value: slice.map(render), nextLink });
  };

  const body = (request: FastifyRequest): Record<string, unknown> | undefined => {
    const raw = request.body;
    if (!Buffer.isBuffer(raw) || raw.length === 0) return undefined;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : undefined;
    } catch {
      return undefined;
    }
  };

  // --- Secrets -------------------------------------------------------------------------------------

  type NameParams = { Params: { name: string } };
  type VersionParams = { Params: { name: string; version?: string } };

  app.put<NameParams>('/secrets/:name', async (request, reply) => {
    const ctx = admit(request, reply, 'set', request.params.name);
    if (!ctx) return reply;
    const parsed = parseSetBody(body(request));
    if (typeof parsed === 'string') return fail(reply, keyVaultErrors.badParameter(parsed));
    return answer(reply, ctx, kv.secrets(ctx.vault).set(request.params.name, parsed), (s) =>
      secretBundle(ctx.origin, s),
    );
  });

  const getSecret = async (request: FastifyRequest<VersionParams>, reply: FastifyReply) => {
    const ctx = admit(request, reply, 'get', request.params.name);
    if (!ctx) return reply;
    const { name, version } = request.params;
    return answer(
      reply,
      ctx,
      kv.secrets(ctx.vault).get(name, version || undefined, kv.enforceValidityPeriod),
      (s) => secretBundle(ctx.origin, s),
    );
  };
  app.get<VersionParams>('/secrets/:name', getSecret);
  app.get<VersionParams>('/secrets/:name/', getSecret);
  app.get<VersionParams>('/secrets/:name/:version', getSecret);

  const listSecrets = async (request: FastifyRequest, reply: FastifyReply) => {
    const ctx = admit(request, reply, 'list');
    if (!ctx) return reply;
    return page(reply, ctx, '/secrets', kv.secrets(ctx.vault).list(), (s) =>
      secretItem(ctx.origin, s, false),
    );
  };
  app.get('/secrets', listSecrets);
  app.get('/secrets/', listSecrets);

  app.get<NameParams>('/secrets/:name/versions', async (request, reply) => {
    const ctx = admit(request, reply, 'list', request.params.name);
    if (!ctx) return reply;
    const { name } = request.params;
    return page(reply, ctx, `/secrets/${name}/versions`, kv.secrets(ctx.vault).versions(name), (s) =>
      secretItem(ctx.origin, s, true),
    );
  });

  const updateSecret = async (request: FastifyRequest<VersionParams>, reply: FastifyReply) => {
    const ctx = admit(request, reply, 'update', request.params.name);
    if (!ctx) return reply;
    const parsed = parsePatchBody(body(request));
    if (typeof parsed === 'string') return fail(reply, keyVaultErrors.badParameter(parsed));
    const { name, version } = request.params;
    return answer(reply, ctx, kv.secrets(ctx.vault).update(name, version || undefined, parsed), (s) =>
      secretProperties(ctx.origin, s),
    );
  };
  app.patch<VersionParams>('/secrets/:name', updateSecret);
  app.patch<VersionParams>('/secrets/:name/', updateSecret);
  app.patch<VersionParams>('/secrets/:name/:version', updateSecret);

  app.delete<NameParams>('/secrets/:name', async (request, reply) => {
    const ctx = admit(request, reply, 'delete', request.params.name);
    if (!ctx) return reply;
    return answer(reply, ctx, kv.secrets(ctx.vault).delete(request.params.name), (s) =>
      'deletedDate' in s ? deletedSecretBundle(ctx.origin, s) : secretProperties(ctx.origin, s),
    );
  });

  // --- Deleted secrets ------------------------------------------------------------------------------

  const listDeleted = async (request: FastifyRequest, reply: FastifyReply) => {
    const ctx = admit(request, reply, 'listDeleted');
    if (!ctx) return reply;
    return page(reply, ctx, '/deletedsecrets', kv.secrets(ctx.vault).listDeleted(), (s) =>
      deletedSecretItem(ctx.origin, s),
    );
  };
  app.get('/deletedsecrets', listDeleted);
  app.get('/deletedsecrets/', listDeleted);

  app.get<NameParams>('/deletedsecrets/:name', async (request, reply) => {
    const ctx = admit(request, reply, 'getDeleted', request.params.name);
    if (!ctx) return reply;
    return answer(reply, ctx, kv.secrets(ctx.vault).getDeleted(request.params.name), (s) =>
      deletedSecretBundle(ctx.origin, s),
    );
  });

  app.post<NameParams>('/deletedsecrets/:name/recover', async (request, reply) => {
    const ctx = admit(request, reply, 'recover', request.params.name);
    if (!ctx) return reply;
    return answer(reply, ctx, kv.secrets(ctx.vault).recover(request.params.name), (s) =>
      secretProperties(ctx.origin, s),
    );
  });

  app.delete<NameParams>('/deletedsecrets/:name', async (request, reply) => {
    const ctx = admit(request, reply, 'purge', request.params.name);
    if (!ctx) return reply;
    const result = kv.secrets(ctx.vault).purge(request.params.name);
    if (!result.ok) return fail(reply, failureError(result.failure, ctx.vault));
    return reply
      .code(204)
      .headers({ ...KEY_VAULT_HEADERS, ...SECRET_HEADERS(ctx.vault) })
      .send();
  });

  // Any other path (keys, certificates, a typo) is authenticated first, as Key Vault does, then 404.
  app.all('*', async (_request, reply) => fail(reply, keyVaultErrors.notFound));
};

/** `attributes` of a request body: enabled (boolean), nbf/exp (integer unix seconds); or an error message. */
function parseAttributes(raw: unknown): { enabled?: boolean; nbf?: number; exp?: number } | string {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) return 'attributes must be an object.';
  const a = raw as Record<string, unknown>;
  const out: { enabled?: boolean; nbf?: number; exp?: number } = {};
  if (a.enabled !== undefined && a.enabled !== null) {
    if (typeof a.enabled !== 'boolean') return 'attributes.enabled must be a boolean.';
    out.enabled = a.enabled;
  }
  for (const key of ['nbf', 'exp'] as const) {
    const v = a[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v)) return `attributes.${key} must be unix seconds.`;
    out[key] = v;
  }
  return out;
}

/** `tags` and `contentType` of a request body, or an error message. */
function parseCommon(
  b: Record<string, unknown>,
): { contentType?: string; tags?: Record<string, string> } | string {
  const out: { contentType?: string; tags?: Record<string, string> } = {};
  if (b.contentType !== undefined && b.contentType !== null) {
    if (typeof b.contentType !== 'string') return 'contentType must be a string.';
    out.contentType = b.contentType;
  }
  if (b.tags !== undefined && b.tags !== null) {
    if (typeof b.tags !== 'object' || Array.isArray(b.tags)) return 'tags must be an object of strings.';
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(b.tags as Record<string, unknown>)) {
      if (typeof v !== 'string') return 'tags must be an object of strings.';
      tags[k] = v;
    }
    out.tags = tags;
  }
  return out;
}

/** The body of Set Secret (SecretSetParameters), or an error message [emu wording]. */
function parseSetBody(b: Record<string, unknown> | undefined): SecretInput | string {
  if (!b) return 'The request body must be a JSON object with a value.';
  if (typeof b.value !== 'string') return 'Property value is required and must be a string.';
  if (b.value.length > MAX_VALUE_CHARS) return 'The secret value is too large (Key Vault takes up to 25 KB).';
  const common = parseCommon(b);
  if (typeof common === 'string') return common;
  const attrs = parseAttributes(b.attributes);
  if (typeof attrs === 'string') return attrs;
  return { value: b.value, ...common, ...attrs };
}

/** The body of Update Secret (SecretUpdateParameters), or an error message [emu wording]. */
function parsePatchBody(b: Record<string, unknown> | undefined): SecretPatch | string {
  if (!b) return 'The request body must be a JSON object.';
  const common = parseCommon(b);
  if (typeof common === 'string') return common;
  const attrs = parseAttributes(b.attributes);
  if (typeof attrs === 'string') return attrs;
  return { ...common, ...attrs };
}
