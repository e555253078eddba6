import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { patchMachine } from '../../core/machines/patch.js';
import type { EmulatorState } from '../../core/state.js';
import { type VerifiedBearer, verifyBearer } from '../../core/tokens/bearer.js';
import type { AccessPolicy } from '../../core/world/key-vault.js';
import { type ArmResource, parseResourceId, resourceGroupId } from '../../core/world/resource.js';
import { type ResourceInput, vmTagsPatch } from '../../core/world/world.js';
import { armErrors, type WireError } from '../../errors.js';
import { JSON_CONTENT_TYPE, sendBytes, sendWireError } from '../../server/reply.js';
import { armAuthorizationRoutes } from './authorization.js';
import { parseResourceFilter } from './filter.js';
import {
  genericResourceBody,
  metadataEndpointsArray,
  metadataEndpointsObject,
  resourceBody,
  resourceGroupBody,
  subscriptionBody,
  tenantBody,
} from './render.js';

/**
 * Audiences ARM accepts (ARM's InvalidAuthenticationTokenAudience lists them; one trailing slash is
 * optional). The origin a request reached is accepted too (JS SDKs with `endpoint` ask for `${endpoint}/.default`).
 */
export const ARM_AUDIENCES = ['https://management.azure.com', 'https://management.core.windows.net'];

/** A well-formed api-version: `yyyy-mm-dd` with an optional `-preview` (or other) suffix. */
const API_VERSION = /^\d{4}-\d{2}-\d{2}(-[a-z0-9]+)*$/i;

/** One ARM request, parsed: what every handler needs. */
export interface ArmCall {
  readonly state: EmulatorState;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly method: string;
  /** Path segments as sent (decoded), without the empty first one. */
  readonly segments: readonly string[];
  /** The same, lower-case. */
  readonly lower: readonly string[];
  readonly query: URLSearchParams;
  readonly apiVersion: string;
  readonly bearer: VerifiedBearer;
  /** The origin the request reached, e.g. `https://management.azure.com` or `https://127.0.0.1:8172`. */
  readonly origin: string;
  /** Response headers of this call (request ids). */
  readonly headers: Record<string, string>;
}

/** Sends a JSON body (or none for 204/HEAD) with the call's ARM headers. */
export function sendJson(
  call: ArmCall,
  status: number,
  body?: unknown,
  extra?: Record<string, string>,
): FastifyReply {
  const headers = extra ? { ...call.headers, ...extra } : call.headers;
  if (body === undefined) return call.reply.code(status).headers(headers).send();
  return sendBytes(call.reply, status, JSON_CONTENT_TYPE, Buffer.from(JSON.stringify(body)), headers);
}

/** Sends an ARM error with the call's headers. */
export function sendError(call: Pick<ArmCall, 'reply' | 'headers'>, error: WireError): FastifyReply {
  return sendWireError(call.reply, error, call.headers);
}

/**
 * Checks that the caller may perform `action` at `scope`; sends AuthorizationFailed (403) and returns
 * false when not.
 */
export function authorize(call: ArmCall, action: string, scope: string): boolean {
  const decision = call.state.rbac.check({ principalId: call.bearer.principalId, scope, action });
  if (decision.allowed) return true;
  const oid = call.bearer.principalId;
  sendError(call, armErrors.authorizationFailed(oid, oid, action, scope));
  return false;
}

/**
 * A list at `scope`: everything when the caller may `listAction` there; else the items the caller may
 * read one by one, when it holds some role around the scope; else AuthorizationFailed (undefined).
 */
export function visibleItems<T>(
  call: ArmCall,
  scope: string,
  listAction: string,
  items: readonly T[],
  itemCheck: (item: T) => { action: string; scope: string },
): T[] | undefined {
  const { rbac } = call.state;
  const principalId = call.bearer.principalId;
  if (rbac.check({ principalId, scope, action: listAction }).allowed) return [...items];
  if (!rbac.hasAnyRoleAround(principalId, scope)) {
    sendError(call, armErrors.authorizationFailed(principalId, principalId, listAction, scope));
    return undefined;
  }
  return items.filter((item) => rbac.check({ principalId, ...itemCheck(item) }).allowed);
}

/** Parses a JSON object body; sends InvalidRequestContent and returns undefined when it is not one. */
export function jsonBody(call: ArmCall): Record<string, unknown> | undefined {
  const raw = call.request.body;
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : '';
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      return value as Record<string, unknown>;
    sendError(call, armErrors.invalidRequestContent('the body must be a JSON object'));
  } catch (error) {
    sendError(call, armErrors.invalidRequestContent((error as Error).message));
  }
  return undefined;
}

const READ_HEADER = { 'x-ms-ratelimit-remaining-subscription-reads': '11999' };
const WRITE_HEADER = { 'x-ms-ratelimit-remaining-subscription-writes': '1199' };
const DELETE_HEADER = { 'x-ms-ratelimit-remaining-subscription-deletes': '14999' };

// `x-ms-routing-request-id`'s time part (`20261130T164512Z`), rendered once a second.
let stampSecond = -1;
let stampText = '';
function routingStamp(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== stampSecond) {
    stampSecond = second;
    stampText = new Date(second * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  }
  return stampText;
}

/** Headers ARM puts on every response: request ids and no caching. */
function callHeaders(request: FastifyRequest): Record<string, string> {
  const requestId = randomUUID();
  const given = request.headers['x-ms-correlation-request-id'];
  const correlation = typeof given === 'string' && given.length <= 100 ? given : requestId;
  const stamp = routingStamp();
  return {
    'cache-control': 'no-cache',
    pragma: 'no-cache',
    expires: '-1',
    'x-ms-request-id': requestId,
    'x-ms-correlation-request-id': correlation,
    'x-ms-routing-request-id': `WESTEUROPE:${stamp}:${requestId}`,
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'x-content-type-options': 'nosniff',
    ...(request.method === 'GET' || request.method === 'HEAD'
      ? READ_HEADER
      : request.method === 'DELETE'
        ? DELETE_HEADER
        : WRITE_HEADER),
  };
}

/** The origin a request reached (scheme from the socket, or https for Azure's own host names). */
function originOf(request: FastifyRequest): string {
  const host = request.headers.host ?? 'management.azure.com';
  const https = request.protocol === 'https' || /(^|\.)(azure\.com|windows\.net)(:\d+)?$/i.test(host);
  return `${https ? 'https' : 'http'}://${host}`;
}

/** Maps a bearer failure to ARM's 401. */
function authenticationError(
  state: EmulatorState,
  failure: string,
  authorization: string | undefined,
): WireError {
  const claims = decodeClaims(authorization);
  switch (failure) {
    case 'missing':
      return armErrors.authenticationMissing;
    case 'malformed':
      return /^\s*bearer\s/i.test(authorization ?? '')
        ? armErrors.invalidToken
        : armErrors.authenticationInvalidHeader;
    case 'expired':
      return armErrors.expiredToken(Number(claims.exp) || 0, Math.floor(state.clock.now() / 1000));
    case 'not-yet-valid':
      return armErrors.notYetValidToken(Number(claims.nbf) || 0);
    case 'wrong-audience':
      return armErrors.wrongAudience(String(claims.aud ?? ''));
    case 'wrong-issuer':
      return armErrors.wrongIssuer(String(claims.iss ?? ''), state.identities.tenantId);
    default:
      return armErrors.invalidToken;
  }
}

/** The claims of a JWT without verifying it (only to word an error about a token already refused). */
function decodeClaims(authorization: string | undefined): Record<string, unknown> {
  try {
    const payload = (authorization ?? '').trim().split(/\s+/)[1]?.split('.')[1] ?? '';
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * Azure Resource Manager (docs/arm.md): one catch-all route that parses the path case-insensitively,
 * authenticates the bearer token (azimds's own tokens only), checks the api-version, authorizes the
 * action derived from method and resource type against the world's RBAC, and answers from the world.
 */
export const armPlugin: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const headers = callHeaders(request);
    const url = request.url;
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    let segments: string[];
    try {
      segments = rawPath
        .split('/')
        .filter((s) => s !== '')
        .map((s) => decodeURIComponent(s));
    } catch {
      return sendError({ reply, headers }, armErrors.noRoute(request.method, rawPath));
    }
    const lower = segments.map((s) => s.toLowerCase());
    const origin = originOf(request);
    const apiVersion = query.get('api-version') ?? '';

    // Cloud metadata needs no token (az cloud register, ARM_CLOUD_METADATA_URL).
    if (lower.length === 2 && lower[0] === 'metadata' && lower[1] === 'endpoints') {
      if (request.method !== 'GET')
        return sendError({ reply, headers }, armErrors.methodNotAllowed(request.method));
      const array = apiVersion !== '' && apiVersion >= '2019-05-01';
      const body = array ? metadataEndpointsArray(`${origin}/`) : metadataEndpointsObject();
      return sendBytes(reply, 200, JSON_CONTENT_TYPE, Buffer.from(JSON.stringify(body)), headers);
    }

    const authorization = request.headers.authorization;
    const verified = await verifyBearer(state, authorization, [...ARM_AUDIENCES, origin]);
    if (!verified.ok) {
      return sendError({ reply, headers }, authenticationError(state, verified.failure, authorization));
    }
    if (apiVersion === '') return sendError({ reply, headers }, armErrors.missingApiVersion);
    if (!API_VERSION.test(apiVersion))
      return sendError({ reply, headers }, armErrors.invalidApiVersion(apiVersion));

    const call: ArmCall = {
      state,
      request,
      reply,
      method: request.method,
      segments,
      lower,
      query,
      apiVersion,
      bearer: verified.bearer,
      origin,
      headers,
    };
    return route(call);
  };
  app.all('/', handler);
  app.all('/*', handler);
};

/** Dispatches a call by its path. */
function route(call: ArmCall): FastifyReply {
  const { lower, method } = call;
  // {scope}/providers/Microsoft.Authorization/{roleAssignments|roleDefinitions}[/{name}]
  for (let i = lower.length - 2; i >= 0; i--) {
    if (lower[i] === 'providers' && lower[i + 1] === 'microsoft.authorization') {
      return armAuthorizationRoutes(call, i);
    }
  }
  const n = lower.length;
  if (n === 1 && lower[0] === 'tenants') return onlyGet(call) ?? listTenants(call);
  if (lower[0] !== 'subscriptions')
    return sendError(call, armErrors.noRoute(method, `/${call.segments.join('/')}`));
  if (n === 1) return onlyGet(call) ?? listSubscriptions(call);
  const subscriptionId = call.segments[1] as string;
  const subScope = `/subscriptions/${subscriptionId}`;
  const subscription = call.state.world.subscription(subscriptionId);
  if (n === 2) {
    if (onlyGet(call)) return call.reply;
    if (!subscription || !call.state.rbac.hasAnyRoleAround(call.bearer.principalId, subScope)) {
      return sendError(call, armErrors.subscriptionNotFound(subscriptionId));
    }
    return sendJson(call, 200, subscriptionBody(subscription));
  }
  if (!subscription) return sendError(call, armErrors.subscriptionNotFound(subscriptionId));
  if (lower[2] === 'resourcegroups') {
    if (n === 3) return onlyGet(call) ?? listResourceGroups(call, subscriptionId);
    const group = call.segments[3] as string;
    if (n === 4) return resourceGroupOperation(call, subscriptionId, group);
    if (n === 5 && lower[4] === 'resources')
      return onlyGet(call) ?? listResources(call, subscriptionId, group);
    if (lower[4] === 'providers' && n >= 7) return providerPath(call, subscriptionId, group, 4);
  } else if (lower[2] === 'resources' && n === 3) {
    return onlyGet(call) ?? listResources(call, subscriptionId);
  } else if (lower[2] === 'operationresults' && n === 4) {
    // The Location of a resource group DELETE: the deletion completed when it was accepted.
    return onlyGet(call) ?? sendJson(call, 200);
  } else if (lower[2] === 'providers' && n === 4) {
    return onlyGet(call) ?? providerRegistration(call, subscriptionId, call.segments[3] as string);
  } else if (lower[2] === 'providers' && n === 5) {
    return onlyGet(call) ?? listProviderType(call, subscriptionId, undefined, 2);
  }
  return sendError(call, armErrors.noRoute(method, `/${call.segments.join('/')}`));
}

/** Sends 405 unless GET; returns undefined when the call may go on. */
function onlyGet(call: ArmCall): FastifyReply | undefined {
  return call.method === 'GET' ? undefined : sendError(call, armErrors.methodNotAllowed(call.method));
}

function listTenants(call: ArmCall): FastifyReply {
  const tenantId = call.state.world.tenantId;
  return sendJson(call, 200, { value: [tenantBody(tenantId)] });
}

/** Subscriptions where the caller holds some role (at, above or below the subscription), as ARM lists them. */
function listSubscriptions(call: ArmCall): FastifyReply {
  const { world, rbac } = call.state;
  const value = world
    .subscriptions()
    .filter((s) => rbac.hasAnyRoleAround(call.bearer.principalId, `/subscriptions/${s.subscriptionId}`))
    .map(subscriptionBody);
  return sendJson(call, 200, { value, count: { type: 'Total', value: value.length } });
}

const RG_TYPE = 'Microsoft.Resources/subscriptions/resourceGroups';

function listResourceGroups(call: ArmCall, subscriptionId: string): FastifyReply {
  const scope = `/subscriptions/${subscriptionId}`;
  const groups = visibleItems(
    call,
    scope,
    `${RG_TYPE}/read`,
    call.state.world.resourceGroups(subscriptionId),
    (g) => ({
      action: `${RG_TYPE}/read`,
      scope: g.id,
    }),
  );
  if (!groups) return call.reply;
  return sendJson(call, 200, { value: groups.map(resourceGroupBody) });
}

const RG_NAME = /^[-\w._()]{1,90}$/;

function resourceGroupOperation(call: ArmCall, subscriptionId: string, name: string): FastifyReply {
  const { world } = call.state;
  const scope = resourceGroupId(subscriptionId, name);
  const existing = world.resourceGroup(subscriptionId, name);
  switch (call.method) {
    case 'GET':
    case 'HEAD': {
      if (!authorize(call, `${RG_TYPE}/read`, scope)) return call.reply;
      if (call.method === 'HEAD') return sendJson(call, existing ? 204 : 404);
      if (!existing) return sendError(call, armErrors.resourceGroupNotFound(name));
      return sendJson(call, 200, resourceGroupBody(existing));
    }
    case 'PUT': {
      if (!authorize(call, `${RG_TYPE}/write`, scope)) return call.reply;
      if (!RG_NAME.test(name) || name.endsWith('.'))
        return sendError(call, armErrors.invalidResourceGroupName(name));
      const body = jsonBody(call);
      if (!body) return call.reply;
      const location = typeof body.location === 'string' ? body.location : '';
      if (!location) return sendError(call, armErrors.locationRequired);
      if (existing && normalizeLocation(existing.location) !== normalizeLocation(location)) {
        return sendError(
          call,
          armErrors.invalidResourceGroupLocation(location, existing.location, existing.name),
        );
      }
      const tags = stringRecord(body.tags);
      const result = world.putResourceGroup(subscriptionId, name, {
        location: existing?.location ?? location.replaceAll(' ', '').toLowerCase(),
        ...(tags ? { tags } : {}),
        ...(typeof body.managedBy === 'string' ? { managedBy: body.managedBy } : {}),
      });
      if (!result) return sendError(call, armErrors.subscriptionNotFound(subscriptionId));
      return sendJson(call, result.created ? 201 : 200, resourceGroupBody(result.group));
    }
    case 'PATCH': {
      if (!authorize(call, `${RG_TYPE}/write`, scope)) return call.reply;
      if (!existing) return sendError(call, armErrors.resourceGroupNotFound(name));
      const body = jsonBody(call);
      if (!body) return call.reply;
      const tags = stringRecord(body.tags);
      const group = world.patchResourceGroup(subscriptionId, name, {
        ...(tags ? { tags } : {}),
        ...(typeof body.managedBy === 'string' ? { managedBy: body.managedBy } : {}),
      });
      return group
        ? sendJson(call, 200, resourceGroupBody(group))
        : sendError(call, armErrors.resourceGroupNotFound(name));
    }
    case 'DELETE': {
      if (!authorize(call, `${RG_TYPE}/delete`, scope)) return call.reply;
      const outcome = world.deleteResourceGroup(subscriptionId, name);
      if (outcome === 'not-found') return sendError(call, armErrors.resourceGroupNotFound(name));
      if (outcome === 'holds-vm') return sendError(call, armErrors.groupHoldsVm(name));
      const token = Buffer.from(`RESOURCEGROUPDELETIONJOB-${name.toUpperCase()}`).toString('base64url');
      return sendJson(call, 202, undefined, {
        location: `${call.origin}/subscriptions/${subscriptionId}/operationresults/${token}?api-version=${call.apiVersion}`,
        'retry-after': '0',
      });
    }
    default:
      return sendError(call, armErrors.methodNotAllowed(call.method));
  }
}

function normalizeLocation(location: string): string {
  return location.replaceAll(' ', '').toLowerCase();
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

/** `GET /subscriptions/{s}/resources` and `…/resourceGroups/{rg}/resources`, with `$filter` and `$expand`. */
function listResources(call: ArmCall, subscriptionId: string, group?: string): FastifyReply {
  const { world } = call.state;
  const filterText = call.query.get('$filter');
  const filter = filterText ? parseResourceFilter(filterText) : {};
  if (!filter) return sendError(call, armErrors.invalidFilter(filterText ?? ''));
  const scope = group ? resourceGroupId(subscriptionId, group) : `/subscriptions/${subscriptionId}`;
  const listAction = group
    ? 'Microsoft.Resources/subscriptions/resourceGroups/resources/read'
    : 'Microsoft.Resources/subscriptions/resources/read';
  const inGroup = group ?? filter.resourceGroup;
  const candidates = world.resources({
    subscriptionId,
    ...(inGroup ? { resourceGroup: inGroup } : {}),
    ...(filter.resourceType ? { type: filter.resourceType } : {}),
    ...(filter.name ? { name: filter.name } : {}),
  });
  const tagged = candidates.filter((r) => {
    if (filter.tagName === undefined) return true;
    const entry = Object.entries(r.tags ?? {}).find(
      ([k]) => k.toLowerCase() === filter.tagName?.toLowerCase(),
    );
    return entry !== undefined && (filter.tagValue === undefined || entry[1] === filter.tagValue);
  });
  const visible = visibleItems(call, scope, listAction, tagged, (r) => ({
    action: `${r.type}/read`,
    scope: r.id,
  }));
  if (!visible) return call.reply;
  if (group && !world.resourceGroup(subscriptionId, group))
    return sendError(call, armErrors.resourceGroupNotFound(group));
  const expand = new Set(
    (call.query.get('$expand') ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  return sendJson(call, 200, { value: visible.map((r) => genericResourceBody(r, expand)) });
}

/** `GET /subscriptions/{s}/providers/{namespace}`: every namespace reads as registered. */
function providerRegistration(call: ArmCall, subscriptionId: string, namespace: string): FastifyReply {
  return sendJson(call, 200, {
    id: `/subscriptions/${subscriptionId}/providers/${namespace}`,
    namespace,
    registrationState: 'Registered',
    registrationPolicy: 'RegistrationRequired',
    resourceTypes: [],
  });
}

/**
 * `…/providers/{ns}/{type}[/{name}[/{childType}[/{childName}…]]]` below a resource group (from segment
 * `at`, which is `providers`): a list of one type, or one resource.
 */
function providerPath(call: ArmCall, subscriptionId: string, group: string, at: number): FastifyReply {
  const tail = call.segments.slice(at + 1);
  // tail: ns, type, name, childType, childName, ...
  if (tail.length % 2 === 0) return onlyGet(call) ?? listProviderType(call, subscriptionId, group, at);
  const lowerTail = tail.map((s) => s.toLowerCase());
  if (
    lowerTail[0] === 'microsoft.keyvault' &&
    lowerTail[1] === 'vaults' &&
    lowerTail[3] === 'accesspolicies' &&
    tail.length === 5
  ) {
    return accessPolicies(call, subscriptionId, group, tail);
  }
  return resourceOperation(call, `/${call.segments.join('/')}`);
}

/** A list of one type (or of a parent's children), at a subscription or a resource group. */
function listProviderType(
  call: ArmCall,
  subscriptionId: string,
  group: string | undefined,
  at: number,
): FastifyReply {
  const tail = call.segments.slice(at + 1);
  const namespace = tail[0] as string;
  const types = tail.filter((_, i) => i % 2 === 1);
  const type = `${namespace}/${types.join('/')}`;
  const { world } = call.state;
  const scope = group ? resourceGroupId(subscriptionId, group) : `/subscriptions/${subscriptionId}`;
  const parentPrefix =
    tail.length > 2 ? `${scope}/providers/${tail.slice(0, -1).join('/')}/`.toLowerCase() : undefined;
  if (parentPrefix && !world.resource(parentPrefix.slice(0, -1))) {
    if (!authorize(call, `${type}/read`, scope)) return call.reply;
    const parent = parseResourceId(parentPrefix.slice(0, -1));
    return sendError(call, armErrors.resourceNotFound(parent?.type ?? type, parent?.name ?? '', group ?? ''));
  }
  const items = world
    .resources({ subscriptionId, ...(group ? { resourceGroup: group } : {}), type })
    .filter((r) => !parentPrefix || r.id.toLowerCase().startsWith(parentPrefix));
  const visible = visibleItems(call, scope, `${type}/read`, items, (r) => ({
    action: `${r.type}/read`,
    scope: r.id,
  }));
  if (!visible) return call.reply;
  if (group && !world.resourceGroup(subscriptionId, group))
    return sendError(call, armErrors.resourceGroupNotFound(group));
  return sendJson(call, 200, { value: visible.map(resourceBody) });
}

/** The type of a resource id as written in the path (`Namespace/type[/child]`). */
function typeOfPath(id: string): string {
  return parseResourceId(id)?.type ?? '';
}

/** GET, PUT, PATCH, DELETE of one resource of any type. */
function resourceOperation(call: ArmCall, id: string): FastifyReply {
  const { world } = call.state;
  const parts = parseResourceId(id);
  if (!parts) return sendError(call, armErrors.noRoute(call.method, id));
  const existing = world.resource(id);
  const type = existing?.type ?? typeOfPath(id);
  const notFound = () => sendError(call, armErrors.resourceNotFound(type, parts.name, parts.resourceGroup));
  switch (call.method) {
    case 'GET':
    case 'HEAD': {
      if (!authorize(call, `${type}/read`, id)) return call.reply;
      if (!existing) {
        if (!world.resourceGroup(parts.subscriptionId, parts.resourceGroup)) {
          return sendError(call, armErrors.resourceGroupNotFound(parts.resourceGroup));
        }
        return call.method === 'HEAD' ? sendJson(call, 404) : notFound();
      }
      return call.method === 'HEAD' ? sendJson(call, 204) : sendJson(call, 200, resourceBody(existing));
    }
    case 'PUT': {
      if (!authorize(call, `${type}/write`, id)) return call.reply;
      const body = jsonBody(call);
      if (!body) return call.reply;
      const input = resourceInput(body);
      if (typeof input === 'string') return sendError(call, armErrors.invalidRequest(input));
      if (existing?.origin === 'derived') return sendError(call, armErrors.readOnlyResource(existing.id));
      const result = world.putResource(id, input);
      if (!result.ok) return putFailure(call, result.error, parts, id);
      return sendJson(call, result.created ? 201 : 200, resourceBody(result.resource));
    }
    case 'PATCH': {
      if (!authorize(call, `${type}/write`, id)) return call.reply;
      if (!existing)
        return world.resourceGroup(parts.subscriptionId, parts.resourceGroup)
          ? notFound()
          : sendError(call, armErrors.resourceGroupNotFound(parts.resourceGroup));
      const body = jsonBody(call);
      if (!body) return call.reply;
      const input = resourceInput(body);
      if (typeof input === 'string') return sendError(call, armErrors.invalidRequest(input));
      if (existing.origin === 'derived') return patchDerived(call, existing, body);
      const updated = world.patchResource(existing.id, input);
      return typeof updated === 'string' ? notFound() : sendJson(call, 200, resourceBody(updated));
    }
    case 'DELETE': {
      if (!authorize(call, `${type}/delete`, id)) return call.reply;
      if (!existing) return sendJson(call, 204);
      const outcome = world.deleteResource(existing.id);
      if (outcome === 'read-only') return sendError(call, armErrors.readOnlyResource(existing.id));
      return sendJson(call, 200);
    }
    default:
      return sendError(call, armErrors.methodNotAllowed(call.method));
  }
}

function putFailure(
  call: ArmCall,
  error: string,
  parts: NonNullable<ReturnType<typeof parseResourceId>>,
  id: string,
): FastifyReply {
  switch (error) {
    case 'subscription-not-found':
      return sendError(call, armErrors.subscriptionNotFound(parts.subscriptionId));
    case 'resource-group-not-found':
      return sendError(call, armErrors.resourceGroupNotFound(parts.resourceGroup));
    case 'read-only':
      return sendError(call, armErrors.readOnlyResource(id));
    case 'parent-not-found':
      return sendError(call, armErrors.parentResourceNotFound(id.split('/').slice(0, -2).join('/')));
    default:
      return sendError(call, armErrors.noRoute(call.method, id));
  }
}

/** The emulated VM takes tag changes through ARM (IMDS serves them at once); the rest is read-only. */
function patchDerived(call: ArmCall, existing: ArmResource, body: Record<string, unknown>): FastifyReply {
  const { world } = call.state;
  const vm = world.vms().find((d) => d.vm.id.toLowerCase() === existing.id.toLowerCase());
  const onlyTags = Object.keys(body).every((k) => k === 'tags');
  const tags = stringRecord(body.tags);
  if (!vm || !onlyTags || !tags) return sendError(call, armErrors.readOnlyResource(existing.id));
  const result = patchMachine(vm.machine, vmTagsPatch(vm.machine, tags));
  if (!result.ok) return sendError(call, armErrors.invalidRequest(result.message));
  const updated = world.resource(existing.id) ?? existing;
  return sendJson(call, 200, resourceBody(updated));
}

/** The envelope of a PUT/PATCH body, or a message saying which field has the wrong type. */
function resourceInput(body: Record<string, unknown>): ResourceInput | string {
  const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (body.location !== undefined && typeof body.location !== 'string') return "'location' must be a string";
  if (body.tags !== undefined && !isObject(body.tags)) return "'tags' must be an object";
  if (body.properties !== undefined && !isObject(body.properties)) return "'properties' must be an object";
  if (body.sku !== undefined && !isObject(body.sku)) return "'sku' must be an object";
  if (body.identity !== undefined && !isObject(body.identity)) return "'identity' must be an object";
  if (body.zones !== undefined && !Array.isArray(body.zones)) return "'zones' must be an array";
  const tags = stringRecord(body.tags);
  return {
    ...(typeof body.location === 'string'
      ? { location: body.location.replaceAll(' ', '').toLowerCase() }
      : {}),
    ...(tags ? { tags } : {}),
    ...(typeof body.kind === 'string' ? { kind: body.kind } : {}),
    ...(isObject(body.sku) ? { sku: body.sku as Record<string, unknown> } : {}),
    ...(isObject(body.identity) ? { identity: body.identity as Record<string, unknown> } : {}),
    ...(Array.isArray(body.zones) ? { zones: body.zones.map(String) } : {}),
    ...(typeof body.managedBy === 'string' ? { managedBy: body.managedBy } : {}),
    ...(isObject(body.properties) ? { properties: body.properties as Record<string, unknown> } : {}),
  };
}

/** `PUT …/vaults/{v}/accessPolicies/{add|replace|remove}` (Vaults_UpdateAccessPolicy; az keyvault set-policy). */
function accessPolicies(
  call: ArmCall,
  subscriptionId: string,
  group: string,
  tail: readonly string[],
): FastifyReply {
  const vaultId = `${resourceGroupId(subscriptionId, group)}/providers/Microsoft.KeyVault/vaults/${tail[2]}`;
  const operation = (tail[4] as string).toLowerCase();
  const action = 'Microsoft.KeyVault/vaults/accessPolicies/write';
  if (call.method !== 'PUT') return sendError(call, armErrors.methodNotAllowed(call.method));
  if (!authorize(call, action, vaultId)) return call.reply;
  if (operation !== 'add' && operation !== 'replace' && operation !== 'remove') {
    return sendError(
      call,
      armErrors.invalidRequest(
        `The access policy operation '${tail[4]}' is not one of add, replace, remove.`,
      ),
    );
  }
  const body = jsonBody(call);
  if (!body) return call.reply;
  const properties = body.properties as { accessPolicies?: unknown } | undefined;
  const policies = properties?.accessPolicies;
  if (!Array.isArray(policies) || policies.some((p) => !isPolicy(p))) {
    return sendError(
      call,
      armErrors.invalidRequest(
        "'properties.accessPolicies' must be a list of {tenantId, objectId, permissions}",
      ),
    );
  }
  const updated = call.state.world.updateAccessPolicies(vaultId, operation, policies as AccessPolicy[]);
  if (!updated) {
    if (!call.state.world.resourceGroup(subscriptionId, group))
      return sendError(call, armErrors.resourceGroupNotFound(group));
    return sendError(call, armErrors.resourceNotFound('Microsoft.KeyVault/vaults', tail[2] as string, group));
  }
  return sendJson(call, 200, {
    id: `${updated.id}/accessPolicies/${operation}`,
    type: 'Microsoft.KeyVault/vaults/accessPolicies',
    location: updated.location,
    properties: { accessPolicies: policies },
  });
}

function isPolicy(p: unknown): boolean {
  if (p === null || typeof p !== 'object') return false;
  const o = p as Record<string, unknown>;
  return (
    typeof o.tenantId === 'string' &&
    typeof o.objectId === 'string' &&
    o.permissions !== null &&
    typeof o.permissions === 'object'
  );
}
