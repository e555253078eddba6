import type { Config } from '../../config/schema.js';
import type { WorldConfig } from '../../config/world-schema.js';
import { IdentityDirectory } from '../identities/directory.js';
import type { Machine } from '../machines/machine.js';
import { createWorldRbac } from './roles.js';
import { World } from './world.js';

/**
 * The `world` config with what azimds generates written out (`azimds start --print-config`): the
 * zero-config vault's name and the role assignments in force (the defaults expanded, with role names),
 * so the printed file reloads into the same world and shows who may do what.
 */
export function generatedWorldConfig(config: Config, machine: Machine): WorldConfig {
  const identities = new IdentityDirectory(config, machine);
  const now = () => new Date().toISOString();
  const world = new World({ config, machines: () => [machine], identities: () => identities.current, now });
  const rbac = createWorldRbac(config.world, world, now);
  return {
    ...config.world,
    keyVault:
      config.world.keyVault === false
        ? false
        : {
            // In the schema's key order, so that printing the printed config gives the same text.
            name: config.world.keyVault.name ?? world.defaultVaultName(),
            enableRbacAuthorization: config.world.keyVault.enableRbacAuthorization,
          },
    roleAssignments: rbac.assignments().map((a) => ({
      name: a.name,
      principalId: a.principalId,
      principalType: a.principalType,
      role: rbac.roleDefinition(a.roleDefinitionName)?.roleName ?? a.roleDefinitionName,
      scope: a.scope,
      ...(a.description ? { description: a.description } : {}),
    })),
  };
}
