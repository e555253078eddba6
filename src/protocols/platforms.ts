import {
  PLATFORM_CLI_NAMES,
  PLATFORM_IDS,
  type PlatformId,
  tokenPlatformByName,
} from '../core/platforms/catalog.js';
import { environmentRecord, platformEnvironment } from '../core/platforms/environment.js';
import type { SecretPlatform } from '../core/platforms/secrets.js';
import type { EmulatorState } from '../core/state.js';
import { AzimdsError } from '../errors.js';
import type { ListenerSpec } from '../server/listener.js';
import { appServiceListenerSpec } from './app-service/plugin.js';
import { arcListenerSpec } from './arc/listener.js';
import { azureMlListenerSpec } from './azure-ml/plugin.js';
import { cloudShellListenerSpec } from './cloud-shell/plugin.js';
import { serviceFabricListenerSpec } from './service-fabric/plugin.js';
import { vmExtensionListenerSpec } from './vm-extension/plugin.js';

const SPECS: Readonly<Record<PlatformId, (state: EmulatorState) => ListenerSpec>> = {
  arc: arcListenerSpec,
  vmExtension: vmExtensionListenerSpec,
  appService: appServiceListenerSpec,
  cloudShell: cloudShellListenerSpec,
  serviceFabric: serviceFabricListenerSpec,
  azureMl: azureMlListenerSpec,
};

/**
 * The listeners of the enabled managed-identity platforms (`platforms.<id>.enabled`), one each.
 * @throws AzimdsError `KEY_STORE` when Service Fabric's certificate or a generated secret cannot be stored.
 */
export function platformListenerSpecs(state: EmulatorState): ListenerSpec[] {
  return PLATFORM_IDS.filter((id) => state.config.platforms[id].enabled).map((id) => {
    // A secret that cannot be stored fails the start, not the first request.
    if (SECRET_PLATFORMS.includes(id as SecretPlatform)) state.platforms.secrets.get(id as SecretPlatform);
    return SPECS[id](state);
  });
}

const SECRET_PLATFORMS: readonly PlatformId[] = ['appService', 'serviceFabric', 'azureMl'];

/**
 * The environment of code running on `platform` against this emulator (see `platformEnvironment`):
 * a value per variable to set, `undefined` per managed-identity variable to remove.
 * @throws AzimdsError `INVALID_INPUT` for an unknown name, `NOT_RUNNING` when that surface is not listening.
 */
export function runningEnvironment(
  state: EmulatorState,
  urls: Readonly<Record<string, string | undefined>>,
  name: string,
): Record<string, string | undefined> {
  const platform = tokenPlatformByName(name);
  if (!platform) {
    throw new AzimdsError(
      'INVALID_INPUT',
      `unknown platform "${name}"; one of: imds, ${PLATFORM_CLI_NAMES.join(', ')}`,
    );
  }
  const url = urls[platform];
  if (!url) {
    const how = platform === 'imds' ? 'imds.enabled' : `platforms.${platform}.enabled`;
    throw new AzimdsError('NOT_RUNNING', `${name} is not enabled in this emulator (${how})`);
  }
  return environmentRecord(platformEnvironment(platform, url, state));
}
