/**
 * The JSON Azure signs in an attested document (learn.microsoft.com/azure/virtual-machines/instance-metadata-service#attested-data).
 */

/** Version that added each field of the signed JSON; `nonce`, `plan`, `timeStamp` and `vmId` exist since 2018-10-01. */
export const ATTESTED_FIELD_INTRODUCED_IN = {
  subscriptionId: '2019-04-30',
  sku: '2019-11-01',
  licenseType: '2020-09-01',
} as const;

/** The oldest api-version that serves `/metadata/attested/document`. */
export const ATTESTED_MIN_VERSION = '2018-10-01';

/** What the signed JSON says about the VM (from its instance document). */
export interface AttestedFacts {
  vmId: string;
  subscriptionId: string;
  /** Image SKU (`compute.sku`). */
  sku: string;
  /** Azure Hybrid Benefit license; `""` when the VM has none, and then the field is left out. */
  licenseType: string;
  /** Marketplace plan; empty strings when the image has none. */
  plan: { name: string; product: string; publisher: string };
}

/** A request's nonce is up to 32 letters and digits (REST spec); the docs' "10-digit string" is one such. */
export function isValidNonce(nonce: string): boolean {
  return /^[A-Za-z0-9]{1,32}$/.test(nonce);
}

/** The nonce IMDS signs when the request has none: UTC `YYYYMMDD-HHMMSS`. */
export function defaultNonce(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}-${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
}

/** `MM/DD/YY HH:mm:ss -0000` (UTC), the format of timeStamp.createdOn / expiresOn. */
export function attestedTimestamp(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} -0000`;
}

/**
 * The compact JSON signed for `version`, keys in Azure's order: nonce, plan, timeStamp, vmId,
 * licenseType (2020-09-01, only when set), subscriptionId (2019-04-30), sku (2019-11-01).
 */
export function attestedContent(
  facts: AttestedFacts,
  version: string,
  nonce: string,
  createdOn: number,
  expiresOn: number,
): string {
  const doc: Record<string, unknown> = {
    nonce,
    plan: { name: facts.plan.name, product: facts.plan.product, publisher: facts.plan.publisher },
    timeStamp: { createdOn: attestedTimestamp(createdOn), expiresOn: attestedTimestamp(expiresOn) },
    vmId: facts.vmId,
  };
  if (version >= ATTESTED_FIELD_INTRODUCED_IN.licenseType && facts.licenseType !== '') {
    doc.licenseType = facts.licenseType;
  }
  if (version >= ATTESTED_FIELD_INTRODUCED_IN.subscriptionId) doc.subscriptionId = facts.subscriptionId;
  if (version >= ATTESTED_FIELD_INTRODUCED_IN.sku) doc.sku = facts.sku;
  return JSON.stringify(doc);
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}
