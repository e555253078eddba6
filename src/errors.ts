/**
 * The one table of errors. Two kinds live here:
 *
 * - **Wire errors**: every error response a client of an emulated Azure endpoint can receive, with
 *   Azure's status, headers and body. Protocol plugins never build error bodies by hand; they pick an
 *   entry (or call a factory for bodies that carry request details) and send it.
 * - **`AzimdsError`**: the emulator's own failures (bad configuration, a port in use, ...), with a
 *   string `code` that callers can `switch` on.
 *
 * Bodies are serialized once at module load: an error path is as cheap as a success path.
 */

/** A ready-to-send HTTP error response. */
export interface WireError {
  readonly status: number;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Serialized body bytes. */
  readonly body: Buffer;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Builds a JSON wire error; the body is serialized once, here. */
export function jsonError(status: number, body: unknown, headers?: Record<string, string>): WireError {
  return {
    status,
    contentType: JSON_TYPE,
    body: Buffer.from(JSON.stringify(body)),
    ...(headers ? { headers } : {}),
  };
}

/** The three newest IMDS versions, newest first, quoted in api-version errors. */
export type NewestVersions = readonly string[];

/**
 * IMDS errors for the metadata categories (instance, versions, attested, loadbalancer, scheduledevents).
 * Wording from Microsoft's docs and observed responses; see docs/wire-fidelity.md for provenance.
 */
export const imdsErrors = {
  /** 400: no `Metadata: true` header. Observed body of the instance endpoint. */
  metadataHeaderMissing: jsonError(400, { error: 'Bad request. Required metadata header not specified' }),
  /** 400: a request carrying X-Forwarded-For (IMDS must not be reached through a proxy). */
  forwardedForNotAllowed: jsonError(400, { error: 'Bad request. X-Forwarded-For header is not allowed' }),
  /** 400: the same query parameter twice. */
  duplicateQueryParameter: jsonError(400, {
    error: 'Bad request. Duplicate query parameters are not allowed',
  }),
  /** 400: a leaf node asked for as JSON. */
  leafNeedsTextFormat: jsonError(400, {
    error: 'Bad request. Leaf nodes are only supported with format=text',
  }),
  /** 404: an element below a category that does not exist (unknown key, index out of range). */
  notFound: jsonError(404, { error: 'Not found' }),
  /** 429: the per-source rate limit was exceeded. */
  tooManyRequests: jsonError(429, { error: 'Too many requests' }, { 'Retry-After': '1' }),
} as const;

/**
 * `POST /metadata/scheduledevents` (StartRequests). Azure documents "400 if the header or payload is
 * malformed" and 200 for any valid EventId, not the bodies: these are worded in IMDS's style.
 */
export const scheduledEventsErrors = {
  /** 400: the body is not JSON. */
  bodyNotJson: jsonError(400, { error: 'Bad request. The request body is not valid JSON' }),
  /** 400: JSON without a `StartRequests` list of `{"EventId": "<id>"}` objects. */
  startRequestsMalformed: jsonError(400, {
    error: 'Bad request. The request body must be {"StartRequests":[{"EventId":"<id>"}]}',
  }),
} as const;

/** 400: a StartRequest names an EventId that is not in the current document. */
export function unknownEventId(id: string): WireError {
  return jsonError(400, { error: `Bad request. EventId "${id}" is not a current scheduled event` });
}

/** 404 of `/metadata/loadbalancer` when the VM is behind no Standard load balancer (Microsoft's troubleshooting doc). */
export const loadBalancerNotFound = jsonError(404, {
  error:
    'No load balancer metadata is found. Check if your virtual machine is using any nonbasic SKU load balancer and retry later.',
});

/** 500 of IMDS-shaped surfaces when azimds itself fails (a bug): the request is answered, never dropped. */
export const internalServerError = jsonError(500, { error: 'Internal server error' });

/** A 4xx fastify raises itself (bad URL encoding, unreadable body), in IMDS's bad-request shape. */
export function malformedRequest(status: number): WireError {
  return imdsRefusal(status, 'Bad request. Malformed request.');
}

const refusals = new Map<string, WireError>();

/**
 * A refusal below the routes (foreign Host, cross-site, malformed or timed-out request, odd Expect,
 * CONNECT; see server/host-guard.ts, server/connection-guards.ts) in IMDS's shape, `{"error": message}`:
 * the default of `SurfaceErrors.refused`. Built once per status and message.
 */
export function imdsRefusal(status: number, message: string): WireError {
  const key = `${status}|${message}`;
  let error = refusals.get(key);
  if (!error) {
    error = jsonError(status, { error: message });
    refusals.set(key, error);
  }
  return error;
}

/** The same refusal in the OAuth shape of a token endpoint (VM extension, Cloud Shell): `invalid_request`. */
export function oauthRefusal(status: number, message: string): WireError {
  const key = `oauth|${status}|${message}`;
  let error = refusals.get(key);
  if (!error) {
    error = oauthError(status, status === 403 ? 'access_denied' : 'invalid_request', message);
    refusals.set(key, error);
  }
  return error;
}

/** PascalCase codes of the statuses refusals use (RFC 9110 reason phrases without spaces). */
const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  408: 'RequestTimeout',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  417: 'ExpectationFailed',
  431: 'RequestHeaderFieldsTooLarge',
};

/** A PascalCase error code for a status (`408` -> `RequestTimeout`), for code-carrying shapes (Service Fabric, control API). */
export function statusCode(status: number): string {
  return STATUS_NAMES[status] ?? (status >= 500 ? 'InternalServerError' : 'BadRequest');
}

/** 400: api-version missing or not supported; lists the newest versions as Azure does. */
export function apiVersionInvalid(newest: NewestVersions): WireError {
  return jsonError(400, {
    error:
      'Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds',
    'newest-versions': newest,
  });
}

/** 400: a query parameter value IMDS does not accept (e.g. `format=xml`). */
export function parameterValueNotAllowed(name: string, value: string): WireError {
  return jsonError(400, {
    error: `Parameter value is not allowed, or parameter value "${value}" is not allowed for parameter "${name}". Fix the request and retry.`,
  });
}

/** 404: no API at this path. */
export function apiNotFound(path: string, method: string): WireError {
  return jsonError(404, { error: `API is not found: Path = "${path}", Method = "${method}"` });
}

/** An OAuth-style error (`{"error","error_description"}`), the shape of every token endpoint's errors. */
function oauthError(
  status: number,
  error: string,
  description: string,
  headers?: Record<string, string>,
): WireError {
  return jsonError(status, { error, error_description: description }, headers);
}

/**
 * Errors of the managed-identity endpoints on IMDS (`/metadata/identity/oauth2/token` and `/info`).
 * Provenance as in protocols.md §6.4: [obs] seen in real responses, [emu] azimds's wording where Azure's
 * is not known. Clients branch on the status only (400: identity unavailable; 429/5xx: retry).
 */
export const identityErrors = {
  /** 400 [obs]: no `Metadata: true` header; also the instant answer to the SDKs' availability probe. */
  metadataHeaderMissing: oauthError(400, 'invalid_request', 'Required metadata header not specified'),
  /** 400 [emu]: a request that came through a proxy. */
  forwardedForNotAllowed: oauthError(400, 'invalid_request', 'X-Forwarded-For header is not allowed'),
  /** 400 [emu]: the same query parameter twice. */
  duplicateQueryParameter: oauthError(400, 'invalid_request', 'Duplicate query parameters are not allowed'),
  /** 400 [obs]: api-version missing, unknown, or older than 2018-02-01. */
  apiVersionInvalid: oauthError(400, 'invalid_request', "Invalid 'api-version' requested"),
  /** 400 [obs]: no `resource` parameter (or an empty one). */
  resourceMissing: oauthError(400, 'invalid_request', 'Required audience parameter not specified'),
  /** 400 [obs]: the selector names no assigned identity, or the VM has none. */
  identityNotFound: oauthError(400, 'invalid_request', 'Identity not found'),
  /** 400 [obs]: no selector, no system-assigned identity, several user-assigned ones. */
  multipleUserAssigned: oauthError(
    400,
    'invalid_request',
    'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request',
  ),
  /** 400 [emu]: more than one of client_id, object_id, msi_res_id (Azure documents them as exclusive). */
  severalSelectors: oauthError(
    400,
    'invalid_request',
    'Only one of client_id, object_id and msi_res_id may be specified in the token request',
  ),
  /** 429 [emu; code from the REST spec]: over the identity category's rate limit (20 requests/s). */
  tooManyRequests: oauthError(429, 'too_many_requests', 'Too many requests', { 'Retry-After': '1' }),
} as const;

/** 400 [doc paraphrase]: Entra does not know the resource; `description` is its AADSTS500011 text. */
export function invalidResource(description: string): WireError {
  return oauthError(400, 'invalid_resource', description);
}

/** 500 [doc paraphrase]: the token source failed (issue 6's real sources); `reason` never holds a secret. */
export function tokenSourceFailed(reason: string): WireError {
  return oauthError(500, 'unknown', `Failed to retrieve token from the Active directory. ${reason}`);
}

/** 400 of Entra's discovery endpoints for a tenant it does not know (AADSTS90002). */
export function tenantNotFound(tenant: string): WireError {
  return oauthError(
    400,
    'invalid_tenant',
    `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. This emulator serves only its configured tenant.`,
  );
}

/** 405: the path exists but not for this verb. */
export function methodNotAllowed(path: string, method: string, allow: string): WireError {
  return jsonError(
    405,
    { error: `Http method is not allowed: Path = "${path}", Method = "${method}"` },
    { Allow: allow },
  );
}

/**
 * Which error body a surface speaks when fault injection answers for it: `metadata` is IMDS's
 * metadata categories (`{"error":"..."}`), `identity` the token endpoints (`{"error","error_description"}`
 * with the REST spec's error codes).
 */
export type FaultErrorShape = 'metadata' | 'identity';

/**
 * The unhealthy answers fault injection sends (docs/faults.md), by shape and status. Azure documents
 * the statuses and the clients' reactions (retry 404/410/429/5xx; Retry-After honoured), not these
 * bodies: the wording is the emulator's, in each surface's shape. 410 on the identity endpoint has an
 * empty body, as observed.
 */
const faultBodies: Record<FaultErrorShape, Record<number, unknown>> = {
  metadata: {
    404: { error: 'Not found' },
    410: { error: 'Gone. IMDS is being updated; retry the request' },
    429: { error: 'Too many requests' },
    500: { error: 'Internal server error' },
    503: { error: 'Service unavailable' },
  },
  identity: {
    404: { error: 'not_found', error_description: 'IMDS is being updated; retry the request' },
    429: { error: 'too_many_requests', error_description: 'Too many requests' },
    500: {
      error: 'unknown',
      error_description: 'Failed to retrieve token from the Active directory. Retry the request',
    },
    503: { error: 'service_unavailable', error_description: 'Service unavailable; retry the request' },
  },
};
const faultErrorCache = new Map<string, WireError>();

/**
 * The wire error fault injection sends for `status` in `shape`, with `Retry-After: retryAfter` when
 * given (429/503). Built once per combination.
 */
export function faultError(shape: FaultErrorShape, status: number, retryAfter?: number): WireError {
  const key = `${shape}|${status}|${retryAfter}`;
  let error = faultErrorCache.get(key);
  if (!error) {
    const headers = retryAfter === undefined ? undefined : { 'Retry-After': String(retryAfter) };
    const body = faultBodies[shape][status];
    error =
      body === undefined
        ? { status, contentType: JSON_TYPE, body: Buffer.alloc(0), ...(headers ? { headers } : {}) }
        : jsonError(status, body, headers);
    faultErrorCache.set(key, error);
  }
  return error;
}

/**
 * Errors of the emulator's control API (not an Azure surface): `{"error":{"code","message"}}`, the
 * shape of Azure Resource Manager errors, so a client reads them the way it reads ARM's.
 */
export function controlError(status: number, code: string, message: string): WireError {
  return jsonError(status, { error: { code, message } });
}

/*
 * Managed-identity platforms other than IMDS (protocols.md §7, docs/platforms/*.md). Each platform
 * has its own error shape; where Azure's wording is not known the text is azimds's [emu], in the
 * platform's shape, and the status is the one the SDKs react to as they do on Azure.
 */

/**
 * Azure Arc's HIMDS token endpoint. Its 400s are IMDS's (`identityErrors`); these are its own. Every
 * 401 also carries `WWW-Authenticate: Basic realm=<new challenge file>` (added when sent), so a client
 * that presented a wrong, used or expired secret can read the new file and retry.
 */
export const arcErrors = {
  /** 401 [doc: status and header; body emu]: the first request of the handshake, without Authorization. */
  challenge: oauthError(
    401,
    'unauthorized_client',
    'Authorization required: read the secret from the file named in the WWW-Authenticate realm and retry with "Authorization: Basic <secret>"',
  ),
  /** 401 [emu]: the secret is not one this agent issued, was used already, or expired. */
  secretRejected: oauthError(
    401,
    'unauthorized_client',
    'The secret in the Authorization header is unknown, already used or expired (each is single-use and short-lived); read the new file named in the WWW-Authenticate realm and retry',
  ),
  /** 404 [sdk: status seen by MSAL from agents with user-assigned support; body emu]: the selector names no identity of the machine. */
  identityNotFound: oauthError(404, 'invalid_request', 'Identity not found'),
  /** 500 [emu]: the challenge file could not be written. */
  challengeFailed: oauthError(500, 'unknown', 'The agent could not create the challenge file'),
} as const;

/**
 * The legacy VM extension's `POST /oauth2/token` and Cloud Shell's MSI endpoint: IMDS's OAuth-style
 * bodies (`identityErrors`), plus these.
 */
export const formTokenErrors = {
  /** 405 [emu]: a verb the endpoint does not take. */
  methodNotAllowed: (allow: string) =>
    oauthError(405, 'invalid_request', `Method not allowed; use ${allow}`, { Allow: allow }),
  /** 400 [emu]: the same parameter twice (query or form). */
  duplicateParameter: oauthError(400, 'invalid_request', 'Duplicate parameters are not allowed'),
} as const;

/**
 * An App Service (and Azure ML) token service error: `{"statusCode","message","correlationId"}`
 * [obs], a fresh correlation id each time as on Azure. SDKs read `message` and `correlationId`.
 */
export function appServiceError(status: number, message: string): WireError {
  return jsonError(status, { statusCode: status, message, correlationId: crypto.randomUUID() });
}

/** Messages of App Service's and Azure ML's token services; [obs] seen in real responses, else [emu]. */
export const appServiceMessages = {
  /** 400 [obs]: no identity matches the request (or none is assigned). */
  identityNotFound: 'Unable to load the proper Managed Identity.',
  /** 400 [emu]: more than one selector. */
  severalSelectors:
    'Only one of client_id, principal_id, object_id and mi_res_id may be specified in the token request.',
  /** 400 [emu]: no `resource`. */
  resourceMissing: "The request is missing the 'resource' parameter.",
  /** 400 [emu]: no secret header. */
  headerMissing: (header: string) => `The request is missing the ${header} header.`,
  /** 401 [emu]: a secret header with the wrong value. */
  headerInvalid: (header: string) => `The ${header} header is not valid.`,
  /** 400 [emu]: api-version missing or not served here. */
  apiVersionInvalid: (version: string | undefined, supported: string) =>
    `The api-version '${version ?? ''}' is not supported. Supported versions: ${supported}.`,
  /** 405 [emu]. */
  methodNotAllowed: 'The token service answers GET requests only.',
  /** 500 [emu]: the token source failed. */
  tokenFailed: (reason: string) => `Failed to acquire a token. ${reason}`,
} as const;

/**
 * A Service Fabric managed identity error: `{"error":{"correlationId","code","message"}}` [doc], a fresh
 * correlation id each time. Codes and messages in `serviceFabricErrors`.
 */
export function serviceFabricError(status: number, code: string, message: string): WireError {
  return jsonError(status, { error: { correlationId: crypto.randomUUID(), code, message } });
}

/** Service Fabric's documented errors (status, code, message) [doc]; statuses per its error table. */
export const serviceFabricErrors = {
  secretHeaderNotFound: [400, 'SecretHeaderNotFound', 'Secret is not found in the request headers.'],
  managedIdentityNotFound: [
    404,
    'ManagedIdentityNotFound',
    'Managed identity not found for the specified application host.',
  ],
  argumentNullOrEmpty: [
    400,
    'ArgumentNullOrEmpty',
    "The parameter 'resource' should not be null or empty string.",
  ],
  invalidApiVersion: (version: string | undefined) =>
    [
      400,
      'InvalidApiVersion',
      `The api-version '${version ?? ''}' is not supported. Supported version is '2019-07-01-preview'.`,
    ] as const,
  internalServerError: [500, 'InternalServerError', 'An error occurred.'],
} as const;

/**
 * Azure ML's refusal of a request without its `secret` header or with a wrong one [obs: the text, in
 * plain text, quoted by MSAL.NET from a real compute instance ("Error response received from the
 * server: Invalid secret token header: ."); status emu]: `Invalid secret token header: ` followed by
 * what the request carried (nothing when the header is missing).
 */
export function azureMlSecretRejected(received: string): WireError {
  return {
    status: 400,
    contentType: 'text/plain; charset=utf-8',
    body: Buffer.from(`Invalid secret token header: ${received}`),
  };
}

/** Fault injection's answers on the App Service / Azure ML and Service Fabric surfaces, in their shapes. */
export function platformFaultError(
  shape: 'app-service' | 'service-fabric',
  status: number,
  retryAfter?: number,
): WireError {
  const text: Record<number, [string, string]> = {
    404: ['NotFound', 'The token service is not available; retry the request.'],
    410: ['Gone', 'The token service is being updated; retry the request.'],
    429: ['TooManyRequests', 'Too many requests.'],
    500: ['InternalServerError', 'An error occurred.'],
    503: ['ServiceUnavailable', 'The token service is unavailable; retry the request.'],
  };
  const [code, message] = text[status] ?? ['Error', 'An error occurred.'];
  const error =
    shape === 'app-service' ? appServiceError(status, message) : serviceFabricError(status, code, message);
  return retryAfter === undefined ? error : { ...error, headers: { 'Retry-After': String(retryAfter) } };
}

/*
 * The local proxy (docs/proxy.md): hosts of Azure services azimds does not serve (yet, or not enabled)
 * and hosts it does not emulate when passthrough is off. [emu]: azimds's own wording, in the shape of
 * the service the client asked for.
 */

/**
 * A host of the proxy's table whose surface is not served: 501 at once (no Azure SDK retries 501:
 * azure-core's retry policies retry 408, 429 and 5xx except 501/505), in the service's error shape:
 * `{"error":{"code","message"}}` for ARM and Key Vault, `{"error","error_description"}` for IMDS and Entra.
 */
export function surfaceNotEnabled(surface: string, host: string): WireError {
  const message = `azimds does not serve ${host} (surface '${surface}' is not enabled in this emulator): see docs/proxy.md`;
  return surface === 'arm' || surface === 'key-vault'
    ? jsonError(
        501,
        { error: { code: 'AzimdsSurfaceNotEnabled', message } },
        { 'x-ms-failure-cause': 'gateway' },
      )
    : jsonError(501, { error: 'not_implemented', error_description: message });
}

/** 502 (text): the proxy refused `target` (`host:port`), with the reason (passthrough off, upstream unreachable). */
export function proxyRefused(target: string, reason: string): WireError {
  return {
    status: 502,
    contentType: 'text/plain; charset=utf-8',
    body: Buffer.from(`azimds proxy: ${target} not reached: ${reason}\n`),
  };
}

/**
 * 407: the proxy's credentials name no VM of the fleet (docs/fleet.md: the proxy URL's user part, e.g.
 * `http://web-02@127.0.0.1:8171`, is the VM a process is). azimds's own shape, as `notAProxyRequest`.
 */
export function proxyUnknownVm(name: string): WireError {
  const error = controlError(
    407,
    'UnknownVm',
    `azimds proxy: the proxy credentials name VM "${name}", which this emulator does not serve (its VMs: GET /vms on the control API; \`azimds env --vm NAME\`; docs/fleet.md)`,
  );
  return { ...error, headers: { ...error.headers, 'Proxy-Authenticate': 'Basic realm="azimds VM name"' } };
}

/**
 * 400: a request to the proxy's port that is not a proxy request (origin-form, for a host it does not
 * serve). azimds's own shape (`{"error":{"code","message"}}`, as the control API's).
 */
export const notAProxyRequest: WireError = controlError(
  400,
  'NotAProxyRequest',
  'azimds proxy: this port is a forward proxy, not a web server: send requests through it (HTTP_PROXY / HTTPS_PROXY, see `azimds env` and docs/proxy.md)',
);

/*
 * Azure Resource Manager (docs/arm.md). Every ARM error is `{"error":{"code","message"}}`; the plugin adds
 * `x-ms-request-id`, `x-ms-correlation-request-id` and `x-ms-routing-request-id` to each response.
 * [obs]: wording seen in real responses (issues cited in docs/wire-fidelity.md); [emu]: azimds's own.
 */

/** An ARM error body with its status and headers. */
export function armError(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): WireError {
  return jsonError(status, { error: { code, message } }, headers);
}

/** ARM's `x-ms-failure-cause` for errors its gateway raises (not found, authorization). */
const GATEWAY = { 'x-ms-failure-cause': 'gateway' };

/** `WWW-Authenticate` of ARM's 401s: the authority, `invalid_token`, and the reason. */
function armChallenge(description: string, tenantId?: string): Record<string, string> {
  const authority = `https://login.windows.net/${tenantId ?? ''}`;
  return {
    'www-authenticate': `Bearer authorization_uri="${authority}", error="invalid_token", error_description="${description.replaceAll('"', "'")}"`,
  };
}

/** .NET's invariant `M/d/yyyy h:mm:ss tt` (UTC), as ARM writes times in messages. */
function armTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const h = d.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h % 12 || 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

/** The allowed ARM audiences as ARM lists them in InvalidAuthenticationTokenAudience [obs]. */
const ARM_AUDIENCES =
  "'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'";

export const armErrors = {
  /** 401 [obs]: no Authorization header. */
  authenticationMissing: armError(
    401,
    'AuthenticationFailed',
    "Authentication failed. The 'Authorization' header is missing.",
    armChallenge("The authentication failed because of missing 'Authorization' header."),
  ),
  /** 401 [obs]: an Authorization header that is not `Bearer <token>`. */
  authenticationInvalidHeader: armError(
    401,
    'AuthenticationFailedInvalidHeader',
    "Authentication failed. The 'Authorization' header is provided in an invalid format.",
    armChallenge("The authentication failed because of invalid 'Authorization' header."),
  ),
  /** 401 [obs code and message]: not a JWT, or not signed by a key azimds publishes. */
  invalidToken: armError(
    401,
    'InvalidAuthenticationToken',
    'The access token is invalid.',
    armChallenge('The access token is invalid.'),
  ),
  /** 401 [obs]: `exp` passed (times in .NET's invariant format). */
  expiredToken: (exp: number, now: number) => {
    const message = `The access token expiry UTC time '${armTime(exp)}' is earlier than current UTC time '${armTime(now)}'.`;
    return armError(401, 'ExpiredAuthenticationToken', message, armChallenge(message));
  },
  /** 401 [emu; code obs]: `nbf` in the future. */
  notYetValidToken: (nbf: number) => {
    const message = `The access token is not valid before UTC time '${armTime(nbf)}'.`;
    return armError(401, 'InvalidAuthenticationToken', message, armChallenge(message));
  },
  /** 401 [obs]: a token for another resource. */
  wrongAudience: (aud: string) => {
    const message = `The access token has been obtained for wrong audience or resource '${aud}'. It should exactly match with one of the allowed audiences ${ARM_AUDIENCES}.`;
    return armError(401, 'InvalidAuthenticationTokenAudience', message, armChallenge(message));
  },
  /** 401 [obs]: a token of another issuer or tenant. */
  wrongIssuer: (issuer: string, tenantId: string) => {
    const message = `The access token is from the wrong issuer '${issuer}'. It must match the tenant 'https://sts.windows.net/${tenantId}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/${tenantId}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.`;
    return armError(401, 'InvalidAuthenticationTokenTenant', message, armChallenge(message, tenantId));
  },
  /** 403 [obs]: no role grants the action. */
  authorizationFailed: (client: string, objectId: string, action: string, scope: string) =>
    armError(
      403,
      'AuthorizationFailed',
      `The client '${client}' with object id '${objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      GATEWAY,
    ),
  /** 400 [obs]: no api-version. */
  missingApiVersion: armError(
    400,
    'MissingApiVersionParameter',
    'The api-version query parameter (?api-version=) is required for all requests.',
  ),
  /** 400 [emu; code obs]: an api-version that is not `yyyy-mm-dd[-preview]`. */
  invalidApiVersion: (version: string) =>
    armError(
      400,
      'InvalidApiVersionParameter',
      `The api-version '${version}' is invalid. The api-version must be a date in the form yyyy-MM-dd, optionally followed by '-preview'.`,
    ),
  /** 400 [obs]: a `$filter` ARM cannot parse. */
  invalidFilter: (filter: string) =>
    armError(400, 'InvalidFilterInQueryString', `Invalid $filter '${filter}' specified in the query string.`),
  /** 409 [obs]: a resource group PUT with another location than the group's. */
  invalidResourceGroupLocation: (given: string, existing: string, name: string) =>
    armError(
      409,
      'InvalidResourceGroupLocation',
      `Invalid resource group location '${given}'. The Resource group already exists in location '${existing}'. A resource group '${name}' cannot be moved to another location.`,
    ),
  /** 404 [obs]. */
  subscriptionNotFound: (subscriptionId: string) =>
    armError(
      404,
      'SubscriptionNotFound',
      `The subscription '${subscriptionId}' could not be found.`,
      GATEWAY,
    ),
  /** 404 [obs]. */
  resourceGroupNotFound: (name: string) =>
    armError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`, GATEWAY),
  /** 404 [obs]. */
  resourceNotFound: (type: string, name: string, group: string) =>
    armError(
      404,
      'ResourceNotFound',
      `The Resource '${type}/${name}' under resource group '${group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      GATEWAY,
    ),
  /** 400 [obs]: a path ARM does not route. */
  invalidResourceType: (type: string, apiVersion: string) =>
    armError(
      400,
      'InvalidResourceType',
      `The resource type '${type}' could not be found in the namespace '${type.split('/')[0]}' for api version '${apiVersion}'.`,
    ),
  /** 404 [emu]: a path no ARM route serves. */
  noRoute: (method: string, path: string) =>
    armError(
      404,
      'NotFound',
      `azimds does not serve ${method} ${path} (see docs/arm.md for what is emulated).`,
    ),
  /** 405 [emu]. */
  methodNotAllowed: (method: string) =>
    armError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`),
  /** 400 [obs]: a body that is not JSON. */
  invalidRequestContent: (detail: string) =>
    armError(
      400,
      'InvalidRequestContent',
      `The request content was invalid and could not be deserialized: '${detail}'.`,
    ),
  /** 400 [obs]: a PUT of a resource group without a location. */
  locationRequired: armError(
    400,
    'LocationRequired',
    'The location property is required for this definition.',
  ),
  /** 400 [obs]: a resource group name ARM refuses. */
  invalidResourceGroupName: (name: string) =>
    armError(
      400,
      'InvalidResourceGroupName',
      `The provided resource group name '${name}' has these invalid characters: '${[...new Set(name.replace(/[-\w._()]/g, ''))].join('')}'. The name can only be a letter, digit, '-', '.', '(', ')' or '_'.`,
    ),
  /** 409 [obs]: the same principal, role and scope under another GUID. */
  roleAssignmentExists: armError(409, 'RoleAssignmentExists', 'The role assignment already exists.'),
  /** 409 [obs]: a PUT that would change an existing assignment. */
  roleAssignmentUpdateNotPermitted: armError(
    409,
    'RoleAssignmentUpdateNotPermitted',
    'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.',
  ),
  /** 400 [obs]: an unknown principal without `principalType`. */
  principalNotFound: (principalId: string, tenantId: string) =>
    armError(
      400,
      'PrincipalNotFound',
      `Principal ${principalId.replaceAll('-', '')} does not exist in the directory ${tenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`,
    ),
  /** 400 [emu; code obs]: a role assignment name that is not a GUID. */
  invalidRoleAssignmentId: (name: string) =>
    armError(
      400,
      'InvalidRoleAssignmentId',
      `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`,
    ),
  /** 404 [obs]. */
  roleAssignmentNotFound: armError(404, 'RoleAssignmentNotFound', 'The role assignment does not exist.'),
  /** 404 [obs]. */
  roleDefinitionDoesNotExist: (id: string) =>
    armError(
      404,
      'RoleDefinitionDoesNotExist',
      `The specified role definition with ID '${id}' does not exist.`,
    ),
  /** 400 [emu; code obs]: a body field of the wrong type. */
  invalidRequest: (message: string) => armError(400, 'InvalidRequestContent', message),
  /** 409 [emu]: a change through ARM to what azimds derives from the VM's config. */
  readOnlyResource: (id: string) =>
    armError(
      409,
      'OperationNotAllowed',
      `'${id}' is part of the emulated VM and follows its configuration; change the VM through the azimds control API (PATCH /vm) or its config. Only the VM's tags can be changed through ARM.`,
    ),
  /** 409 [emu]: deleting the resource group of the emulated VM. */
  groupHoldsVm: (name: string) =>
    armError(
      409,
      'OperationNotAllowed',
      `Resource group '${name}' holds the emulated VM, which azimds does not delete; remove other resources instead.`,
    ),
  /** 404 [emu]: a child resource whose parent does not exist. */
  parentResourceNotFound: (id: string) =>
    armError(
      404,
      'ParentResourceNotFound',
      `Can not perform requested operation on nested resource. Parent resource '${id}' not found.`,
    ),
} as const;

/**
 * What fault injection answers on the ARM surface (docs/faults.md), in ARM's shape: the codes ARM uses
 * for these statuses ([obs] 429 SubscriptionRequestsThrottled, 500 InternalServerError, 503
 * ServiceUnavailable, 504 GatewayTimeout; [emu] the wording).
 */
export function armFaultError(status: number, retryAfter?: number): WireError {
  const text: Record<number, [string, string]> = {
    404: ['NotFound', 'The requested resource is temporarily unavailable; retry the request.'],
    410: ['Gone', 'The service is being updated; retry the request.'],
    429: [
      'SubscriptionRequestsThrottled',
      `Number of requests for subscription exceeded. Please try again after '${retryAfter ?? 1}' seconds.`,
    ],
    500: ['InternalServerError', 'Encountered internal server error. Please try again.'],
    503: ['ServiceUnavailable', 'The service is currently unavailable. Please try again later.'],
    504: ['GatewayTimeout', 'The gateway did not receive a response within the specified time period.'],
  };
  const [code, message] = text[status] ?? ['Error', 'An error occurred.'];
  return armError(
    status,
    code,
    message,
    retryAfter === undefined ? undefined : { 'retry-after': String(retryAfter) },
  );
}

/*
 * Key Vault data plane (docs/key-vault.md). Bodies are `{"error":{"code","message","innererror"?}}` as
 * Key Vault sends them. Sources: azure-sdk-for-js keyvault recordings (401 `AKV10000`), azure-sdk-for-js
 * #24756 and azure-sdk-for-java #17991 (SecretDisabled), public 404/409 bodies (SecretNotFound,
 * ObjectIsDeletedButRecoverable), RBAC and access-policy 403s quoted in public issues (reference §3).
 */

/** A Key Vault error body; `inner` becomes `innererror.code`. */
export function keyVaultError(status: number, code: string, message: string, inner?: string): WireError {
  return jsonError(status, {
    error: { code, message, ...(inner === undefined ? {} : { innererror: { code: inner } }) },
  });
}

const KV_HELP_NOT_FOUND =
  'For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182';

/** Key Vault's fixed errors and factories for the ones that carry request details. */
export const keyVaultErrors = {
  /** 401 with the challenge (header added when sent): no bearer token. */
  missingToken: keyVaultError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.'),
  /** 401: a token Key Vault cannot accept (`AKV10022` audience, `AKV10032` issuer, `S2S12086` expired or invalid). */
  invalidToken: (detail: string) => keyVaultError(401, 'Unauthorized', detail),
  /** 403: `get` of a disabled secret version. */
  secretDisabled: keyVaultError(
    403,
    'Forbidden',
    'Operation get is not allowed on a disabled secret.',
    'SecretDisabled',
  ),
  /** 403 with `keyVault.enforceValidityPeriod`: the documented (not observed) refusal of an expired secret. */
  secretExpired: keyVaultError(
    403,
    'Forbidden',
    'Operation get is not allowed on an expired secret.',
    'SecretExpired',
  ),
  /** 403 with `keyVault.enforceValidityPeriod`: before `nbf` [emu wording]. */
  secretNotYetValid: keyVaultError(
    403,
    'Forbidden',
    'Operation get is not allowed on a secret that is not yet valid.',
    'SecretNotYetValid',
  ),
  /** 404: no such secret (or version: `name/version`). */
  secretNotFound: (nameOrId: string) =>
    keyVaultError(
      404,
      'SecretNotFound',
      `A secret with (name/id) ${nameOrId} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. ${KV_HELP_NOT_FOUND}`,
    ),
  /** 404: no soft-deleted secret of that name. */
  deletedSecretNotFound: (name: string) =>
    keyVaultError(404, 'SecretNotFound', `Deleted Secret not found: ${name}`),
  /** 409: set on a name that is soft-deleted. */
  deletedButRecoverable: (name: string) =>
    keyVaultError(
      409,
      'Conflict',
      `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
      'ObjectIsDeletedButRecoverable',
    ),
  /** 403: purge on a vault with purge protection. */
  purgeProtected: (vault: string, location: string) =>
    keyVaultError(
      403,
      'Forbidden',
      `Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed. Vault: ${vault};location=${location}`,
    ),
  /** 403 of an RBAC vault: no role assignment grants the data action. */
  forbiddenByRbac: (caller: string, action: string, resource: string, vault: string, location: string) =>
    keyVaultError(
      403,
      'Forbidden',
      `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: ${caller}\r\nAction: '${action}'\r\nResource: '${resource}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: ${vault};location=${location}\r\n`,
      'ForbiddenByRbac',
    ),
  /** 403 of an access-policy vault: no policy of the caller grants the permission. */
  forbiddenByPolicy: (caller: string, permission: string, vault: string, location: string) =>
    keyVaultError(
      403,
      'Forbidden',
      `The user, group or application '${caller}' does not have secrets ${permission} permission on key vault '${vault};location=${location}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`,
      'ForbiddenByPolicy',
    ),
  /** 400: a parameter Key Vault rejects (name, body, maxresults, api-version). */
  badParameter: (message: string) => keyVaultError(400, 'BadParameter', message),
  /** 404: a path of no Key Vault operation [emu wording]. */
  notFound: keyVaultError(404, 'NotFound', 'The requested resource was not found.'),
  /** 404 of the direct endpoint / proxy: the Host names no vault of the world [emu; Azure's DNS has no such name]. */
  vaultNotFound: (host: string) =>
    keyVaultError(404, 'VaultNotFound', `No key vault of this emulator is reached at ${host}.`),
  /** 500: azimds failed [emu]. */
  internal: keyVaultError(500, 'InternalServerError', 'The emulator failed to handle this request.'),
} as const;

/** Codes of the emulator's own errors. */
export type AzimdsErrorCode =
  | 'INVALID_INPUT'
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'LISTEN_FAILED'
  | 'NOT_RUNNING'
  | 'CONTROL_API'
  | 'KEY_STORE'
  | 'ARC_TOKEN_DIR'
  | 'UPSTREAM';

/** The emulator's own failure, with a `code` to switch on and a message meant for a person. */
export class AzimdsError extends Error {
  readonly code: AzimdsErrorCode;
  constructor(code: AzimdsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AzimdsError';
    this.code = code;
  }
}

/**
 * A Microsoft Entra token-endpoint failure, before the per-request fields are added: the HTTP status,
 * the OAuth `error`, the AADSTS code and its text (without the `AADSTS<code>: ` prefix).
 */
export interface EntraFailure {
  readonly status: number;
  readonly error: string;
  readonly code: number;
  readonly message: string;
}

const CERT_DOCS =
  'Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .';
const FIC_DOCS =
  'Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation';

/** Entra's client-credentials failures (texts as Entra returns them, seen in public issue reports). */
export const entraErrors = {
  /** 400 AADSTS900144: a required form parameter is absent. */
  missingParameter: (name: string): EntraFailure => ({
    status: 400,
    error: 'invalid_request',
    code: 900144,
    message: `The request body must contain the following parameter: '${name}'.`,
  }),
  /** 400 AADSTS900561: the token endpoint was called with another verb than POST. */
  postOnly: (method: string): EntraFailure => ({
    status: 400,
    error: 'invalid_request',
    code: 900561,
    message: `The endpoint only accepts POST requests. Received a ${method} request.`,
  }),
  /** 400 AADSTS70003: a grant type other than client_credentials. */
  unsupportedGrantType: (grant: string): EntraFailure => ({
    status: 400,
    error: 'unsupported_grant_type',
    code: 70003,
    message: `The app requested an unsupported grant type '${grant}'.`,
  }),
  /** 400 AADSTS90002: unknown tenant. */
  tenantNotFound: (tenant: string): EntraFailure => ({
    status: 400,
    error: 'invalid_tenant',
    code: 90002,
    message: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  }),
  /** 400 AADSTS700016: no app registration with this client id. */
  unknownApplication: (clientId: string, tenant: string): EntraFailure => ({
    status: 400,
    error: 'unauthorized_client',
    code: 700016,
    message: `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  }),
  /** 401 AADSTS7000218: neither a secret nor an assertion. */
  credentialMissing: {
    status: 401,
    error: 'invalid_client',
    code: 7000218,
    message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  } as EntraFailure,
  /** 401 AADSTS7000215: the secret is not one of the app's. */
  invalidSecret: (clientId: string): EntraFailure => ({
    status: 401,
    error: 'invalid_client',
    code: 7000215,
    message: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
  }),
  /** 401 AADSTS7000222: the secret matched one that has expired. */
  expiredSecret: (clientId: string): EntraFailure => ({
    status: 401,
    error: 'invalid_client',
    code: 7000222,
    message: `The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
  }),
  /** 400 AADSTS50027: the assertion is not a JWT. */
  malformedAssertion: {
    status: 400,
    error: 'invalid_request',
    code: 50027,
    message: 'JWT token is invalid or malformed.',
  } as EntraFailure,
  /** 400 AADSTS700022-like: client_assertion_type is not the JWT bearer type. */
  assertionType: (value: string): EntraFailure => ({
    status: 400,
    error: 'invalid_request',
    code: 700022,
    message: `The provided value for the input parameter 'client_assertion_type' is not valid. Expected value: urn:ietf:params:oauth:client-assertion-type:jwt-bearer. Received value: '${value}'.`,
  }),
  /** 401 AADSTS700027: no registered certificate has the assertion's thumbprint. */
  certificateNotRegistered: (thumbprint: string, clientId: string): EntraFailure => ({
    status: 401,
    error: 'invalid_client',
    code: 700027,
    message: `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`,
  }),
  /** 401 AADSTS700027: the signature does not verify. */
  badSignature: {
    status: 401,
    error: 'invalid_client',
    code: 700027,
    message: `Client assertion failed signature validation. ${CERT_DOCS}`,
  } as EntraFailure,
  /** 401 AADSTS700021: the certificate assertion's iss/sub is not the client id. */
  assertionClientMismatch: {
    status: 401,
    error: 'invalid_client',
    code: 700021,
    message: `Client assertion application identifier doesn't match 'client_id' parameter. ${CERT_DOCS}`,
  } as EntraFailure,
  /** 401 AADSTS700023: the certificate assertion's aud is not this token endpoint. */
  assertionAudience: {
    status: 401,
    error: 'invalid_client',
    code: 700023,
    message: `Client assertion audience claim does not match Realm issuer. ${CERT_DOCS}`,
  } as EntraFailure,
  /** 400 AADSTS700024: the assertion is expired or not yet valid (times as Entra prints them). */
  assertionTimeRange: (now: string, from: string, to: string): EntraFailure => ({
    status: 400,
    error: 'invalid_client',
    code: 700024,
    message: `Client assertion is not within its valid time range. Current time: ${now}, assertion valid from ${from}, expiry time of assertion ${to}. ${CERT_DOCS}`,
  }),
  /** 400 AADSTS70021: the app has no federated credential at all. */
  noFederatedRecord: (issuer: string, subject: string, audience: string): EntraFailure => ({
    status: 400,
    error: 'invalid_request',
    code: 70021,
    message: `No matching federated identity record found for presented assertion. Assertion Issuer: '${issuer}'. Assertion Subject: '${subject}'. Assertion Audience: '${audience}'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`,
  }),
  /** 400 AADSTS700211/700212/700213: no federated credential of the app matches the issuer, audience or subject. */
  federatedMismatch: (part: 'issuer' | 'audience' | 'subject', value: string): EntraFailure => ({
    status: 400,
    error: 'invalid_client',
    code: { issuer: 700211, audience: 700212, subject: 700213 }[part],
    message: `No matching federated identity record found for presented assertion ${part} '${value}'. ${FIC_DOCS}`,
  }),
  /** 400 AADSTS1002012: a v2 scope without `/.default` in a client-credentials request. */
  invalidScope: (scope: string): EntraFailure => ({
    status: 400,
    error: 'invalid_scope',
    code: 1002012,
    message: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
  }),
  /** 400 AADSTS500011: the resource is not an application of the tenant. */
  resourceNotFound: (resource: string, tenant: string): EntraFailure => ({
    status: 400,
    error: 'invalid_resource',
    code: 500011,
    message: `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  }),
} as const;

/** Entra's timestamp format in error bodies: `2025-04-22 01:01:11Z`. */
export function entraTimestamp(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/**
 * The body Entra sends for a token-endpoint failure: `{error, error_description, error_codes,
 * timestamp, trace_id, correlation_id, error_uri}`; the description ends with
 * `Trace ID: … Correlation ID: … Timestamp: …` as current Entra writes it. `correlationId` echoes the
 * client's `client-request-id` when it sent one.
 */
export function entraError(failure: EntraFailure, nowMs: number, correlationId: string): WireError {
  const timestamp = entraTimestamp(nowMs);
  const traceId = crypto.randomUUID();
  return jsonError(failure.status, {
    error: failure.error,
    error_description: `AADSTS${failure.code}: ${failure.message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [failure.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${failure.code}`,
  });
}
