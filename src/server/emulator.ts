import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { proxyEnvironment } from '../cli/sdk-environment.js';
import { fromGoSimulator, isGoSimulatorConfig } from '../config/go-simulator.js';
import { resolveConfig } from '../config/load.js';
import type { Config, ConfigInput } from '../config/schema.js';
import { EmulatorClock } from '../core/clock.js';
import { EntraDirectory } from '../core/directory/directory.js';
import { FaultSet } from '../core/faults/fault-set.js';
import { Fleet } from '../core/fleet/fleet.js';
import { fleetMembers } from '../core/fleet/members.js';
import { createVmState, type VmState } from '../core/fleet/vm-state.js';
import { KeyVaults } from '../core/key-vault/key-vaults.js';
import type { Machine } from '../core/machines/machine.js';
import { Platforms } from '../core/platforms/platforms.js';
import type { EmulatorState } from '../core/state.js';
import { localCaOf } from '../core/tls/local-ca.js';
import { TokenService } from '../core/tokens/service.js';
import { useConfiguredSources } from '../core/tokens/sources/create.js';
import { vaultCatalogOf } from '../core/world/key-vault.js';
import { createWorldRbac } from '../core/world/roles.js';
import { World } from '../core/world/world.js';
import { apiNotFound, internalServerError } from '../errors.js';
import { armListenerSpec } from '../protocols/arm/listener.js';
import { controlAddress } from '../protocols/control/address.js';
import { controlListenerSpec } from '../protocols/control/listener.js';
import { setListenerUrls } from '../protocols/dashboard/overview.js';
import { entraListenerSpec } from '../protocols/entra/listener.js';
import { entraPlugin } from '../protocols/entra/plugin.js';
import { identityImdsPlugin } from '../protocols/identity-imds/plugin.js';
import { attestedPlugin } from '../protocols/imds/attested.js';
import { loadBalancerPlugin } from '../protocols/imds/load-balancer.js';
import { IMDS_HEADERS, imdsPlugin } from '../protocols/imds/plugin.js';
import { scheduledEventsPlugin } from '../protocols/imds/scheduled-events.js';
import { keyVaultListenerSpec } from '../protocols/key-vault/listener.js';
import { oidcPlugin } from '../protocols/oidc/plugin.js';
import { platformListenerSpecs, runningEnvironment } from '../protocols/platforms.js';
import { type EmulatorControls, emulatorControls } from './controls.js';
import { deferredListener } from './lazy-surface.js';
import { buildListenerApp, type ListenerSpec, type RunningListener, startListener } from './listener.js';
import { createLogger } from './logger.js';
import { proxyListenerSpec } from './proxy/proxy-server.js';
import { RequestDetails } from './request-details.js';
import { RequestLog } from './request-log.js';
import { type EmulatorVm, emulatorVm } from './vm-handle.js';
import { vmListenerOpener } from './vm-listeners.js';

/** Options of `startEmulator`: the config file's schema, as an object, plus library-only settings. */
export interface EmulatorOptions extends ConfigInput {
  /** A pino logger to use instead of creating one (the CLI passes its own). */
  logger?: Logger;
}

/** Base URLs of the enabled surfaces; a surface that is off has no entry. */
export interface EmulatorUrls {
  /** IMDS base URL, e.g. `http://127.0.0.1:8169` (the path `/metadata/...` follows). */
  imds?: string;
  /** The control API (docs/control-api.md), e.g. `http://127.0.0.1:8170`. */
  control?: string;
  /** Azure Arc's HIMDS (docs/platforms/arc.md), e.g. `http://127.0.0.1:40342`. */
  arc?: string;
  /** The legacy VM extension's `/oauth2/token` (docs/platforms/vm-extension.md). */
  vmExtension?: string;
  /** App Service's token service; the path (`/msi/token`) follows (docs/platforms/app-service.md). */
  appService?: string;
  /** Cloud Shell's `/oauth2/token` (docs/platforms/cloud-shell.md). */
  cloudShell?: string;
  /** Service Fabric's token service, `https://...` (docs/platforms/service-fabric.md). */
  serviceFabric?: string;
  /** Azure ML's token service; the path (`/MSI/auth`) follows (docs/platforms/azure-ml.md). */
  azureMl?: string;
  /** The local proxy for Azure's own host names (docs/proxy.md), e.g. `http://127.0.0.1:8171`. */
  proxy?: string;
  /**
   * Azure Resource Manager's direct endpoint (docs/arm.md), HTTPS with the local CA, e.g.
   * `https://127.0.0.1:8172`; in the library only when `arm.port` is given (the proxy serves ARM anyway).
   */
  arm?: string;
  /** Key Vault's direct endpoint (docs/key-vault.md), HTTPS with the local CA, when `keyVault.port` is set. */
  'key-vault'?: string;
}

/** A running emulator; `faults`, `clock`, `requestLog`, `patchVm()`, `reset()` come from EmulatorControls. */
export interface EmulatorHandle extends EmulatorControls {
  /** Base URL of each enabled surface. */
  readonly urls: EmulatorUrls;
  /** The resolved configuration (after defaults). */
  readonly config: Config;
  /** Live state: the VM, the clock. Tests may change it; protocols see the change at once. */
  readonly state: EmulatorState;
  /**
   * The environment variables of code running on `platform` (`imds`, `arc`, `app-service`,
   * `service-fabric`, ... or their ids such as `appService`), pointing at this emulator: a value per
   * variable to set, `undefined` per managed-identity variable the platform does not set (remove it,
   * or the SDKs may pick another platform). The SDKs read them when a credential is built.
   * @example
   * ```ts
   * for (const [k, v] of Object.entries(azimds.env('app-service'))) {
   *   if (v === undefined) delete process.env[k]; else process.env[k] = v;
   * }
   * const token = await new ManagedIdentityCredential().getToken('https://vault.azure.net/.default');
   * ```
   * @throws AzimdsError `NOT_RUNNING` when that platform is not enabled, `INVALID_INPUT` for an unknown name.
   */
  env(platform?: string): Record<string, string | undefined>;
  /**
   * The proxy block of `azimds env` for this emulator (docs/proxy.md): HTTP(S)_PROXY to its proxy, the
   * local CA's files (created now if needed), AZURE_POD_IDENTITY_AUTHORITY_HOST, ... Code started with
   * these variables reaches 169.254.169.254 and Azure's HTTPS host names on this emulator.
   * @throws AzimdsError `NOT_RUNNING` when the proxy is off.
   */
  proxyEnv(): Record<string, string>;
  /**
   * One VM of the fleet (docs/fleet.md): its state, its proxy URL, its own ports (`listen()`), and the
   * environment of a process that is that VM (`await handle.vm('azimds-vm-02').env()`).
   * @throws AzimdsError `INVALID_INPUT` when no VM has that name.
   */
  vm(name: string): EmulatorVm;
  /** Stops every listener; resolves when all sockets are closed. Safe to call twice. */
  close(): Promise<void>;
}

/** Creates the shared state of an emulator from a resolved config. */
export function createState(config: Config, log?: Logger): EmulatorState {
  const clock = new EmulatorClock();
  const faults = new FaultSet({ clock });
  faults.replace(config.faults);
  // The VMs (docs/fleet.md): member 0 is the default VM, whose state is `state.machine`, `state.identities`, ...
  const byMachine = new WeakMap<Machine, VmState>();
  const fleet = new Fleet<VmState>(fleetMembers(config.vm, config.fleet), (member) => {
    const vm = createVmState(member, config, clock);
    byMachine.set(vm.machine, vm);
    return vm;
  });
  const primary = fleet.context(fleet.defaultMember);
  const { machine, identities } = primary;
  const now = () => new Date(clock.now()).toISOString();
  // ARM sees every VM of the fleet; a VM's state is created when ARM first lists it.
  const world = new World({
    config,
    machines: () => (fleet.size === 1 ? [machine] : fleet.members.map((m) => fleet.context(m).machine)),
    identities: (m) => (byMachine.get(m) ?? primary).identities.current,
    primary: () => machine,
    resourceGroups: () => new Set(fleet.members.map((m) => m.resourceGroupName)),
    now,
  });
  // Real token sources (docs/token-sources.md) behind the local issuer's cache, when configured.
  const tokens = useConfiguredSources(new TokenService(config, clock), config, {
    clock,
    ...(log ? { log } : {}),
  });
  // The request log, and the details of its newest requests for the dashboard (requestLog.details):
  // kept as references by whoever records a request, redacted and decoded when read.
  const requestLog = new RequestLog(config.requestLog.size, clock, config.requestLog.maxBytes);
  const requestDetails = new RequestDetails(
    config.requestLog.size === 0 ? 0 : config.requestLog.details,
    () => tokens.keys.publicKeys(),
    config.requestLog.detailsMaxBytes,
  );
  if (requestDetails.size > 0) requestLog.details = requestDetails;
  // App registrations (docs/entra.md) are principals of role assignments like managed identities.
  const directory = new EntraDirectory(config, () => identities.tenantId, tokens.keys, clock);
  const rbac = createWorldRbac(config.world, world, now, directory);
  return {
    config,
    clock,
    machine,
    identities,
    world,
    rbac,
    // Vaults are the world's Microsoft.KeyVault/vaults; their data plane asks the same RBAC (docs/key-vault.md).
    keyVaults: new KeyVaults({
      config: config.keyVault,
      clock,
      catalog: vaultCatalogOf(world),
      checker: rbac,
    }),
    tokens,
    directory,
    fleet,
    scheduledEvents: primary.scheduledEvents,
    attestation: primary.attestation,
    loadBalancer: primary.loadBalancer,
    faults,
    requestLog,
    requestDetails,
    platforms: new Platforms(config, clock),
    localCa: localCaOf(config),
  };
}

/** The listeners a config asks for, each with its plugins. */
export function listenerSpecs(state: EmulatorState): ListenerSpec[] {
  const { config } = state;
  const specs: ListenerSpec[] = [];
  if (config.imds.enabled) {
    specs.push({
      name: 'imds',
      host: config.imds.host ?? config.host,
      port: config.imds.port,
      plugins: [
        { plugin: imdsPlugin as never, options: { state } },
        { plugin: scheduledEventsPlugin as never, options: { state } },
        { plugin: attestedPlugin as never, options: { state } },
        { plugin: loadBalancerPlugin as never, options: { state } },
        { plugin: identityImdsPlugin as never, options: { state } },
        // OIDC discovery of the local issuer rides on the IMDS listener (docs/managed-identity.md).
        { plugin: oidcPlugin as never, options: { state } },
        // Entra's token endpoints and the workload-identity issuer ride there too (docs/entra.md).
        ...(config.entra.enabled
          ? [{ plugin: entraPlugin as never, options: { state, workloadIssuer: true } }]
          : []),
      ],
      errors: {
        notFound: (request) => apiNotFound(request.url.split('?')[0] ?? '/', request.method),
        internal: () => internalServerError,
      },
      headers: IMDS_HEADERS,
    });
  }
  // Arc, App Service, Service Fabric, ...: one listener each (docs/platforms/).
  specs.push(...platformListenerSpecs(state));
  // Entra's hosts through the proxy (docs/entra.md): discovery, JWKS and the token endpoints as
  // https://login.microsoftonline.com serves them; the IMDS listener serves them directly too.
  if (config.entra.enabled) {
    const { port: _direct, ...proxyOnly } = entraListenerSpec(state);
    specs.push(proxyOnly);
  }
  // Azure Resource Manager's direct endpoint (docs/arm.md); the proxy routes management.azure.com to it.
  if (config.arm.enabled) specs.push(armListenerSpec(state));
  // Key Vault's direct endpoint, when it has a port (without one the surface is reached through the proxy only).
  // Key Vault (docs/key-vault.md): through the proxy always; a direct endpoint only when `keyVault.port` is set.
  if (config.keyVault.enabled) specs.push(keyVaultListenerSpec(state));
  // Fault injection and the request log watch every surface; the control API is not one of them.
  for (const spec of specs) spec.instrument ??= { faults: state.faults, requestLog: state.requestLog };
  // Host names the Azure surfaces answer to besides their own (server/host-guard.ts).
  for (const spec of specs) spec.allowedHosts ??= config.allowedHosts;
  if (config.control.enabled) specs.push(controlListenerSpec(state, controlAddress(config)));
  // The proxy (docs/proxy.md) serves the surfaces above by host name: src/server/proxy/host-table.ts.
  if (config.proxy.enabled) specs.push(proxyListenerSpec(state, [...specs]));
  return specs;
}

/**
 * Resolves library options into a config. Unlike the CLI, the library listens on port 0 (a free
 * port) unless a port is given, and logs nothing unless asked, so parallel test suites never clash.
 */
export function libraryConfig(options: EmulatorOptions): Config {
  const { logger: _logger, ...input } = options;
  // The Go simulator's config.json works as options too; translate it before adding library defaults.
  const raw = (isGoSimulatorConfig(input) ? fromGoSimulator(input) : structuredClone(input)) as Record<
    string,
    Record<string, unknown> | unknown
  >;
  const imds = (raw.imds ?? {}) as Record<string, unknown>;
  raw.imds = { ...imds, port: imds.port ?? 0 };
  // Each platform given, too: a free port unless the caller picks one.
  const platforms = raw.platforms;
  if (platforms && typeof platforms === 'object' && !Array.isArray(platforms)) {
    raw.platforms = Object.fromEntries(
      Object.entries(platforms).map(([id, p]) => [
        id,
        p && typeof p === 'object' ? { ...p, port: (p as { port?: unknown }).port ?? 0 } : p,
      ]),
    );
  }
  // The CLI derives the control API's and the proxy's ports from the IMDS port (+1, +2); the library
  // gives them free ports unless the caller picks them, so a suite that fixes the IMDS port never
  // collides with whatever holds the ports next to it.
  for (const key of ['control', 'proxy']) {
    const section = raw[key] ?? {};
    if (section && typeof section === 'object' && !Array.isArray(section)) {
      const port = (section as { port?: unknown }).port;
      raw[key] = { ...section, port: port ?? 0 };
    }
  }
  raw.logLevel = raw.logLevel ?? 'silent';
  // Unless the caller picks a data directory, tests never write to ~: signing keys stay in memory (unless
  // a key store is given), and what must be a file (the attestation CA, Service Fabric's certificate) goes
  // to a private directory under the OS temp directory, created on first use and removed on close.
  let ephemeral = false;
  if (raw.dataDir === undefined) {
    const tokens = (raw.tokens ?? {}) as Record<string, unknown>;
    const keys = (tokens.keys ?? {}) as Record<string, unknown>;
    if (keys.store === undefined) raw.tokens = { ...tokens, keys: { ...keys, store: 'memory' } };
    raw.dataDir = join(tmpdir(), `azimds-${randomUUID()}`);
    ephemeral = true;
  }
  const config = resolveConfig(raw, [], 'startEmulator options');
  if (ephemeral) ephemeralDataDirs.add(config);
  return config;
}

/** Configs whose `dataDir` the library chose; the emulator removes it when it closes. */
const ephemeralDataDirs = new WeakSet<Config>();

/** Removes the data directory of a library emulator when the library created it. */
function removeEphemeralDataDir(config: Config): Promise<void> {
  return ephemeralDataDirs.has(config)
    ? rm(config.dataDir, { recursive: true, force: true })
    : Promise.resolve();
}

/**
 * Starts an emulator in this process.
 *
 * @example
 * ```ts
 * import { startEmulator } from 'azimds';
 * const azimds = await startEmulator({ vm: { compute: { name: 'web-01', tags: { env: 'test' } } } });
 * const res = await fetch(`${azimds.urls.imds}/metadata/instance?api-version=2021-02-01`, {
 *   headers: { Metadata: 'true' },
 * });
 * await azimds.close();
 * ```
 * @throws AzimdsError `CONFIG_INVALID` for a bad option, `LISTEN_FAILED` when a port cannot be bound
 * (nothing is left listening in either case).
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const config = libraryConfig(options);
  return startWithConfig(config, options.logger ?? createLogger(config.logLevel));
}

/** Starts an emulator from a resolved config (the CLI's entry point). */
export async function startWithConfig(config: Config, log: Logger): Promise<EmulatorHandle> {
  const state = createState(config, log);
  for (const vault of state.keyVaults.seededVaultsNotFound()) {
    log.warn(
      { vault },
      `keyVault.secrets names vault "${vault}", which does not exist: its secrets are not seeded`,
    );
  }
  const running: RunningListener[] = [];
  try {
    for (const spec of listenerSpecs(state)) {
      if (spec.port === undefined) continue;
      // The control API and the dashboard listen now and are built on their first request.
      const bound = spec.name === 'control' ? deferredListener(spec, log) : spec;
      running.push(await startListener(bound, log));
    }
  } catch (error) {
    await Promise.all(running.map((l) => l.app.close()));
    throw error;
  }
  const urls: Record<string, string> = {};
  for (const l of running) urls[l.name] = l.url;
  setListenerUrls(state, urls);
  // Per-VM ports, opened on demand (POST /vms/{name}/listeners, handle.vm(name).listen()).
  state.vmListeners = vmListenerOpener(
    state,
    () => listenerSpecs(state).find((s) => s.name === 'imds'),
    running,
    log,
  );
  let closing: Promise<void> | undefined;
  return {
    urls: urls as EmulatorUrls,
    config,
    state,
    ...emulatorControls(state),
    env: (platform = 'imds') => runningEnvironment(state, urls, platform),
    proxyEnv: () =>
      Object.fromEntries(
        proxyEnvironment(urls, {
          certFile: state.localCa.certFile(),
          bundleFile: state.localCa.bundleFile(),
        }),
      ),
    vm: (name) => emulatorVm(state, urls, name),
    close: () => {
      closing ??= Promise.all(running.map((l) => l.app.close())).then(() => removeEphemeralDataDir(config));
      return closing;
    },
  };
}

/**
 * Builds the fastify app of one surface without a socket, for `inject()` tests.
 * @example `const app = await buildSurface('imds', { vm: {...} }); await app.inject({ url: '/metadata/versions' })`
 */
export async function buildSurface(name: string, options: EmulatorOptions = {}) {
  const config = libraryConfig(options);
  const log = options.logger ?? createLogger(config.logLevel);
  const state = createState(config, log);
  const spec = listenerSpecs(state).find((s) => s.name === name);
  if (!spec) throw new Error(`surface ${name} is not enabled by these options`);
  const app = await buildListenerApp(spec, log);
  app.addHook('onClose', () => removeEphemeralDataDir(config));
  await app.ready();
  return Object.assign(app, { state });
}
