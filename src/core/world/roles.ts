import type { WorldConfig } from '../../config/world-schema.js';
import { AzimdsError } from '../../errors.js';
import { stableUuid } from '../ids.js';
import { ROLE_IDS, type RoleDefinition } from '../rbac/built-in-roles.js';
import { Rbac, type RbacPrincipal, type RoleAssignment } from '../rbac/rbac.js';
import { VAULT_TYPE } from './key-vault.js';
import { parseResourceId, resourceGroupId } from './resource.js';
import type { World } from './world.js';

/**
 * The world's RBAC: built-in roles, `world.roleDefinitions`, and either `world.roleAssignments` or the
 * zero-config assignments, derived live from the VMs' identities (so an identity attached later holds
 * them too): each identity of each VM holds Reader on the VM's resource group and Key Vault Secrets
 * User on the zero-config vault; the zero-config app registration (docs/entra.md) holds Reader on the
 * first VM's resource group. Principals: the world's (VM and stored user-assigned identities) and the
 * directory's service principals (app registrations).
 * @throws AzimdsError `CONFIG_INVALID` when an assignment names an unknown role or identity.
 */
export function createWorldRbac(
  config: WorldConfig,
  world: World,
  now: () => string,
  directory?: AppDirectory,
): Rbac {
  const customRoles: RoleDefinition[] = config.roleDefinitions.map((d) => ({
    name: (d.name ?? stableUuid(`role/${d.roleName}`)).toLowerCase(),
    roleName: d.roleName,
    type: 'CustomRole',
    description: d.description,
    assignableScopes: d.assignableScopes ?? homeScopes(world),
    permissions: d.permissions,
  }));
  const started = now();
  const roleOf = (role: string): string => {
    const guid = role.slice(role.lastIndexOf('/') + 1).toLowerCase();
    const found =
      customRoles.find((r) => r.name === guid || r.roleName.toLowerCase() === role.toLowerCase()) ??
      probe.roleDefinition(guid) ??
      probe.roleDefinitionByName(role);
    if (!found)
      throw new AzimdsError('CONFIG_INVALID', `world.roleAssignments: no role definition "${role}"`);
    return found.name;
  };
  const probe = new Rbac({ now });
  const home = world.homeVm();
  const homeGroup = home ? groupOf(home.vm.id) : '/';
  const explicit: RoleAssignment[] | undefined = config.roleAssignments?.map((a) => {
    let principalId = a.principalId?.toLowerCase();
    if (a.identity !== undefined) {
      const match = [...world.principals(), ...(directory?.principals() ?? [])].find(
        (p) => p.displayName?.toLowerCase() === a.identity?.toLowerCase(),
      );
      if (!match) {
        throw new AzimdsError(
          'CONFIG_INVALID',
          `world.roleAssignments: no identity named "${a.identity}" (the VM's name is its system-assigned identity's)`,
        );
      }
      principalId = match.principalId;
    }
    const roleDefinitionName = roleOf(a.role);
    const scope = a.scope ?? homeGroup;
    return {
      name: (
        a.name ?? stableUuid(`assignment/${principalId}/${roleDefinitionName}/${scope.toLowerCase()}`)
      ).toLowerCase(),
      scope,
      roleDefinitionName,
      principalId: principalId as string,
      principalType: a.principalType ?? 'ServicePrincipal',
      ...(a.description ? { description: a.description } : {}),
      createdOn: started,
      updatedOn: started,
    };
  });
  const rbac = new Rbac({
    customRoles,
    ...(explicit ? { assignments: explicit } : {}),
    ...(explicit ? {} : { defaultAssignments: memoizedDefaults(world, config, started, directory) }),
    now,
  });
  rbac.addPrincipalSource(() => world.principals());
  if (directory) rbac.addPrincipalSource(() => directory.principals());
  return rbac;
}

/** The app registrations RBAC knows (src/core/directory): principals, and those zero config grants Reader. */
export interface AppDirectory {
  principals(): Iterable<RbacPrincipal>;
  /** Object ids of the zero-config app registrations (none when `entra.applications` is configured). */
  zeroConfigPrincipalIds(): readonly string[];
}

/**
 * `defaultAssignments` derived once per state of what they depend on: every ARM and Key Vault request
 * asks RBAC, and deriving them hashes a stable GUID per assignment. The key is the world's derived VMs
 * (the same array while no VM or identity changed), its home VM, its stored-state revision (vaults)
 * and the zero-config app principals.
 */
function memoizedDefaults(
  world: World,
  config: WorldConfig,
  at: string,
  directory: AppDirectory | undefined,
): () => RoleAssignment[] {
  let key: unknown[] = [];
  let value: RoleAssignment[] = [];
  return () => {
    const now = [world.vms(), world.homeVm(), world.revision, ...(directory?.zeroConfigPrincipalIds() ?? [])];
    if (now.length !== key.length || now.some((k, i) => k !== key[i])) {
      value = defaultAssignments(world, config, at, directory);
      key = now;
    }
    return value;
  };
}

/** The zero-config assignments (see createWorldRbac), with stable GUIDs. */
function defaultAssignments(
  world: World,
  config: WorldConfig,
  at: string,
  directory: AppDirectory | undefined,
): RoleAssignment[] {
  const out: RoleAssignment[] = [];
  const home = world.homeVm();
  for (const principalId of home ? (directory?.zeroConfigPrincipalIds() ?? []) : []) {
    const scope = groupOf((home as { vm: { id: string } }).vm.id);
    out.push({
      name: stableUuid(`assignment/default/${principalId}/${ROLE_IDS.reader}/${scope.toLowerCase()}`),
      scope,
      roleDefinitionName: ROLE_IDS.reader,
      principalId,
      principalType: 'ServicePrincipal',
      createdOn: at,
      updatedOn: at,
      isDefault: true,
    });
  }
  const vaultName =
    config.keyVault === false ? undefined : (config.keyVault.name ?? world.defaultVaultName());
  for (const d of world.vms()) {
    const group = groupOf(d.vm.id);
    const vault = vaultName ? world.resource(`${group}/providers/${VAULT_TYPE}/${vaultName}`) : undefined;
    const principals = [
      d.vm.identity?.principalId,
      ...Object.values(
        (d.vm.identity?.userAssignedIdentities ?? {}) as Record<string, { principalId: string }>,
      ).map((u) => u.principalId),
    ].filter((p): p is string => typeof p === 'string');
    for (const principalId of principals) {
      const grant = (roleDefinitionName: string, scope: string) =>
        out.push({
          name: stableUuid(`assignment/default/${principalId}/${roleDefinitionName}/${scope.toLowerCase()}`),
          scope,
          roleDefinitionName,
          principalId,
          principalType: 'ServicePrincipal',
          createdOn: at,
          updatedOn: at,
          isDefault: true,
        });
      grant(ROLE_IDS.reader, group);
      if (vault) grant(ROLE_IDS.keyVaultSecretsUser, vault.id);
    }
  }
  return out;
}

function groupOf(id: string): string {
  const p = parseResourceId(id);
  return p ? resourceGroupId(p.subscriptionId, p.resourceGroup) : '/';
}

function homeScopes(world: World): string[] {
  return world.subscriptions().map((s) => `/subscriptions/${s.subscriptionId}`);
}
