/**
 * The managed-identity platforms azimds emulates besides IMDS. The id is the config key
 * (`platforms.<id>`), the listener's name (request log, fault rules' `surface`) and the key of
 * `handle.urls`; the CLI name is what `--platform` and the docs use.
 */
export const PLATFORM_IDS = [
  'arc',
  'vmExtension',
  'appService',
  'cloudShell',
  'serviceFabric',
  'azureMl',
] as const;

export type PlatformId = (typeof PLATFORM_IDS)[number];

/** Where code can get a managed-identity token: IMDS or one of the platforms. */
export type TokenPlatform = 'imds' | PlatformId;

export interface PlatformInfo {
  /** Name on the command line and in docs/platforms/<name>.md. */
  readonly cliName: string;
  /** Human name for the start banner. */
  readonly title: string;
}

export const PLATFORMS: Readonly<Record<PlatformId, PlatformInfo>> = {
  arc: { cliName: 'arc', title: 'Azure Arc (HIMDS)' },
  vmExtension: { cliName: 'vm-extension', title: 'VM extension (legacy)' },
  appService: { cliName: 'app-service', title: 'App Service / Functions / Container Apps' },
  cloudShell: { cliName: 'cloud-shell', title: 'Cloud Shell' },
  serviceFabric: { cliName: 'service-fabric', title: 'Service Fabric' },
  azureMl: { cliName: 'azure-ml', title: 'Azure Machine Learning' },
};

/** The CLI names, for help texts: `arc, vm-extension, app-service, ...`. */
export const PLATFORM_CLI_NAMES: readonly string[] = PLATFORM_IDS.map((id) => PLATFORMS[id].cliName);

/** The platform a name denotes: its CLI name or its id, any case (`app-service`, `appService`). */
export function platformByName(name: string): PlatformId | undefined {
  const wanted = name.trim().toLowerCase();
  return PLATFORM_IDS.find((id) => id.toLowerCase() === wanted || PLATFORMS[id].cliName === wanted);
}

/** `imds` or a platform, by name (see `platformByName`). */
export function tokenPlatformByName(name: string): TokenPlatform | undefined {
  return name.trim().toLowerCase() === 'imds' ? 'imds' : platformByName(name);
}

/**
 * A listener (surface) name as the request log and fault rules use it: `imds` or a platform's id for
 * any of its names (`app-service`, `appService`, `App-Service`), any other surface's name unchanged.
 */
export function surfaceName(name: string): string {
  return tokenPlatformByName(name) ?? name;
}
