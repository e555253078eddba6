/**
 * Test support for the Key Vault surface: tokens for the VM's identities or for a stranger, requests
 * by inject() with a vault Host, and in-test vault catalogs / data-action checkers.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ManagedIdentity } from '../../src/core/identities/identity.js';
import type { DataActionChecker, VaultCatalog, VaultRecord } from '../../src/core/key-vault/vault.js';
import type { EmulatorState } from '../../src/core/state.js';

export const VAULT_AUDIENCE = 'https://vault.azure.net';

/** The VM's system-assigned identity. */
export function vmIdentity(state: EmulatorState): ManagedIdentity {
  const identity = state.identities.all()[0];
  if (!identity) throw new Error('the VM has no identity');
  return identity;
}

/** An identity of the same tenant that holds no role and no access policy. */
export function strangerIdentity(state: EmulatorState): ManagedIdentity {
  return {
    kind: 'user-assigned',
    name: 'stranger',
    clientId: randomUUID(),
    principalId: randomUUID(),
    resourceId:
      '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/x/providers/Microsoft.ManagedIdentity/userAssignedIdentities/stranger',
    tenantId: state.identities.tenantId,
  };
}

/** A token azimds minted for `identity` (default: the VM's) with audience `resource`. */
export async function tokenFor(
  state: EmulatorState,
  resource = VAULT_AUDIENCE,
  identity: ManagedIdentity = vmIdentity(state),
): Promise<string> {
  const result = await state.tokens.local.mint({ identity, resource });
  if (!result.ok) throw new Error(`no token: ${result.failure.description}`);
  return result.token.accessToken;
}

export interface KvResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  json: () => Record<string, unknown>;
}

/** Sends one request to the surface by inject() with `Host: host`. */
export async function kv(
  app: FastifyInstance,
  method: string,
  url: string,
  options: { host: string; token?: string; body?: unknown; headers?: Record<string, string> },
): Promise<KvResponse> {
  const headers: Record<string, string> = { host: options.host, ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(options.body === undefined
      ? {}
      : { payload: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  return {
    status: response.statusCode,
    headers: response.headers as Record<string, string>,
    body: response.body,
    json: () => JSON.parse(response.body) as Record<string, unknown>,
  };
}

/** A checker that allows everything (every principal holds Key Vault Administrator). */
export const allowAll: DataActionChecker = { check: () => ({ allowed: true }) };

/** A catalog of the given vaults; the first is the default vault. */
export function catalogOf(...vaults: VaultRecord[]): VaultCatalog {
  return {
    lookup: (name) => vaults.find((v) => v.name === name.toLowerCase()),
    list: () => vaults,
    defaultVault: () => vaults[0],
  };
}

/** A vault record like the world's, with `overrides`. */
export function vaultRecord(
  state: EmulatorState,
  overrides: Partial<VaultRecord> & { name: string },
): VaultRecord {
  const sub = state.machine.compute('subscriptionId');
  const group = state.machine.compute('resourceGroupName');
  return {
    resourceId: `/subscriptions/${sub}/resourceGroups/${group}/providers/Microsoft.KeyVault/vaults/${overrides.name}`,
    location: 'westeurope',
    tenantId: state.identities.tenantId,
    vaultUri: `https://${overrides.name}.vault.azure.net/`,
    enableRbacAuthorization: true,
    accessPolicies: [],
    enableSoftDelete: true,
    softDeleteRetentionInDays: 90,
    enablePurgeProtection: false,
    ...overrides,
  };
}
