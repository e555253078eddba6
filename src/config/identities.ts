import { z } from 'zod';
import { DEFAULTS } from './defaults.js';
import { checkSourceReferences, tokenSourceKeys } from './token-sources.js';

/**
 * Config of the VM's managed identities (`identity`) and of the tokens azimds issues for them (`tokens`).
 *
 * ```yaml
 * identity:
 *   tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47   # default: the Go simulator's tenantID, else generated
 *   systemAssigned: true                              # or { enabled, clientId, principalId }, or false
 *   userAssigned:
 *     - name: id-app                                  # clientId, principalId, resourceId generated
 *     - name: id-deploy
 *       clientId: 0d1c6c2e-3c5c-4f5e-9a44-5b1f3c7e2a10
 * tokens:
 *   lifetimeSeconds: 86400
 *   issuer: https://sts.windows.net/{tenantId}/
 * ```
 *
 * Ids that are not given are generated from stable seeds (the VM's resource id, the identity's resource
 * id), so they are the same on every run and machine without being stored.
 */

const guid = z.uuid({ message: 'must be a GUID such as 8f0e2c4a-5b1d-4e6f-9a7b-3c2d1e0f4a5b' });

/** ARM resource id of a user-assigned identity (any letter case, as ARM ids are case-insensitive). */
const UAMI_RESOURCE_ID =
  /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.managedidentity\/userassignedidentities\/([^/]+)$/i;

/** The identity ARM puts on the VM itself (`identity.type: SystemAssigned`). */
const systemAssignedSchema = z.union([
  z.boolean().transform((enabled) => ({ enabled })),
  z.strictObject({
    enabled: z.boolean().default(true),
    /** Application (client) id of the identity's service principal. Generated when absent. */
    clientId: guid.optional(),
    /** Object (principal) id of the identity's service principal (`oid`, `sub`). Generated when absent. */
    principalId: guid.optional(),
  }),
]);

/** One user-assigned identity attached to the VM. `name` or `resourceId` is required. */
export const userAssignedSchema = z
  .strictObject({
    /** The identity's name (last segment of its resource id). */
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/, 'a managed identity name: 3-128 letters, digits, - or _')
      .optional(),
    /** Application (client) id, selectable with `client_id`. Generated when absent. */
    clientId: guid.optional(),
    /** Object (principal) id, selectable with `object_id`. Generated when absent. */
    principalId: guid.optional(),
    /** Alias of `principalId` (Azure calls it both). */
    objectId: guid.optional(),
    /**
     * ARM resource id, selectable with `msi_res_id`; default
     * `/subscriptions/<vm subscription>/resourcegroups/<vm resource group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>`.
     */
    resourceId: z
      .string()
      .regex(
        UAMI_RESOURCE_ID,
        'a user-assigned identity resource id: /subscriptions/<id>/resourcegroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>',
      )
      .optional(),
  })
  .superRefine((v, ctx) => {
    if (v.name === undefined && v.resourceId === undefined) {
      ctx.addIssue({ code: 'custom', message: 'give the identity a name (or a resourceId)' });
    }
    if (v.principalId && v.objectId && v.principalId.toLowerCase() !== v.objectId.toLowerCase()) {
      ctx.addIssue({
        code: 'custom',
        path: ['objectId'],
        message: 'objectId is an alias of principalId; give one of them',
      });
    }
    const fromId = v.resourceId ? UAMI_RESOURCE_ID.exec(v.resourceId)?.[1] : undefined;
    if (fromId && v.name && fromId.toLowerCase() !== v.name.toLowerCase()) {
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: `the name must be the last segment of resourceId ("${fromId}")`,
      });
    }
  });

/** Ids that must be unique across identities, with the key that holds them. */
const UNIQUE: ReadonlyArray<[string, (u: z.output<typeof userAssignedSchema>) => string | undefined]> = [
  ['name', (u) => u.name],
  ['clientId', (u) => u.clientId],
  ['principalId', (u) => u.principalId ?? u.objectId],
  ['resourceId', (u) => u.resourceId],
];

export const identitySchema = z
  .strictObject({
    /** Entra tenant of the identities (`tid`, `iss`, `/metadata/identity/info`). */
    tenantId: guid.optional(),
    systemAssigned: systemAssignedSchema.default({ enabled: DEFAULTS.identity.systemAssigned }),
    userAssigned: z.array(userAssignedSchema).default([]),
  })
  .superRefine((v, ctx) => {
    for (const [key, get] of UNIQUE) {
      const seen = new Map<string, number>();
      v.userAssigned.forEach((u, i) => {
        const value = get(u)?.toLowerCase();
        if (value === undefined) return;
        const first = seen.get(value);
        if (first === undefined) seen.set(value, i);
        else
          ctx.addIssue({
            code: 'custom',
            path: ['userAssigned', i, key],
            message: `the same ${key} as userAssigned[${first}]`,
          });
      });
    }
  });

const keysSchema = z
  .strictObject({
    /**
     * `file`: keys are generated on first use and kept in `file` (owner-only), so tokens stay verifiable
     * across restarts and `azimds token --offline` signs with the same keys as a running emulator.
     * `memory`: a key per process, nothing written (the library's default unless `dataDir` is given).
     */
    store: z.enum(['file', 'memory']).default(DEFAULTS.tokens.keys.store),
    /** Key file; relative paths are below `dataDir`. */
    file: z.string().min(1).default(DEFAULTS.tokens.keys.file),
    /**
     * A PEM RSA private key (PKCS#8 or PKCS#1, at least 2048 bits) to sign with instead of generated
     * keys. Rotation is then up to you (replace the file and restart).
     */
    privateKeyFile: z.string().min(1).optional(),
  })
  .default({ store: DEFAULTS.tokens.keys.store, file: DEFAULTS.tokens.keys.file });

export const tokensSchema = z
  .strictObject({
    /** Lifetime of a minted token in seconds (Entra's managed-identity tokens live about 24 hours). */
    lifetimeSeconds: z.coerce.number().int().min(1).max(31_536_000).default(DEFAULTS.tokens.lifetimeSeconds),
    /**
     * A cached token is re-minted when less than this many seconds (or half its lifetime, whichever is
     * less) remain, as IMDS serves the same token to every caller until it nears expiry.
     */
    refreshBeforeSeconds: z.coerce.number().int().min(0).default(DEFAULTS.tokens.refreshBeforeSeconds),
    /** `iss` of minted tokens and of the v1 discovery document; `{tenantId}` is replaced. Never the request's Host. */
    issuer: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, 'an http(s) URL, optionally with {tenantId}')
      .default(DEFAULTS.tokens.issuer),
    /**
     * Base URL at which clients reach azimds's discovery documents and JWKS (e.g. through a container
     * port mapping). Default: the address the IMDS listener is bound to.
     */
    publicUrl: z.url({ protocol: /^https?$/ }).optional(),
    keys: keysSchema,
    /** Where tokens come from: `source`, `sources`, `rules`, `upstream` (see config/token-sources.ts). */
    ...tokenSourceKeys,
  })
  .superRefine(checkSourceReferences);

export type IdentityConfig = z.output<typeof identitySchema>;
export type UserAssignedConfig = z.output<typeof userAssignedSchema>;
export type TokensConfig = z.output<typeof tokensSchema>;
