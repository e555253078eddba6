import type { RoleDefinition } from '../../core/rbac/built-in-roles.js';
import type { RoleAssignment } from '../../core/rbac/rbac.js';
import type { ArmResource, ResourceGroup, Subscription } from '../../core/world/resource.js';

/**
 * JSON bodies of ARM responses, in Azure's field order and shapes (azure-rest-api-specs: resources
 * `ResourceGroup`, `GenericResourceExpanded`; subscriptions `Subscription`, `TenantIdDescription`;
 * authorization `RoleDefinition`, `RoleAssignment`).
 */

/** A resource as its provider's GET returns it. */
export function resourceBody(r: ArmResource): Record<string, unknown> {
  return {
    ...(r.kind !== undefined ? { kind: r.kind } : {}),
    ...(r.identity !== undefined ? { identity: r.identity } : {}),
    ...(r.zones !== undefined ? { zones: r.zones } : {}),
    ...(r.sku !== undefined ? { sku: r.sku } : {}),
    ...(r.managedBy !== undefined ? { managedBy: r.managedBy } : {}),
    id: r.id,
    name: r.name,
    type: r.type,
    ...(r.location !== undefined ? { location: r.location } : {}),
    ...(r.tags !== undefined ? { tags: r.tags } : {}),
    properties: r.properties,
  };
}

/**
 * A resource in `GET /subscriptions/{s}/resources` (GenericResourceExpanded): no properties;
 * `createdTime`, `changedTime` and `provisioningState` only when `$expand` asks for them.
 */
export function genericResourceBody(r: ArmResource, expand: ReadonlySet<string>): Record<string, unknown> {
  const state = r.properties.provisioningState;
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    ...(r.sku !== undefined ? { sku: r.sku } : {}),
    ...(r.kind !== undefined ? { kind: r.kind } : {}),
    ...(r.location !== undefined ? { location: r.location } : {}),
    ...(r.managedBy !== undefined ? { managedBy: r.managedBy } : {}),
    ...(r.identity !== undefined ? { identity: r.identity } : {}),
    ...(r.zones !== undefined ? { zones: r.zones } : {}),
    ...(r.tags !== undefined && Object.keys(r.tags).length > 0 ? { tags: r.tags } : {}),
    ...(expand.has('createdtime') ? { createdTime: r.createdTime } : {}),
    ...(expand.has('changedtime') ? { changedTime: r.changedTime } : {}),
    ...(expand.has('provisioningstate')
      ? { provisioningState: typeof state === 'string' ? state : 'Succeeded' }
      : {}),
  };
}

export function resourceGroupBody(g: ResourceGroup): Record<string, unknown> {
  return {
    id: g.id,
    name: g.name,
    type: g.type,
    location: g.location,
    ...(g.managedBy ? { managedBy: g.managedBy } : {}),
    ...(g.tags ? { tags: g.tags } : {}),
    properties: g.properties,
  };
}

export function subscriptionBody(s: Subscription): Record<string, unknown> {
  return {
    id: `/subscriptions/${s.subscriptionId}`,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId: s.subscriptionId,
    tenantId: s.tenantId,
    displayName: s.displayName,
    state: 'Enabled',
    subscriptionPolicies: {
      locationPlacementId: 'Public_2014-09-01',
      quotaId: 'PayAsYouGo_2014-09-01',
      spendingLimit: 'Off',
    },
  };
}

export function tenantBody(tenantId: string): Record<string, unknown> {
  return {
    id: `/tenants/${tenantId}`,
    tenantId,
    countryCode: 'US',
    displayName: 'azimds',
    domains: ['azimds.onmicrosoft.com'],
    tenantCategory: 'Home',
    defaultDomain: 'azimds.onmicrosoft.com',
    tenantType: 'AAD',
  };
}

/** `/subscriptions/{s}` of a scope, or '' for scopes above subscriptions. */
export function subscriptionPrefix(scope: string): string {
  const m = /^\/subscriptions\/[^/]+/i.exec(scope);
  return m ? m[0] : '';
}

/** The id of a role definition as ARM writes it when asked at `scope`. */
export function roleDefinitionId(scope: string, guid: string): string {
  return `${subscriptionPrefix(scope)}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
}

export function roleDefinitionBody(d: RoleDefinition, scope: string): Record<string, unknown> {
  return {
    id: roleDefinitionId(scope, d.name),
    type: 'Microsoft.Authorization/roleDefinitions',
    name: d.name,
    properties: {
      roleName: d.roleName,
      type: d.type,
      description: d.description,
      assignableScopes: d.assignableScopes,
      permissions: d.permissions,
      createdOn: '2015-02-02T21:55:09.8806423Z',
      updatedOn: '2024-01-01T00:00:00.0000000Z',
      createdBy: null,
      updatedBy: null,
    },
  };
}

/** The `/`-rooted scope of an assignment as written in ids (`/` becomes ''). */
function scopePrefix(scope: string): string {
  return scope === '/' ? '' : scope;
}

export function roleAssignmentBody(a: RoleAssignment): Record<string, unknown> {
  return {
    properties: {
      roleDefinitionId: roleDefinitionId(a.scope, a.roleDefinitionName),
      principalId: a.principalId,
      principalType: a.principalType,
      scope: a.scope,
      condition: null,
      conditionVersion: null,
      createdOn: a.createdOn,
      updatedOn: a.updatedOn,
      createdBy: null,
      updatedBy: null,
      delegatedManagedIdentityResourceId: null,
      description: a.description ?? null,
    },
    id: `${scopePrefix(a.scope)}/providers/Microsoft.Authorization/roleAssignments/${a.name}`,
    type: 'Microsoft.Authorization/roleAssignments',
    name: a.name,
  };
}

/** `GET /metadata/endpoints`: the 2015-01-01 object (az `cloud register`) for older api-versions. */
export function metadataEndpointsObject(): Record<string, unknown> {
  return {
    galleryEndpoint: 'https://gallery.azure.com/',
    graphEndpoint: 'https://graph.windows.net/',
    portalEndpoint: 'https://portal.azure.com/',
    graphAudience: 'https://graph.windows.net/',
    authentication: {
      loginEndpoint: 'https://login.windows.net/',
      audiences: ['https://management.core.windows.net/', 'https://management.azure.com/'],
      tenant: 'common',
      identityProvider: 'AAD',
    },
  };
}

/**
 * `GET /metadata/endpoints` at api-version 2019-05-01 and later: an array of clouds (ARM_CLOUD_METADATA_URL,
 * Terraform's `metadata_host`, go-azure-sdk). `resourceManager` is the origin the request reached.
 */
export function metadataEndpointsArray(resourceManager: string): unknown[] {
  return [
    {
      portal: 'https://portal.azure.com',
      authentication: {
        loginEndpoint: 'https://login.microsoftonline.com',
        audiences: ['https://management.core.windows.net/', 'https://management.azure.com/'],
        tenant: 'common',
        identityProvider: 'AAD',
      },
      media: 'https://rest.media.azure.net',
      graphAudience: 'https://graph.windows.net',
      graph: 'https://graph.windows.net',
      name: 'AzureCloud',
      suffixes: {
        azureDataLakeStoreFileSystem: 'azuredatalakestore.net',
        acrLoginServer: 'azurecr.io',
        sqlServerHostname: 'database.windows.net',
        azureDataLakeAnalyticsCatalogAndJob: 'azuredatalakeanalytics.net',
        keyVaultDns: 'vault.azure.net',
        storage: 'core.windows.net',
        azureFrontDoorEndpointSuffix: 'azurefd.net',
        storageSyncEndpointSuffix: 'afs.azure.net',
        mhsmDns: 'managedhsm.azure.net',
        mysqlServerEndpoint: 'mysql.database.azure.com',
        postgresqlServerEndpoint: 'postgres.database.azure.com',
        mariadbServerEndpoint: 'mariadb.database.azure.com',
        synapseAnalytics: 'dev.azuresynapse.net',
        attestationEndpoint: 'attest.azure.net',
      },
      batch: 'https://batch.core.windows.net/',
      resourceManager,
      vmImageAliasDoc:
        'https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/arm-compute/quickstart-templates/aliases.json',
      activeDirectoryDataLake: 'https://datalake.azure.net/',
      sqlManagement: 'https://management.core.windows.net:8443/',
      microsoftGraphResourceId: 'https://graph.microsoft.com/',
      appInsightsResourceId: 'https://api.applicationinsights.io',
      appInsightsTelemetryChannelResourceId: 'https://dc.applicationinsights.azure.com/v2/track',
      attestationResourceId: 'https://attest.azure.net',
      synapseAnalyticsResourceId: 'https://dev.azuresynapse.net',
      logAnalyticsResourceId: 'https://api.loganalytics.io',
      ossrDbmsResourceId: 'https://ossrdbms-aad.database.windows.net',
    },
  ];
}
