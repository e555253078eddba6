import type { ResolvedIdentities } from '../identities/directory.js';
import { stableUuid } from '../ids.js';
import type { JsonObject } from '../machines/json.js';
import type { Machine } from '../machines/machine.js';
import { type ArmResource, resourceGroupId } from './resource.js';

/**
 * ARM views of one emulated VM, computed from what IMDS serves (its instance document) and from its
 * identities, so that every shared fact agrees: ids, names, location, zone, tags, size, image, IPs,
 * MAC addresses, disks, `identity.principalId` (= the `oid` of its tokens). Shapes follow the
 * Compute (VirtualMachine, Disk), Network (NetworkInterface, PublicIPAddress, VirtualNetwork),
 * ManagedIdentity (Identity) and HybridCompute (Machine) REST specs.
 *
 * Names ARM has and IMDS does not are derived from the VM's name: NIC `i` is `<vm>-nic` (`<vm>-nic-<i>`
 * after the first), its public IPs `<vm>-ip` (`<vm>-ip-<i>-<j>`), the virtual network `<rg>-vnet` with
 * subnet `default` (`subnet-<i>` for later NICs' subnets).
 */
export interface DerivedVm {
  readonly machine: Machine;
  /** The `Microsoft.Compute/virtualMachines` resource. */
  readonly vm: ArmResource;
  /** The VM, then its NICs, public IPs, virtual network, disks, user-assigned identities, Arc machine. */
  readonly resources: readonly ArmResource[];
}

export interface DeriveOptions {
  /** Whether the machine is an Azure Arc-enabled server too (`platforms.arc.enabled`). */
  readonly arc: boolean;
  /** When the world was created (ISO 8601): the resources' createdTime and timeCreated. */
  readonly createdAt: string;
}

const str = (o: JsonObject, key: string): string => (typeof o[key] === 'string' ? (o[key] as string) : '');
const obj = (o: JsonObject | undefined, key: string): JsonObject =>
  (o?.[key] as JsonObject | undefined) && typeof o?.[key] === 'object' && !Array.isArray(o?.[key])
    ? (o[key] as JsonObject)
    : {};

/** `6045BD123456` → `60-45-BD-12-34-56`, as the Network provider writes MAC addresses. */
export function armMacAddress(imdsMac: string): string {
  return (imdsMac.match(/.{1,2}/g) ?? []).join('-').toUpperCase();
}

/** The ARM resources of one VM (see `DerivedVm`). */
export function deriveVm(
  machine: Machine,
  identities: ResolvedIdentities,
  options: DeriveOptions,
): DerivedVm {
  const doc = machine.document;
  const c = doc.compute as JsonObject;
  const net = (obj(doc, 'network').interface as JsonObject[] | undefined) ?? [];
  const sub = str(c, 'subscriptionId');
  const rg = str(c, 'resourceGroupName');
  const name = str(c, 'name');
  const location = str(c, 'location');
  const zone = str(c, 'zone');
  const zones = zone ? [zone] : undefined;
  const group = resourceGroupId(sub, rg);
  const vmId = str(c, 'resourceId') || `${group}/providers/Microsoft.Compute/virtualMachines/${name}`;
  const tags = Object.fromEntries(
    ((c.tagsList as Array<{ name: string; value: string }> | undefined) ?? []).map((t) => [t.name, t.value]),
  );
  const created = options.createdAt;
  const base = (id: string, resName: string, type: string) => ({
    id,
    name: resName,
    type,
    location,
    createdTime: created,
    changedTime: created,
    origin: 'derived' as const,
  });
  const guid = (what: string) => stableUuid(`arm/${vmId.toLowerCase()}/${what}`);

  const vnetName = `${rg}-vnet`;
  const vnetId = `${group}/providers/Microsoft.Network/virtualNetworks/${vnetName}`;
  const subnets: Array<{ name: string; prefix: string }> = [];
  const nics: ArmResource[] = [];
  const publicIps: ArmResource[] = [];
  net.forEach((nic, i) => {
    const ipv4 = obj(nic, 'ipv4');
    const addresses = (ipv4.ipAddress as JsonObject[] | undefined) ?? [];
    const subnet = ((ipv4.subnet as JsonObject[] | undefined) ?? [])[0];
    const subnetName = i === 0 ? 'default' : `subnet-${i}`;
    const prefix = subnet ? `${str(subnet, 'address')}/${str(subnet, 'prefix')}` : '10.0.0.0/24';
    if (!subnets.some((s) => s.prefix === prefix)) subnets.push({ name: subnetName, prefix });
    const subnetId = `${vnetId}/subnets/${subnets.find((s) => s.prefix === prefix)?.name ?? subnetName}`;
    const nicName = i === 0 ? `${name}-nic` : `${name}-nic-${i}`;
    const nicId = `${group}/providers/Microsoft.Network/networkInterfaces/${nicName}`;
    const ipConfigurations = addresses.map((a, j) => {
      const ipcName = `ipconfig${j + 1}`;
      const ipcId = `${nicId}/ipConfigurations/${ipcName}`;
      const publicAddress = str(a, 'publicIpAddress');
      let publicIp: ArmResource | undefined;
      if (publicAddress) {
        const ipName = i === 0 && j === 0 ? `${name}-ip` : `${name}-ip-${i}-${j}`;
        publicIp = {
          ...base(
            `${group}/providers/Microsoft.Network/publicIPAddresses/${ipName}`,
            ipName,
            'Microsoft.Network/publicIPAddresses',
          ),
          ...(zones ? { zones } : {}),
          sku: { name: 'Standard', tier: 'Regional' },
          properties: {
            provisioningState: 'Succeeded',
            resourceGuid: guid(`pip/${i}/${j}`),
            ipAddress: publicAddress,
            publicIPAddressVersion: 'IPv4',
            publicIPAllocationMethod: 'Static',
            idleTimeoutInMinutes: 4,
            ipTags: [],
            ipConfiguration: { id: ipcId },
          },
        };
        publicIps.push(publicIp);
      }
      return {
        name: ipcName,
        id: ipcId,
        type: 'Microsoft.Network/networkInterfaces/ipConfigurations',
        properties: {
          provisioningState: 'Succeeded',
          privateIPAddress: str(a, 'privateIpAddress'),
          privateIPAllocationMethod: 'Dynamic',
          ...(publicIp ? { publicIPAddress: { id: publicIp.id } } : {}),
          subnet: { id: subnetId },
          primary: j === 0,
          privateIPAddressVersion: 'IPv4',
        },
      };
    });
    nics.push({
      ...base(nicId, nicName, 'Microsoft.Network/networkInterfaces'),
      tags: {},
      kind: 'Regular',
      properties: {
        provisioningState: 'Succeeded',
        resourceGuid: guid(`nic/${i}`),
        ipConfigurations,
        dnsSettings: { dnsServers: [], appliedDnsServers: [] },
        macAddress: armMacAddress(str(nic, 'macAddress')),
        enableAcceleratedNetworking: false,
        vnetEncryptionSupported: false,
        enableIPForwarding: false,
        primary: i === 0,
        virtualMachine: { id: vmId },
        hostedWorkloads: [],
        tapConfigurations: [],
        nicType: 'Standard',
        allowPort25Out: false,
        auxiliaryMode: 'None',
        auxiliarySku: 'None',
      },
    });
  });

  const vnet: ArmResource = {
    ...base(vnetId, vnetName, 'Microsoft.Network/virtualNetworks'),
    tags: {},
    properties: {
      provisioningState: 'Succeeded',
      resourceGuid: guid('vnet'),
      addressSpace: { addressPrefixes: subnets.map((s) => s.prefix) },
      subnets: subnets.map((s) => ({
        name: s.name,
        id: `${vnetId}/subnets/${s.name}`,
        type: 'Microsoft.Network/virtualNetworks/subnets',
        properties: { provisioningState: 'Succeeded', addressPrefix: s.prefix, delegations: [] },
      })),
      virtualNetworkPeerings: [],
      enableDdosProtection: false,
    },
  };

  const storage = obj(c, 'storageProfile');
  const image = obj(storage, 'imageReference');
  const osDisk = obj(storage, 'osDisk');
  const dataDisks = (storage.dataDisks as JsonObject[] | undefined) ?? [];
  const osType = str(c, 'osType') || 'Linux';
  const diskResource = (d: JsonObject, os: boolean): ArmResource | undefined => {
    const managed = obj(d, 'managedDisk');
    const id = str(managed, 'id');
    if (!id) return undefined;
    const diskName = id.slice(id.lastIndexOf('/') + 1);
    return {
      ...base(id, diskName, 'Microsoft.Compute/disks'),
      ...(zones ? { zones } : {}),
      managedBy: vmId,
      sku: { name: str(managed, 'storageAccountType') || 'Premium_LRS', tier: 'Premium' },
      properties: {
        ...(os ? { osType, hyperVGeneration: 'V2' } : {}),
        creationData: os
          ? {
              createOption: 'FromImage',
              imageReference: {
                id: `/Subscriptions/${sub}/Providers/Microsoft.Compute/Locations/${location}/Publishers/${str(image, 'publisher')}/ArtifactTypes/VMImage/Offers/${str(image, 'offer')}/Skus/${str(image, 'sku')}/Versions/${str(image, 'exactVersion') || str(c, 'version')}`,
              },
            }
          : { createOption: 'Empty' },
        diskSizeGB: Number(str(d, 'diskSizeGB')) || 0,
        diskIOPSReadWrite: 120,
        diskMBpsReadWrite: 25,
        encryption: { type: 'EncryptionAtRestWithPlatformKey' },
        networkAccessPolicy: 'AllowAll',
        publicNetworkAccess: 'Enabled',
        timeCreated: created,
        provisioningState: 'Succeeded',
        diskState: 'Attached',
        diskSizeBytes: (Number(str(d, 'diskSizeGB')) || 0) * 1024 ** 3,
        uniqueId: guid(`disk/${diskName.toLowerCase()}`),
      },
    };
  };
  const disks = [diskResource(osDisk, true), ...dataDisks.map((d) => diskResource(d, false))].filter(
    (d): d is ArmResource => d !== undefined,
  );

  const { systemAssigned, userAssigned, tenantId } = identities;
  const identityType = [systemAssigned ? 'SystemAssigned' : '', userAssigned.length ? 'UserAssigned' : '']
    .filter(Boolean)
    .join(', ');
  const identity = identityType
    ? {
        type: identityType,
        ...(systemAssigned ? { principalId: systemAssigned.principalId, tenantId } : {}),
        ...(userAssigned.length
          ? {
              userAssignedIdentities: Object.fromEntries(
                userAssigned.map((u) => [u.resourceId, { principalId: u.principalId, clientId: u.clientId }]),
              ),
            }
          : {}),
      }
    : undefined;

  const osProfile = obj(c, 'osProfile');
  const linux = osType === 'Linux';
  const security = obj(c, 'securityProfile');
  const vm: ArmResource = {
    ...base(vmId, name, 'Microsoft.Compute/virtualMachines'),
    tags,
    ...(identity ? { identity } : {}),
    ...(zones ? { zones } : {}),
    properties: {
      vmId: str(c, 'vmId'),
      hardwareProfile: { vmSize: str(c, 'vmSize') },
      ...(str(security, 'securityType')
        ? {
            securityProfile: {
              uefiSettings: {
                secureBootEnabled: str(security, 'secureBootEnabled') === 'true',
                vTpmEnabled: str(security, 'virtualTpmEnabled') === 'true',
              },
              securityType: str(security, 'securityType'),
            },
          }
        : {}),
      storageProfile: {
        imageReference: {
          publisher: str(image, 'publisher'),
          offer: str(image, 'offer'),
          sku: str(image, 'sku'),
          version: str(image, 'version') || 'latest',
          exactVersion: str(image, 'exactVersion') || str(c, 'version'),
        },
        osDisk: {
          osType,
          name: str(osDisk, 'name'),
          createOption: str(osDisk, 'createOption') || 'FromImage',
          caching: str(osDisk, 'caching') || 'ReadWrite',
          managedDisk: {
            storageAccountType: str(obj(osDisk, 'managedDisk'), 'storageAccountType') || 'Premium_LRS',
            id: str(obj(osDisk, 'managedDisk'), 'id'),
          },
          deleteOption: 'Delete',
          diskSizeGB: Number(str(osDisk, 'diskSizeGB')) || 30,
        },
        dataDisks: dataDisks.map((d) => ({
          lun: Number(str(d, 'lun')) || 0,
          name: str(d, 'name'),
          createOption: str(d, 'createOption') || 'Empty',
          caching: str(d, 'caching') || 'None',
          managedDisk: {
            storageAccountType: str(obj(d, 'managedDisk'), 'storageAccountType') || 'Premium_LRS',
            id: str(obj(d, 'managedDisk'), 'id'),
          },
          deleteOption: 'Detach',
          diskSizeGB: Number(str(d, 'diskSizeGB')) || 0,
          toBeDetached: false,
        })),
        diskControllerType: 'SCSI',
      },
      osProfile: {
        computerName: str(osProfile, 'computerName') || name,
        adminUsername: str(osProfile, 'adminUsername'),
        ...(linux
          ? {
              linuxConfiguration: {
                disablePasswordAuthentication: str(osProfile, 'disablePasswordAuthentication') === 'true',
                ssh: {
                  publicKeys: ((c.publicKeys as JsonObject[] | undefined) ?? []).map((k) => ({
                    path: str(k, 'path'),
                    keyData: str(k, 'keyData'),
                  })),
                },
                provisionVMAgent: true,
                patchSettings: { patchMode: 'ImageDefault', assessmentMode: 'ImageDefault' },
              },
            }
          : {
              windowsConfiguration: {
                provisionVMAgent: true,
                enableAutomaticUpdates: true,
                patchSettings: { patchMode: 'AutomaticByOS', assessmentMode: 'ImageDefault' },
              },
            }),
        secrets: [],
        allowExtensionOperations: true,
        requireGuestProvisionSignal: true,
      },
      networkProfile: {
        networkInterfaces: nics.map((n, i) => ({
          id: n.id,
          properties: { primary: i === 0, deleteOption: 'Detach' },
        })),
      },
      diagnosticsProfile: { bootDiagnostics: { enabled: true } },
      provisioningState: 'Succeeded',
      timeCreated: created,
    },
  };

  const uamis: ArmResource[] = userAssigned.map((u) => ({
    ...base(u.resourceId, u.name, 'Microsoft.ManagedIdentity/userAssignedIdentities'),
    tags: {},
    properties: {
      isolationScope: 'None',
      tenantId,
      principalId: u.principalId,
      clientId: u.clientId,
    },
  }));

  const arcMachine: ArmResource[] =
    options.arc && systemAssigned
      ? [
          {
            ...base(
              `${group}/providers/Microsoft.HybridCompute/machines/${name}`,
              name,
              'Microsoft.HybridCompute/machines',
            ),
            tags,
            kind: '',
            identity: { type: 'SystemAssigned', principalId: systemAssigned.principalId, tenantId },
            properties: {
              provisioningState: 'Succeeded',
              status: 'Connected',
              lastStatusChange: created,
              agentVersion: '1.47.02904.1897',
              machineFqdn: name,
              displayName: name,
              osName: linux ? 'linux' : 'windows',
              osType: linux ? 'linux' : 'windows',
              osVersion: str(c, 'version'),
              vmId: str(c, 'vmId'),
              vmUuid: str(c, 'vmId'),
              osSku: str(c, 'sku'),
              adFqdn: '',
              dnsFqdn: name,
              domainName: 'WORKGROUP',
              cloudMetadata: { provider: 'N/A' },
              detectedProperties: { totalPhysicalMemoryInGigabytes: '8', coreCount: '2' },
            },
          },
        ]
      : [];

  return { machine, vm, resources: [vm, ...nics, ...publicIps, vnet, ...disks, ...uamis, ...arcMachine] };
}
