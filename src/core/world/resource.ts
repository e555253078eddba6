/**
 * The shapes of the world: ARM resources, resource groups, subscriptions, and resource ids.
 * Field names are ARM's (Resource, GenericResource, ResourceGroup, Subscription in the
 * azure-rest-api-specs `resources` and `subscriptions` specs).
 */

/** A resource as ARM serves it (`GET {id}`): the common envelope and the provider's `properties`. */
export interface ArmResource {
  readonly id: string;
  readonly name: string;
  /** `Namespace/type[/childType]`, as the provider spells it. */
  readonly type: string;
  readonly location?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly kind?: string;
  readonly sku?: Readonly<Record<string, unknown>>;
  readonly identity?: Readonly<Record<string, unknown>>;
  readonly zones?: readonly string[];
  readonly managedBy?: string;
  readonly properties: Readonly<Record<string, unknown>>;
  /** When it was created and last changed (ISO 8601): GenericResourceExpanded's `createdTime`/`changedTime`. */
  readonly createdTime: string;
  readonly changedTime: string;
  /**
   * `stored`: created from config or through ARM, changed and deleted freely. `derived`: a view of the
   * emulated VM (the VM, its NICs, public IPs, disks, virtual network, user-assigned identities, the
   * Arc machine), computed from the VM's config and identities, so IMDS, tokens and ARM always agree.
   */
  readonly origin: 'stored' | 'derived';
}

/** A resource group (`Microsoft.Resources/resourceGroups`). */
export interface ResourceGroup {
  readonly id: string;
  readonly name: string;
  readonly type: 'Microsoft.Resources/resourceGroups';
  readonly location: string;
  readonly managedBy?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly properties: { readonly provisioningState: 'Succeeded' };
}

/** A subscription of the world's tenant. */
export interface Subscription {
  readonly subscriptionId: string;
  readonly displayName: string;
  readonly tenantId: string;
}

/** The parts of an ARM resource id. */
export interface ResourceIdParts {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** `Microsoft.Compute/virtualMachines`, `Microsoft.Network/virtualNetworks/subnets`. */
  readonly type: string;
  /** The last name segment (`default` for `…/virtualNetworks/vnet/subnets/default`). */
  readonly name: string;
}

/**
 * Parses `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{childType}/{childName}…]`
 * (segment names any case); undefined for anything else.
 */
export function parseResourceId(id: string): ResourceIdParts | undefined {
  const s = id.split('/');
  if (s[0] !== '' || s.length < 9 || s.length % 2 === 0) return undefined;
  if (s[1]?.toLowerCase() !== 'subscriptions' || s[3]?.toLowerCase() !== 'resourcegroups') return undefined;
  if (s[5]?.toLowerCase() !== 'providers') return undefined;
  if (s.some((part, i) => i > 0 && part === '')) return undefined;
  const types = [s[7]];
  for (let i = 9; i < s.length; i += 2) types.push(s[i]);
  return {
    subscriptionId: s[2] as string,
    resourceGroup: s[4] as string,
    type: `${s[6]}/${types.join('/')}`,
    name: s[s.length - 1] as string,
  };
}

/** The resource group id `/subscriptions/{s}/resourceGroups/{rg}`. */
export function resourceGroupId(subscriptionId: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${name}`;
}

/** Lower-case key of an id (ARM ids compare case-insensitively), without trailing slashes. */
export function idKey(id: string): string {
  return id.toLowerCase().replace(/\/+$/, '');
}
