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

const malformed = new Map<number, WireError>();

/** A 4xx fastify raises itself (bad URL encoding, unreadable body), in IMDS's bad-request shape. */
export function malformedRequest(status: number): WireError {
  const error = malformed.get(status) ?? jsonError(status, { error: 'Bad request. Malformed request.' });
  malformed.set(status, error);
  return error;
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
