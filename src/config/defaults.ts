/**
 * Every default of azimds, documented once. The config schema (schema.ts) applies these; the docs
 * (docs/configuration.md) quote them. Change a default here and nowhere else.
 */
export const DEFAULTS = {
  /** Address every listener binds to unless its section says otherwise. Loopback: nothing off the machine reaches azimds. */
  host: '127.0.0.1',
  /**
   * Directory for state that must survive restarts (signing keys, the attestation CA, TLS certificates),
   * created owner-only (0700). `~` is the user's home directory.
   */
  dataDir: '~/.azimds',
  /** Log level of the emulator's own log (pino). Requests are logged at `debug`. */
  logLevel: 'info',
  imds: {
    /** IMDS listener on by default: it is what most code asks first. */
    enabled: true,
    /**
     * IMDS port. Azure serves IMDS on 169.254.169.254:80, which needs root to bind; azimds listens on an
     * unprivileged port instead (8169: "169" of the link-local address). See docs/binding.md for :80.
     */
    port: 8169,
    /** Azure's docs say the header value must be lower-case `true`; Microsoft's own samples send `True`. Lenient unless set. */
    strictMetadataHeader: false,
    /**
     * Off: a request's VM is the one its proxy URL names, else the default VM. On (a fleet whose VMs run in
     * network namespaces, each with its VM's private IP): the VM whose private IP is the client's source
     * address answers, as on Azure where 169.254.169.254 is the VM's own (docs/fleet.md).
     */
    vmBySourceAddress: false,
    rateLimit: {
      /** Off by default: test suites hammer the endpoint. Azure enforces it always. */
      enabled: false,
      /** Azure's documented limit for the metadata categories: 5 requests per second per VM. */
      requestsPerSecond: 5,
      /** Requests a source may send at once before the limit applies (token-bucket size). */
      burst: 5,
      /** The managed-identity category's own limit (`/metadata/identity`): Azure documents 20 requests per second per VM. */
      identity: { requestsPerSecond: 20, burst: 20 },
    },
  },
  identity: {
    /** The VM has a system-assigned identity, as most VMs that use managed identity do. `false` turns it off. */
    systemAssigned: true,
  },
  tokens: {
    /** 24 hours: Entra issues managed-identity access tokens for about a day (IMDS reports `expires_in` ≈ 86399). */
    lifetimeSeconds: 86_400,
    /**
     * Re-mint a cached token when less than 15 minutes (or half its lifetime) remain: comfortably more than
     * the 5 minutes MSAL treats as already expired, so SDKs never receive a token they would discard.
     */
    refreshBeforeSeconds: 900,
    /** Entra's v1 issuer, as in real managed-identity tokens; `{tenantId}` is replaced. */
    issuer: 'https://sts.windows.net/{tenantId}/',
    keys: {
      /**
       * Signing keys persist in `dataDir` (CLI), so tokens stay verifiable across restarts. The library
       * (`startEmulator`) keeps keys in memory unless `dataDir` or `tokens.keys.store` is given.
       */
      store: 'file' as 'file' | 'memory',
      /** Key file name below `dataDir`. */
      file: 'token-signing-keys.json',
    },
    /**
     * Where tokens come from when no `tokens.rules` entry says otherwise: `local`, minted by azimds
     * (docs/token-sources.md). The Go simulator's config.json sets `service-principal`, as that tool
     * handed out real tokens of its service principals.
     */
    source: 'local',
    upstream: {
      /** Cloud whose Entra ID service-principal sources ask, unless they name their own `cloud` or `authorityHost`. */
      cloud: 'AzurePublicCloud' as 'AzurePublicCloud' | 'AzureUSGovernment' | 'AzureChinaCloud',
      /**
       * Longest wait for Entra ID per token (authority discovery and the token request together) before the
       * client gets its platform's error: the Go simulator's 10 s HTTP timeout. Clients never hang on Entra.
       */
      timeoutMs: 10_000,
    },
    azureCli: {
      /** Longest wait for `az account get-access-token` (a Python start, maybe a token refresh) before it is killed. */
      timeoutMs: 20_000,
    },
  },
  control: {
    /** The control API (docs/control-api.md) listens by default: tests and the CLI's `events`, `faults`, `logs`, ... use it. */
    enabled: true,
    /**
     * Its bind address when the top-level `host` is not a loopback address (e.g. `0.0.0.0` in a container):
     * the control API changes the emulator, so it never listens off the machine unless `control.host` says so.
     * With a loopback `host` (the default), it uses that address.
     */
    host: '127.0.0.1',
    /**
     * Its port when `control.port` is not set: the IMDS port + 1 (8170 with the default IMDS port), so
     * `--port` alone tells the CLI where a running emulator's control API is. IMDS on port 0 (the library)
     * gives port 0 (a free port) here too.
     */
    portOffset: 1,
    /** What the rule above gives with the default IMDS port. */
    port: 8170,
    /**
     * Host names (as in the `Host` header) the control API and the dashboard answer besides their own
     * address and, on loopback, `localhost`: any other gets 403, so a web page cannot reach them by DNS
     * rebinding. Add the machine's name here when `control.host` is widened and browsers use that name.
     */
    allowedHosts: [] as readonly string[],
  },
  proxy: {
    /**
     * The local proxy (docs/proxy.md) listens by default: `eval "$(azimds env)"` sends code that hard-codes
     * 169.254.169.254 or Azure's HTTPS host names to azimds through it.
     */
    enabled: true,
    /**
     * Its bind address when the top-level `host` is not a loopback address: like the control API, the proxy
     * reaches any host for its callers, so it never listens off the machine unless `proxy.host` says so.
     */
    host: '127.0.0.1',
    /** Its port when `proxy.port` is not set: the IMDS port + 2 (8171 with the default IMDS port); 0 when IMDS uses 0. */
    portOffset: 2,
    /** What the rule above gives with the default IMDS port. */
    port: 8171,
    /**
     * Hosts azimds does not emulate are tunnelled unchanged (through the proxy the shell had when azimds
     * started, if any), so a shell with the variables set still reaches npm or git. `false` (offline CI):
     * refused at once with a 502 saying why.
     */
    passthrough: true,
    /** The local CA that signs the proxy's certificates for Azure's host names: files below `dataDir` (owner-only). */
    ca: {
      certFile: 'local-ca.crt',
      keyFile: 'local-ca.key',
      /** The system's trusted roots plus the local CA, for clients whose CA variable replaces the system store (Python requests, Go). */
      bundleFile: 'local-ca-bundle.pem',
      /** The CA's validity (it is generated once per data directory). */
      validityDays: 3650,
      /** Validity of the per-host certificates, minted on demand (under the 398 days browsers and Apple accept). */
      leafValidityDays: 397,
    },
  },
  arm: {
    /**
     * Azure Resource Manager (docs/arm.md): reached as https://management.azure.com through the proxy,
     * and on a direct endpoint.
     */
    enabled: true,
    /**
     * The direct endpoint's port when `arm.port` is not set: the IMDS port + 3 (8172 with the default IMDS
     * port), next to the proxy's; IMDS on port 0 (the library) gives no direct endpoint (the proxy serves
     * ARM) unless `arm.port` is set (`0`: a free port). It speaks HTTPS with the local CA's certificate.
     */
    portOffset: 3,
    /** What the rule above gives with the default IMDS port. */
    port: 8172,
  },
  /**
   * Connection limits of every listener (docs/hardening.md): a client that trickles its request holds a
   * socket at most this long, then gets its surface's 408 and the connection is closed.
   */
  server: {
    /** The whole request (headers and body) must arrive within 15 s; Azure clients send theirs at once. */
    requestTimeoutMs: 15_000,
    /** Its headers within 10 s (node's check runs every second). */
    headersTimeoutMs: 10_000,
  },
  /**
   * Host names the Azure surfaces answer to besides loopback, 169.254.169.254, their bind address and
   * Azure's own names (DNS-rebinding defence, docs/hardening.md): none. Add e.g. a compose service name.
   */
  allowedHosts: [] as string[],
  requestLog: {
    /** Requests kept in memory (a ring buffer: the oldest go first), readable from the control API and `azimds logs`. 0 turns the log off. */
    size: 1000,
    /**
     * Memory the log's entries may hold, in bytes (each entry counts its URL, its client address and
     * 120 bytes of its own); the oldest entries go first when long URLs would exceed it. 4 MiB: the
     * default 1000 entries of URLs up to about 4 KB.
     */
    maxBytes: 4 * 1024 * 1024,
    /** Longest a `GET /logs?wait=` long poll (and `azimds logs --follow`) waits for new entries, in milliseconds. */
    maxWaitMs: 60_000,
    /**
     * How many of the newest requests also keep their headers, bodies and answer for the dashboard
     * (docs/dashboard.md), secrets redacted and tokens kept only decoded (header, claims, whether the
     * signature verified). 0 turns it off (and its cost on every request).
     */
    details: 500,
    /**
     * Memory the kept details may hold, in bytes: the bodies they reference (request and answer, counted
     * whole even when shared) plus their headers and 200 bytes each; the oldest go first. 16 MiB.
     */
    detailsMaxBytes: 16 * 1024 * 1024,
  },
  vm: {
    name: 'azimds-vm-01',
    location: 'westeurope',
    zone: '1',
    resourceGroupName: 'rg-azimds',
    vmSize: 'Standard_D2s_v5',
    /** Ubuntu 24.04 LTS marketplace image (Canonical). */
    image: { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: '24.04.202411030' },
    /** With `osType: Windows`: Windows Server 2022 Datacenter: Azure Edition marketplace image. */
    windowsImage: {
      publisher: 'MicrosoftWindowsServer',
      offer: 'WindowsServer',
      sku: '2022-datacenter-azure-edition',
      version: '20348.2849.241106',
    },
    adminUsername: 'azureuser',
    tags: { environment: 'dev', owner: 'azimds' } as Record<string, string>,
    privateIpAddress: '10.0.0.4',
    publicIpAddress: '20.61.15.42',
    subnet: { address: '10.0.0.0', prefix: '24' },
    osDiskSizeGB: '30',
    dataDiskSizeGB: '64',
  },
  fleet: {
    /**
     * Most VMs one emulator serves (`fleet`, `start --vms`): private addresses come from one 10.0.0.0/16
     * pool, and 10,000 VMs start in well under 2 s (docs/fleet.md).
     */
    maxVms: 50_000,
  },
  scheduledEvents: {
    /**
     * Azure's first call enables the service and "may take up to 2 minutes". azimds answers at once
     * unless this is set (milliseconds, real time); the delay recurs after 24 h (emulator clock) without calls.
     */
    firstCallDelayMs: 0,
    /**
     * How long a Started event stays in the document when its DurationInSeconds is -1 (unknown) or 0
     * (no impact). Microsoft's sample shows a user Reboot gone ~1 minute after approval; the docs' rough
     * guideline for platform maintenance is 10 minutes.
     */
    startedSeconds: 60,
    /** Minimum notice per EventType (seconds): NotBefore of an event added without one is now + this. From Microsoft's docs; Terminate is user-configurable on Azure (5-15 min). */
    minimumNoticeSeconds: { Freeze: 900, Reboot: 900, Redeploy: 600, Preempt: 30, Terminate: 300 },
    /** DurationInSeconds of an event added without one: 5 s for Freeze (Microsoft's example), -1 (unknown) otherwise. */
    durationInSeconds: { Freeze: 5, Reboot: -1, Redeploy: -1, Preempt: -1, Terminate: -1 },
  },
  attestation: {
    /** DNS names of the leaf certificate that signs attested documents (Azure's are subdomains of metadata.azure.com). */
    dnsNames: ['emulator.metadata.azure.com'] as string[],
    /** expiresOn - createdOn of a signed document: 6 hours, as Azure's documented examples and observed documents. */
    validitySeconds: 21_600,
  },
  /**
   * Managed-identity platforms other than IMDS (docs/platforms/*.md). Each is off unless enabled
   * (`platforms.<name>.enabled` or `start --platform`), on its own listener at the port the real
   * platform uses, bound to the top-level `host` unless its `host` says otherwise.
   */
  platforms: {
    arc: {
      /** HIMDS on Arc-enabled servers: IDENTITY_ENDPOINT=http://localhost:40342/metadata/identity/oauth2/token. */
      port: 40342,
      /**
       * Where challenge files are written, per OS: the real agent's directories, since the Azure SDKs read
       * the realm only from there. Other systems (no SDK supports Arc there) use `<dataDir>/arc-tokens`.
       */
      tokenDir: {
        linux: '/var/opt/azcmagent/tokens',
        win32: '%ProgramData%\\AzureConnectedMachineAgent\\Tokens',
      } as Partial<Record<NodeJS.Platform, string>>,
      /** How long a challenge secret may be redeemed (emulator clock); each is single-use. Clients read it at once. */
      secretTtlSeconds: 60,
      /**
       * The agent honours `client_id` / `object_id` / `msi_res_id` and echoes the identity it used (agents
       * since 1.67). `false` acts as older agents: selectors are ignored and the system-assigned identity answers.
       */
      userAssignedIdentities: true,
      /** `compute.sku` / `compute.version` of HIMDS's instance document: the machine's OS, per osType. */
      osSku: { Linux: 'Ubuntu 24.04.1 LTS', Windows: 'Windows Server 2022 Datacenter' },
      osVersion: { Linux: '6.8.0-1017-azure', Windows: '10.0.20348' },
    },
    /** ManagedIdentityExtensionForLinux/Windows: `settings.port` of the extension, 50342 unless changed. */
    vmExtension: { port: 50342 },
    /** App Service's local token service (the docs' IDENTITY_ENDPOINT sample, http://localhost:42356/msi/token). */
    appService: { port: 42356, path: '/msi/token' },
    /** Cloud Shell's MSI_ENDPOINT, http://localhost:50342/oauth2/token: the same port as the VM extension. */
    cloudShell: { port: 50342 },
    /** Service Fabric's managed identity token service (the docs' sample, https://localhost:2377/...). */
    serviceFabric: { port: 2377 },
    /** Azure Machine Learning compute's MSI_ENDPOINT, http://127.0.0.1:46808/MSI/auth. */
    azureMl: { port: 46808, path: '/MSI/auth' },
  },
  /** The Key Vault data plane (docs/key-vault.md). */
  keyVault: {
    /** The `key-vault` surface is on: the proxy serves `https://<vault>.vault.azure.net` from it. */
    enabled: true,
    /**
     * The default vault (until the world holds vaults): `kv-azimds-<first 8 hex digits of the subscription
     * id>` in the VM's resource group and region, RBAC authorization, soft delete 90 days, no purge protection.
     * The suffix mirrors the seed lab's `$(az account show --query id | cut -f1 -d-)`.
     */
    defaultVaultPrefix: 'kv-azimds-',
    softDeleteRetentionInDays: 90,
    /** The secret the default vault holds with zero config; the VM's identities may read it (Key Vault Secrets User). */
    sampleSecret: { name: 'sample-secret', value: 'Hello from azimds Key Vault', contentType: 'text/plain' },
    /** Azure serves secrets outside their nbf/exp window (the docs say it should not); `true` refuses them. */
    enforceValidityPeriod: false,
    /** Most items per page of a list (`maxresults`); Azure's limit is 25. */
    maxResults: 25,
  },
  /** The local Microsoft Entra ID: app registrations, the token endpoints, the workload-identity issuer (docs/entra.md). */
  entra: {
    /** Entra's routes are served (IMDS listener and the `entra` surface). */
    enabled: true,
    /** The tenant's initial domain, accepted in place of the tenant id (`/<domain>/oauth2/v2.0/token`). */
    domain: 'azimds.onmicrosoft.com',
    /**
     * Lifetime of an app-only access token: Entra's client-credential tokens report `expires_in` 3599
     * (an hour; Entra varies it between 60 and 90 minutes).
     */
    tokenLifetimeSeconds: 3599,
    /** The zero-config app registration: a generated client secret and a federated credential for this subject. */
    application: { displayName: 'azimds-app', subject: 'system:serviceaccount:default:default' },
    /** The audience of federated credentials when none is given, and of the workload issuer's tokens (as AKS's webhook projects them). */
    federatedAudience: 'api://AzureADTokenExchange',
    workloadIssuer: {
      /** Path below the IMDS listener's base URL of azimds's workload-identity (cluster) OIDC issuer. */
      path: '/workload-identity',
      /** Lifetime of projected service-account tokens: the AKS webhook's default expirationSeconds (3600). */
      tokenLifetimeSeconds: 3600,
    },
  },
} as const;
