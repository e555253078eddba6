/**
 * Whether an audience is a Microsoft first-party resource — an Azure service (ARM, Key Vault, Storage,
 * SQL, Graph, ...) — rather than an application registered by a customer (an `api://...` App ID URI, an
 * `https://` URI on the customer's own domain, or the application id GUID of the customer's app).
 *
 * Entra adds some claims to managed-identity tokens only for first-party resources: `xms_mirid` (the
 * identity's ARM resource id) and `idtyp` (an optional claim a customer's app must ask for). Code that
 * relies on them passes against an emulator that always adds them and fails on Azure.
 *
 * The rule: an `https` URI whose host is a Microsoft service domain (below, sovereign clouds included),
 * or one of the first-party application ids (Microsoft's own apps use the `0000000x-0000-0000-c000-
 * 000000000000` pattern, plus the well-known ids listed). Anything else is the customer's.
 */
export function isFirstPartyResource(resource: string): boolean {
  const guid = resource.toLowerCase();
  if (GUID.test(guid)) return MICROSOFT_APP_ID.test(guid) || FIRST_PARTY_APP_IDS.has(guid);
  let host: string;
  try {
    const url = new URL(resource);
    if (url.protocol !== 'https:') return false;
    host = url.hostname.toLowerCase();
  } catch {
    return false;
  }
  return MICROSOFT_DOMAINS.some((domain) => host === domain || host.endsWith(`.${domain}`));
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Microsoft's own first-party application ids: Graph 00000003-..., Exchange 00000002-..., SharePoint ... */
const MICROSOFT_APP_ID = /^0000000[0-9a-f]-0000-0000-c000-000000000000$/;

/** Well-known first-party application ids of Azure services (Microsoft's "first-party app ids" list). */
const FIRST_PARTY_APP_IDS = new Set([
  '797f4846-ba00-4fd7-ba43-dac1f8f63013', // Azure Resource Manager (Windows Azure Service Management API)
  'cfa8b339-82a2-471a-a3c9-0fc0be7a4093', // Azure Key Vault
  'e406a681-f3d4-42a8-90b6-c2b029497af1', // Azure Storage
  '022907d3-0f1b-48f7-badc-1ba6abab6d66', // Azure SQL Database
  '80a10ef9-8168-493d-abf9-3297c4ef6e3c', // Azure Service Bus / Event Hubs
  '18a66f5f-dbdf-4c17-9dd7-1634712a9cbe', // Azure Machine Learning
  '2746ea77-4702-4b45-80ca-3c97e680e8b7', // Azure Data Explorer (Kusto)
  '6dae42f8-4368-4678-94ff-3960e28e3630', // Azure Kubernetes Service AAD server
]);

/** Host suffixes of Microsoft's services in the public and sovereign clouds. */
const MICROSOFT_DOMAINS = [
  'azure.com',
  'azure.net',
  'windows.net',
  'microsoft.com',
  'microsoftonline.com',
  'azure.us',
  'usgovcloudapi.net',
  'azure.cn',
  'chinacloudapi.cn',
  'cloudapi.de',
  'azurecr.io',
  'azuredatabricks.net',
  'azuresynapse.net',
  'powerbi.com',
  'dynamics.com',
  'sharepoint.com',
  'office.com',
  'office365.com',
  'outlook.com',
];
