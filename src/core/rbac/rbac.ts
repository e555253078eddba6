import { AzimdsError } from '../../errors.js';
import { BUILT_IN_ROLES, type RoleDefinition, type RolePermission } from './built-in-roles.js';
import { anyMatches, isGuid, normalizeScope, scopeCovers } from './scope.js';

/** A principal RBAC knows: role assignments to principals it does not know fail with `PrincipalNotFound`. */
export interface RbacPrincipal {
  /** Object id (`oid` in tokens), lower-case. */
  readonly principalId: string;
  /** ARM's `principalType`: managed identities and applications are `ServicePrincipal`. */
  readonly principalType: 'ServicePrincipal' | 'User' | 'Group' | 'ForeignGroup' | 'Device';
  /** What to show for it (identity name, application name). */
  readonly displayName?: string;
}

/** A source of principals (managed identities today; the entra branch adds service principals). */
export type PrincipalSource = () => Iterable<RbacPrincipal>;

/** A role assignment (ARM's `Microsoft.Authorization/roleAssignments` properties, plus its GUID). */
export interface RoleAssignment {
  /** The assignment's GUID (the resource name). */
  readonly name: string;
  /** Scope as given (`/subscriptions/{s}/resourceGroups/{rg}`, `/` for the root). */
  readonly scope: string;
  /** The role definition's GUID. */
  readonly roleDefinitionName: string;
  readonly principalId: string;
  readonly principalType: RbacPrincipal['principalType'];
  readonly description?: string;
  /** ISO 8601, on the emulator's clock. */
  readonly createdOn: string;
  readonly updatedOn: string;
  /** True for the zero-config assignments (`world.roleAssignments` not given). */
  readonly isDefault?: boolean;
}

/** What `check()` is asked: an action (control plane) or a data action (data plane) at a scope. */
export interface AccessRequest {
  readonly principalId: string;
  readonly scope: string;
  readonly action?: string;
  readonly dataAction?: string;
}

export type AccessDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: string };

/** Input of `createAssignment` (ARM's PUT body, flattened). */
export interface AssignmentInput {
  readonly name: string;
  readonly scope: string;
  /** The role definition's GUID or its full id (`…/providers/Microsoft.Authorization/roleDefinitions/{guid}`). */
  readonly roleDefinitionId: string;
  readonly principalId: string;
  /** Given: the principal need not be known (ARM skips the directory lookup, as for new principals). */
  readonly principalType?: RbacPrincipal['principalType'];
  readonly description?: string;
}

export type CreateAssignmentResult =
  | { readonly ok: true; readonly created: boolean; readonly assignment: RoleAssignment }
  | {
      readonly ok: false;
      readonly error:
        | 'role-assignment-exists'
        | 'principal-not-found'
        | 'role-definition-not-found'
        | 'invalid-name'
        | 'role-assignment-update-not-permitted';
      readonly existing?: RoleAssignment;
    };

export interface RbacOptions {
  /** Custom role definitions (config `world.roleDefinitions`). */
  readonly customRoles?: readonly RoleDefinition[];
  /** Explicit role assignments (config `world.roleAssignments`), created at start and on reset. */
  readonly assignments?: readonly RoleAssignment[];
  /** The zero-config assignments, derived live from the world (the VM identities' Reader, ...). */
  readonly defaultAssignments?: () => readonly RoleAssignment[];
  /** Now, ISO 8601 (the emulator clock). */
  readonly now: () => string;
}

/**
 * Azure RBAC over the world: role definitions (built-in with Azure's ids, plus custom), role
 * assignments, and `check()`, which evaluates a request the way Azure does:
 *
 * - an assignment applies at its scope and every scope below it (`/` covers everything);
 * - a role grants an operation when, in one of its permission blocks, an `actions` (`dataActions`)
 *   pattern matches it and no `notActions` (`notDataActions`) pattern does; `*` is a wildcard;
 * - roles add up (no deny assignments); scopes, ids and operations compare case-insensitively.
 */
export class Rbac {
  readonly #options: RbacOptions;
  readonly #principalSources: PrincipalSource[] = [];
  #custom = new Map<string, RoleDefinition>();
  #assignments = new Map<string, RoleAssignment>();
  /** Names of default assignments deleted through ARM or the control API. */
  #removedDefaults = new Set<string>();

  constructor(options: RbacOptions) {
    this.#options = options;
    this.reset();
  }

  /** Back to the configured roles and assignments. */
  reset(): void {
    this.#custom = new Map((this.#options.customRoles ?? []).map((r) => [r.name.toLowerCase(), r]));
    this.#assignments = new Map((this.#options.assignments ?? []).map((a) => [a.name.toLowerCase(), a]));
    this.#removedDefaults.clear();
  }

  /** Adds a source of principals (e.g. service principals of the entra branch). */
  addPrincipalSource(source: PrincipalSource): void {
    this.#principalSources.push(source);
  }

  /** The principal with this object id, if any source knows it. */
  principal(principalId: string): RbacPrincipal | undefined {
    const id = principalId.toLowerCase();
    for (const source of this.#principalSources) {
      for (const p of source()) if (p.principalId.toLowerCase() === id) return p;
    }
    return undefined;
  }

  /** Every role definition: built-in first, then custom ones. */
  roleDefinitions(): RoleDefinition[] {
    return [...BUILT_IN_ROLES, ...this.#custom.values()];
  }

  /** A role definition by GUID, or by a full id ending in the GUID. */
  roleDefinition(id: string): RoleDefinition | undefined {
    const guid = id.slice(id.lastIndexOf('/') + 1).toLowerCase();
    return BUILT_IN_ROLES.find((r) => r.name === guid) ?? this.#custom.get(guid);
  }

  /** A role definition by its `roleName` (any case). */
  roleDefinitionByName(roleName: string): RoleDefinition | undefined {
    const n = roleName.toLowerCase();
    return this.roleDefinitions().find((r) => r.roleName.toLowerCase() === n);
  }

  /**
   * Adds or replaces a custom role definition.
   * @throws AzimdsError `INVALID_INPUT` when the GUID is a built-in role's or not a GUID.
   */
  putRoleDefinition(definition: RoleDefinition): RoleDefinition {
    if (!isGuid(definition.name))
      throw new AzimdsError('INVALID_INPUT', `role definition name ${definition.name} is not a GUID`);
    if (BUILT_IN_ROLES.some((r) => r.name === definition.name.toLowerCase())) {
      throw new AzimdsError('INVALID_INPUT', `${definition.name} is a built-in role definition`);
    }
    const stored = { ...definition, name: definition.name.toLowerCase(), type: 'CustomRole' as const };
    this.#custom.set(stored.name, stored);
    return stored;
  }

  /** Removes a custom role definition; false when there is none with that GUID. */
  deleteRoleDefinition(id: string): boolean {
    return this.#custom.delete(id.slice(id.lastIndexOf('/') + 1).toLowerCase());
  }

  /** Every role assignment in force: the explicit ones, then the defaults not deleted. */
  assignments(): RoleAssignment[] {
    const defaults = (this.#options.defaultAssignments?.() ?? []).filter(
      (a) => !this.#removedDefaults.has(a.name.toLowerCase()) && !this.#assignments.has(a.name.toLowerCase()),
    );
    return [...this.#assignments.values(), ...defaults];
  }

  /** The assignment with this GUID. */
  assignment(name: string): RoleAssignment | undefined {
    const n = name.toLowerCase();
    return this.assignments().find((a) => a.name.toLowerCase() === n);
  }

  /**
   * Creates (or, for the same GUID with the same content, re-confirms) a role assignment, as ARM's PUT:
   * `invalid-name` for a name that is not a GUID; `role-definition-not-found`; `principal-not-found`
   * for an unknown principal unless `principalType` is given; `role-assignment-exists` when the same
   * principal already holds the role at that scope under another GUID;
   * `role-assignment-update-not-permitted` when the GUID exists with other content.
   */
  createAssignment(input: AssignmentInput): CreateAssignmentResult {
    if (!isGuid(input.name)) return { ok: false, error: 'invalid-name' };
    const definition = this.roleDefinition(input.roleDefinitionId);
    if (!definition) return { ok: false, error: 'role-definition-not-found' };
    const known = this.principal(input.principalId);
    if (!known && !input.principalType) return { ok: false, error: 'principal-not-found' };
    const principalId = input.principalId.toLowerCase();
    const scope = normalizeScope(input.scope);
    const same = this.assignments().find(
      (a) =>
        a.principalId.toLowerCase() === principalId &&
        a.roleDefinitionName === definition.name &&
        normalizeScope(a.scope) === scope,
    );
    const existing = this.assignment(input.name);
    if (existing) {
      if (same && same.name.toLowerCase() === existing.name.toLowerCase()) {
        return { ok: true, created: false, assignment: existing };
      }
      return { ok: false, error: 'role-assignment-update-not-permitted', existing };
    }
    if (same) return { ok: false, error: 'role-assignment-exists', existing: same };
    const now = this.#options.now();
    const assignment: RoleAssignment = {
      name: input.name.toLowerCase(),
      scope: input.scope.replace(/\/+$/, '') || '/',
      roleDefinitionName: definition.name,
      principalId,
      principalType: input.principalType ?? known?.principalType ?? 'ServicePrincipal',
      ...(input.description !== undefined ? { description: input.description } : {}),
      createdOn: now,
      updatedOn: now,
    };
    this.#assignments.set(assignment.name, assignment);
    return { ok: true, created: true, assignment };
  }

  /** Deletes a role assignment by GUID; returns it, or undefined when there is none. */
  deleteAssignment(name: string): RoleAssignment | undefined {
    const existing = this.assignment(name);
    if (!existing) return undefined;
    const n = existing.name.toLowerCase();
    if (!this.#assignments.delete(n)) this.#removedDefaults.add(n);
    return existing;
  }

  /**
   * Whether `principalId` may perform `action` (and/or `dataAction`) at `scope`; every operation given
   * must be granted. The reason of a refusal names what was missing (for logs and tests).
   */
  check(request: AccessRequest): AccessDecision {
    const principalId = request.principalId.toLowerCase();
    const applicable = this.assignments().filter(
      (a) => a.principalId.toLowerCase() === principalId && scopeCovers(a.scope, request.scope),
    );
    const permissions: RolePermission[] = [];
    for (const a of applicable)
      permissions.push(...(this.roleDefinition(a.roleDefinitionName)?.permissions ?? []));
    const grants = (op: string, allow: 'actions' | 'dataActions', deny: 'notActions' | 'notDataActions') =>
      permissions.some((p) => anyMatches(p[allow], op) && !anyMatches(p[deny], op));
    if (request.action !== undefined && !grants(request.action, 'actions', 'notActions')) {
      return {
        allowed: false,
        reason: denial(request.principalId, 'action', request.action, request.scope, applicable.length),
      };
    }
    if (request.dataAction !== undefined && !grants(request.dataAction, 'dataActions', 'notDataActions')) {
      return {
        allowed: false,
        reason: denial(
          request.principalId,
          'data action',
          request.dataAction,
          request.scope,
          applicable.length,
        ),
      };
    }
    return { allowed: true };
  }

  /**
   * Whether the principal holds any role at, above or below `scope`: what makes a subscription visible
   * in `GET /subscriptions` and a list below `scope` answer (filtered) rather than 403.
   */
  hasAnyRoleAround(principalId: string, scope: string): boolean {
    const id = principalId.toLowerCase();
    return this.assignments().some(
      (a) =>
        a.principalId.toLowerCase() === id && (scopeCovers(a.scope, scope) || scopeCovers(scope, a.scope)),
    );
  }
}

function denial(principal: string, kind: string, op: string, scope: string, assignments: number): string {
  return assignments === 0
    ? `principal ${principal} has no role assignment at or above ${scope}`
    : `none of the ${assignments} role assignment(s) of principal ${principal} at or above ${scope} grants ${kind} ${op}`;
}
