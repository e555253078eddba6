/**
 * The surfaces the fuzzer and the soak drive: one entry each. A surface that lands later (proxy, ARM,
 * Key Vault, Entra, dashboard) is one more entry: its listener name (the key in `urls` / the config
 * section that enables it), its routes, the headers its clients send, and the shape of its errors.
 */

/** A parsed HTTP response, as the fuzzer read it off the socket. */
export interface FuzzResponse {
  status: number;
  /** Header names lower-cased; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface Surface {
  /** Listener name (`state`/handle `urls` key, e.g. `imds`, `appService`). */
  readonly name: string;
  /** `https` for listeners that only speak TLS (Service Fabric). */
  readonly tls?: boolean;
  /** Paths its clients use, so that most requests reach a handler rather than the 404 fallback. */
  readonly routes: readonly string[];
  /** Headers a well-behaved client of this surface sends (the fuzzer keeps, drops or garbles them). */
  readonly clientHeaders: (secrets: Readonly<Record<string, string>>) => Record<string, string>;
  /** Config that enables the surface on `port` (merged into the emulator's config). */
  readonly config?: (port: number) => Record<string, unknown>;
  /**
   * Whether an error response (status >= 400) is in the surface's shape, headers included. Returns the
   * reason when it is not.
   */
  readonly errorShape: (response: FuzzResponse) => string | undefined;
  /** A request the soak sends, with the statuses it expects. */
  readonly soak?: ReadonlyArray<{ path: string; method?: string; expect: readonly number[] }>;
}

function json(response: FuzzResponse): Record<string, unknown> | undefined {
  if (!/^application\/json/.test(response.headers['content-type'] ?? '')) return undefined;
  try {
    const value = JSON.parse(response.body.toString('utf8')) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** IMDS: `{"error": "..."}` (metadata) or `{"error","error_description"}` (identity), always `Server: IMDS/...`. */
function imdsShape(response: FuzzResponse): string | undefined {
  if (!/^IMDS\//.test(response.headers.server ?? '')) return 'no Server: IMDS/... header';
  // The identity endpoint's injected 410 has an empty body, as observed on Azure.
  if (response.status === 410 && response.body.length === 0) return undefined;
  const body = json(response);
  return typeof body?.error === 'string' ? undefined : 'not {"error": ...} JSON';
}

/** Token endpoints speaking OAuth errors: `{"error": "...", ...}`. */
function oauthShape(response: FuzzResponse): string | undefined {
  return typeof json(response)?.error === 'string' ? undefined : 'not {"error": ...} JSON';
}

/** App Service (and Azure ML): `{statusCode, message, correlationId}`; Azure ML may answer plain text. */
function appServiceShape(allowText: boolean) {
  return (response: FuzzResponse): string | undefined => {
    if (allowText && /^text\/plain/.test(response.headers['content-type'] ?? '') && response.body.length > 0)
      return undefined;
    const body = json(response);
    return typeof body?.message === 'string' && typeof body.correlationId === 'string'
      ? undefined
      : 'not {statusCode, message, correlationId}';
  };
}

/** `{"error": {"code", "message", ...}}`: Service Fabric (with correlationId) and the control API (ARM's shape). */
function nestedErrorShape(response: FuzzResponse): string | undefined {
  const error = json(response)?.error as Record<string, unknown> | undefined;
  return typeof error?.code === 'string' && typeof error.message === 'string'
    ? undefined
    : 'not {"error": {"code", "message"}}';
}

const METADATA = { Metadata: 'true' };
const TOKEN = '/metadata/identity/oauth2/token';

export const SURFACES: readonly Surface[] = [
  {
    name: 'imds',
    routes: [
      '/metadata/instance',
      '/metadata/instance/compute/vmId',
      '/metadata/instance/network/interface/0/ipv4/ipAddress/0',
      '/metadata/versions',
      TOKEN,
      '/metadata/identity/info',
      '/metadata/scheduledevents',
      '/metadata/attested/document',
      '/metadata/loadbalancer',
      '/common/.well-known/openid-configuration',
      '/common/discovery/keys',
    ],
    clientHeaders: () => METADATA,
    errorShape: imdsShape,
    soak: [
      { path: '/metadata/instance?api-version=2021-02-01', expect: [200] },
      { path: '/metadata/instance/compute/vmId?api-version=2021-02-01&format=text', expect: [200] },
      { path: `${TOKEN}?api-version=2018-02-01&resource=https://management.azure.com/`, expect: [200] },
      { path: '/metadata/scheduledevents?api-version=2020-07-01', expect: [200] },
      { path: '/metadata/versions', expect: [200] },
      { path: '/metadata/instance?api-version=1999-01-01', expect: [400] },
    ],
  },
  {
    name: 'arc',
    routes: [TOKEN, '/metadata/instance', '/metadata/instance/compute'],
    clientHeaders: () => METADATA,
    config: (port) => ({ platforms: { arc: { enabled: true, port } } }),
    errorShape: imdsShape,
    soak: [
      { path: `${TOKEN}?api-version=2020-06-01&resource=https://management.azure.com/`, expect: [401] },
      { path: '/metadata/instance?api-version=2020-06-01', expect: [200] },
    ],
  },
  {
    name: 'vmExtension',
    routes: ['/oauth2/token'],
    clientHeaders: () => METADATA,
    config: (port) => ({ platforms: { vmExtension: { enabled: true, port } } }),
    errorShape: oauthShape,
  },
  {
    name: 'cloudShell',
    routes: ['/oauth2/token'],
    clientHeaders: () => METADATA,
    config: (port) => ({ platforms: { cloudShell: { enabled: true, port } } }),
    errorShape: oauthShape,
  },
  {
    name: 'appService',
    routes: ['/msi/token', '/MSI/token/'],
    clientHeaders: (secrets) => ({
      'X-IDENTITY-HEADER': secrets.appService ?? '',
      secret: secrets.appService ?? '',
    }),
    config: (port) => ({
      platforms: { appService: { enabled: true, port, secret: 'fuzz-app-service-secret' } },
    }),
    errorShape: appServiceShape(false),
    soak: [{ path: '/msi/token?api-version=2019-08-01&resource=https://vault.azure.net', expect: [200] }],
  },
  {
    name: 'serviceFabric',
    tls: true,
    routes: [TOKEN],
    clientHeaders: (secrets) => ({ secret: secrets.serviceFabric ?? '' }),
    config: (port) => ({
      platforms: { serviceFabric: { enabled: true, port, secret: 'fuzz-service-fabric-secret' } },
    }),
    errorShape: nestedErrorShape,
  },
  {
    name: 'azureMl',
    routes: ['/MSI/auth', '/msi/auth/'],
    clientHeaders: (secrets) => ({ secret: secrets.azureMl ?? '' }),
    config: (port) => ({ platforms: { azureMl: { enabled: true, port, secret: 'fuzz-azure-ml-secret' } } }),
    errorShape: appServiceShape(true),
  },
  {
    name: 'control',
    routes: [
      '/',
      '/vm',
      '/faults',
      '/faults/x',
      '/events',
      '/events/x/approve',
      '/clock',
      '/clock/advance',
      '/identities',
      '/logs',
      '/attestation',
      '/dashboard',
      '/dashboard/overview',
      '/dashboard/tokens',
      '/world',
      '/world/role-assignments',
      '/key-vault/vaults',
      '/vms',
    ],
    clientHeaders: () => ({ 'content-type': 'application/json' }),
    errorShape: nestedErrorShape,
    soak: [{ path: '/logs?limit=5', expect: [200] }],
  },
  {
    // Resource Manager's direct endpoint (docs/arm.md): ARM's `{"error":{"code","message"}}`.
    name: 'arm',
    tls: true,
    routes: [
      '/subscriptions',
      '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups',
      '/tenants',
      '/metadata/endpoints',
      '/providers/Microsoft.Authorization/roleDefinitions',
    ],
    clientHeaders: () => ({ Authorization: 'Bearer x.y.z', 'content-type': 'application/json' }),
    config: (port) => ({ arm: { port } }),
    errorShape: nestedErrorShape,
  },
  {
    // Key Vault's direct endpoint (docs/key-vault.md): Key Vault's `{"error":{"code","message"}}`.
    name: 'key-vault',
    tls: true,
    routes: ['/secrets', '/secrets/sample-secret', '/secrets/sample-secret/versions', '/deletedsecrets'],
    clientHeaders: () => ({ Authorization: 'Bearer x.y.z', 'content-type': 'application/json' }),
    config: (port) => ({ keyVault: { port } }),
    errorShape: nestedErrorShape,
  },
  // The proxy is not fuzzed with raw bytes here: what it does not emulate it tunnels to the network
  // (test/protocol/proxy.test.ts covers its refusals); its emulated hosts are the surfaces above.
];

/** The fixed secrets the fuzz config gives the platforms (so requests can carry the right one). */
export const FUZZ_SECRETS: Readonly<Record<string, string>> = {
  appService: 'fuzz-app-service-secret',
  serviceFabric: 'fuzz-service-fabric-secret',
  azureMl: 'fuzz-azure-ml-secret',
};
