import { DEFAULTS } from '../../config/defaults.js';
import type { ComputeConfig, InterfaceConfig, VmConfig } from '../../config/schema.js';
import { stableHex, stableUuid } from '../ids.js';
import type { JsonObject, JsonValue } from './json.js';
import { sshPublicKey } from './ssh-key.js';

/**
 * Builds the complete instance document (`{compute, network}`, newest api-version) of a VM from its
 * config: what the config gives is served as given; everything else is generated, consistently
 * (resourceId, disk ids and computerName follow the name, subscription and resource group; ids are
 * stable across runs). Keys are in Azure's order (alphabetical, as IMDS serves them).
 */
export function buildInstanceDocument(vm: VmConfig): JsonObject {
  const c = vm.compute;
  const name = c.name ?? DEFAULTS.vm.name;
  const subscriptionId = c.subscriptionId ?? stableUuid('subscription');
  const resourceGroupName = c.resourceGroupName ?? DEFAULTS.vm.resourceGroupName;
  const seed = `${subscriptionId}/${resourceGroupName}/${name}`;
  const osType = c.osType ?? 'Linux';
  const linux = osType === 'Linux';
  // A Windows VM runs a Windows image: the OS decides the default image, not the other way round.
  const image = linux ? DEFAULTS.vm.image : DEFAULTS.vm.windowsImage;
  const publisher = c.publisher ?? c.storageProfile?.imageReference?.publisher ?? image.publisher;
  const offer = c.offer ?? c.storageProfile?.imageReference?.offer ?? image.offer;
  const sku = c.sku ?? c.storageProfile?.imageReference?.sku ?? image.sku;
  const version = c.version ?? image.version;
  const location = c.location ?? DEFAULTS.vm.location;
  const zone = c.zone ?? DEFAULTS.vm.zone;
  const group = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}`;
  const admin = c.osProfile?.adminUsername ?? DEFAULTS.vm.adminUsername;
  const tagPairs = resolveTags(c);
  const osDiskName = `${name}_OsDisk_1_${stableHex(`${seed}/osdisk`, 32).toLowerCase()}`;

  const computeDefaults: JsonObject = {
    azEnvironment: 'AzurePublicCloud',
    additionalCapabilities: { hibernationEnabled: 'false' },
    customData: '',
    evictionPolicy: '',
    extendedLocation: { type: '', name: '' },
    host: { id: '' },
    hostGroup: { id: '' },
    isHostCompatibilityLayerVm: 'false',
    licenseType: '',
    location,
    name,
    offer,
    osProfile: {
      adminUsername: admin,
      computerName: name,
      disablePasswordAuthentication: linux ? 'true' : '',
    },
    osType,
    physicalZone: zone ? `${location}-az${zone}` : '',
    placementGroupId: '',
    plan: { name: '', product: '', publisher: '' },
    platformFaultDomain: '0',
    platformSubFaultDomain: '',
    platformUpdateDomain: '0',
    priority: 'Regular',
    provider: 'Microsoft.Compute',
    publicKeys: linux
      ? [
          {
            keyData: sshPublicKey(seed, `${admin}@azimds`),
            path: `/home/${admin}/.ssh/authorized_keys`,
          },
        ]
      : [],
    publisher,
    resourceGroupName,
    resourceId: `${group}/providers/Microsoft.Compute/virtualMachines/${name}`,
    securityProfile: {
      secureBootEnabled: 'true',
      virtualTpmEnabled: 'true',
      encryptionAtHost: 'false',
      securityType: 'TrustedLaunch',
    },
    sku,
    storageProfile: {
      dataDisks: [],
      imageReference: {
        id: '',
        offer,
        publisher,
        sku,
        version: 'latest',
        communityGalleryImageId: '',
        sharedGalleryImageId: '',
        exactVersion: version,
      },
      osDisk: alphabetical({
        ...diskDefaults(osDiskName, `${group}/providers/Microsoft.Compute/disks/${osDiskName}`),
        caching: 'ReadWrite',
        createOption: 'FromImage',
        diskSizeGB: DEFAULTS.vm.osDiskSizeGB,
        osType,
      }),
      resourceDisk: { size: '0' },
    },
    subscriptionId,
    tags: tagPairs.map(([k, v]) => `${k}:${v}`).join(';'),
    tagsList: tagPairs.map(([k, v]) => ({ name: k, value: v })),
    userData: Buffer.from(
      linux ? '#cloud-config\n# userData served by azimds\n' : '# userData served by azimds\n',
    ).toString('base64'),
    version,
    virtualMachineScaleSet: { id: '' },
    vmId: stableUuid(`vm/${seed}`),
    vmScaleSetName: '',
    vmSize: DEFAULTS.vm.vmSize,
    zone,
  };

  const { tags: _tags, tagsList: _tagsList, storageProfile, ...rest } = c;
  const compute = merge(computeDefaults, rest as JsonObject) as JsonObject;
  const storage = compute.storageProfile as JsonObject;
  if (storageProfile) {
    const { dataDisks, ...storageRest } = storageProfile;
    compute.storageProfile = merge(storage, storageRest as JsonObject);
    if (dataDisks)
      (compute.storageProfile as JsonObject).dataDisks = dataDisks.map((d, i) => dataDisk(d, i, name, group));
  } else {
    storage.dataDisks = [dataDisk({}, 0, name, group)];
  }

  const nics = vm.network.interface ?? [{}];
  return { compute, network: { interface: nics.map((nic, i) => networkInterface(nic, i, seed)) } };
}

function resolveTags(c: ComputeConfig): Array<[string, string]> {
  if (typeof c.tags === 'string') {
    return c.tags
      .split(';')
      .filter((t) => t.length > 0)
      .map((t) => {
        const at = t.indexOf(':');
        return at < 0 ? [t, ''] : [t.slice(0, at), t.slice(at + 1)];
      });
  }
  if (c.tags) return Object.entries(c.tags);
  if (c.tagsList) return c.tagsList.map((t) => [t.name, t.value]);
  return Object.entries(DEFAULTS.vm.tags);
}

function diskDefaults(name: string, id: string): JsonObject {
  return {
    caching: 'None',
    createOption: 'Empty',
    diffDiskSettings: { option: '' },
    diskSizeGB: DEFAULTS.vm.dataDiskSizeGB,
    encryptionSettings: {
      enabled: 'false',
      diskEncryptionKey: { sourceVault: { id: '' }, secretUrl: '' },
      keyEncryptionKey: { sourceVault: { id: '' }, keyUrl: '' },
    },
    image: { uri: '' },
    managedDisk: { id, storageAccountType: 'Premium_LRS' },
    name,
    vhd: { uri: '' },
    writeAcceleratorEnabled: 'false',
  };
}

function dataDisk(given: object, index: number, vmName: string, group: string): JsonObject {
  const lun = String((given as { lun?: string }).lun ?? index);
  const name = (given as { name?: string }).name ?? `${vmName}_DataDisk_${lun}`;
  const defaults = alphabetical({
    ...diskDefaults(name, `${group}/providers/Microsoft.Compute/disks/${name}`),
    bytesPerSecondThrottle: '',
    diskCapacityBytes: '',
    isSharedDisk: 'false',
    isUltraDisk: 'false',
    lun,
    opsPerSecondThrottle: '',
  });
  return merge(defaults, given as JsonObject) as JsonObject;
}

/** Disk objects list their keys alphabetically on Azure (`…name, osType, vhd…`); spreads would not. */
function alphabetical(o: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function networkInterface(nic: InterfaceConfig, index: number, seed: string): JsonObject {
  const addresses = nic.ipv4?.ipAddress ?? [
    {
      privateIpAddress: index === 0 ? DEFAULTS.vm.privateIpAddress : `10.0.${index}.4`,
      publicIpAddress: index === 0 ? DEFAULTS.vm.publicIpAddress : '',
    },
  ];
  const first = addresses[0]?.privateIpAddress ?? DEFAULTS.vm.privateIpAddress;
  const subnet = nic.ipv4?.subnet ?? [{ address: first.replace(/\.\d+$/, '.0'), prefix: '24' }];
  return {
    ipv4: {
      ipAddress: addresses.map((a) => ({
        privateIpAddress: a.privateIpAddress,
        publicIpAddress: a.publicIpAddress ?? '',
      })),
      subnet: subnet.map((s) => ({ address: s.address, prefix: s.prefix })),
    },
    ipv6: { ipAddress: (nic.ipv6?.ipAddress ?? []).map((a) => ({ privateIpAddress: a.privateIpAddress })) },
    // Azure prefixes generated NIC MACs with 6045BD / 000D3A (Microsoft OUIs).
    macAddress: (nic.macAddress ?? `6045BD${stableHex(`${seed}/nic/${index}`, 6)}`).toUpperCase(),
  };
}

/** Recursive merge for config over defaults: objects merge, everything else (arrays included) replaces. */
function merge(base: JsonValue, over: JsonValue | undefined): JsonValue {
  if (over === undefined) return base;
  if (isObject(base) && isObject(over)) {
    const out: JsonObject = { ...base };
    for (const [k, v] of Object.entries(over)) {
      if (v !== undefined) out[k] = merge(base[k] as JsonValue, v);
    }
    return out;
  }
  return over;
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
