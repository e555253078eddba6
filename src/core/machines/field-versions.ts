import type { JsonObject, JsonValue } from './json.js';

/**
 * The api-version in which each instance-document field appeared (Microsoft's IMDS docs). A field is
 * served only when the requested version is at least this one. `[]` stands for every array element.
 * Fields not listed belong to the oldest version (2017-03-01; Azure documents them from its
 * successor 2017-04-02, but serving an empty document to the preview version would help nobody).
 */
export const FIELD_INTRODUCED_IN: Readonly<Record<string, string>> = {
  'compute.additionalCapabilities': '2021-11-01',
  'compute.azEnvironment': '2018-10-01',
  'compute.customData': '2019-02-01',
  'compute.evictionPolicy': '2020-12-01',
  'compute.extendedLocation': '2021-03-01',
  'compute.host': '2021-11-15',
  'compute.hostGroup': '2021-11-15',
  'compute.isHostCompatibilityLayerVm': '2020-06-01',
  'compute.licenseType': '2020-09-01',
  'compute.osProfile': '2020-07-15',
  'compute.osProfile.disablePasswordAuthentication': '2020-10-01',
  'compute.physicalZone': '2023-11-15',
  'compute.placementGroupId': '2017-08-01',
  'compute.plan': '2018-04-02',
  'compute.platformSubFaultDomain': '2021-10-01',
  'compute.priority': '2020-12-01',
  'compute.provider': '2018-10-01',
  'compute.publicKeys': '2018-04-02',
  'compute.resourceGroupName': '2017-08-01',
  'compute.resourceId': '2019-03-11',
  'compute.securityProfile': '2020-06-01',
  'compute.securityProfile.encryptionAtHost': '2021-11-01',
  'compute.securityProfile.securityType': '2021-12-13',
  'compute.storageProfile': '2019-06-01',
  'compute.storageProfile.imageReference.communityGalleryImageId': '2023-07-01',
  'compute.storageProfile.imageReference.sharedGalleryImageId': '2023-07-01',
  'compute.storageProfile.imageReference.exactVersion': '2023-07-01',
  'compute.storageProfile.osDisk.encryptionSettings.diskEncryptionKey': '2021-11-01',
  'compute.storageProfile.osDisk.encryptionSettings.keyEncryptionKey': '2021-11-01',
  'compute.storageProfile.dataDisks[].isUltraDisk': '2021-05-01',
  'compute.storageProfile.dataDisks[].bytesPerSecondThrottle': '2021-05-01',
  'compute.storageProfile.dataDisks[].diskCapacityBytes': '2021-05-01',
  'compute.storageProfile.dataDisks[].isSharedDisk': '2021-05-01',
  'compute.storageProfile.dataDisks[].opsPerSecondThrottle': '2021-05-01',
  'compute.storageProfile.dataDisks[].encryptionSettings.diskEncryptionKey': '2021-11-01',
  'compute.storageProfile.dataDisks[].encryptionSettings.keyEncryptionKey': '2021-11-01',
  'compute.storageProfile.resourceDisk': '2021-02-01',
  'compute.subscriptionId': '2017-08-01',
  'compute.tags': '2017-08-01',
  'compute.tagsList': '2019-06-04',
  'compute.userData': '2021-01-01',
  'compute.virtualMachineScaleSet': '2021-03-01',
  'compute.vmScaleSetName': '2017-12-01',
  'compute.zone': '2017-12-01',
};

/**
 * Returns a copy of `doc` without the fields introduced after `version`. Pure; the result shares no
 * objects with the input.
 */
export function documentForVersion(doc: JsonObject, version: string): JsonObject {
  return prune(doc, '', version) as JsonObject;
}

function prune(value: JsonValue, path: string, version: string): JsonValue {
  if (Array.isArray(value)) return value.map((item) => prune(item, `${path}[]`, version));
  if (value === null || typeof value !== 'object') return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    const introduced = FIELD_INTRODUCED_IN[childPath];
    if (introduced !== undefined && introduced > version) continue;
    out[key] = prune(child, childPath, version);
  }
  return out;
}
