import type { FastifyReply } from 'fastify';
import { normalizeScope, scopeCovers } from '../../core/rbac/scope.js';
import { armErrors } from '../../errors.js';
import { parseAssignmentFilter, parseRoleDefinitionFilter } from './filter.js';
import { type ArmCall, authorize, jsonBody, sendError, sendJson } from './plugin.js';
import { roleAssignmentBody, roleDefinitionBody } from './render.js';

const PRINCIPAL_TYPES = new Set(['ServicePrincipal', 'User', 'Group', 'ForeignGroup', 'Device']);

/**
 * `{scope}/providers/Microsoft.Authorization/roleDefinitions[/{id}]` and `…/roleAssignments[/{name}]`
 * (authorization 2022-04-01 REST spec). `at` is the index of `providers` in the path.
 */
export function armAuthorizationRoutes(call: ArmCall, at: number): FastifyReply {
  const scope = at === 0 ? '/' : `/${call.segments.slice(0, at).join('/')}`;
  const kind = call.lower[at + 2];
  const name = call.segments[at + 3];
  if (call.lower.length > at + 4 || kind === undefined) {
    return sendError(call, armErrors.noRoute(call.method, `/${call.segments.join('/')}`));
  }
  if (kind === 'roledefinitions') return roleDefinitions(call, scope, name);
  if (kind === 'roleassignments') return roleAssignments(call, scope, name);
  return sendError(
    call,
    armErrors.invalidResourceType(`Microsoft.Authorization/${call.segments[at + 2]}`, call.apiVersion),
  );
}

function roleDefinitions(call: ArmCall, scope: string, name: string | undefined): FastifyReply {
  const { rbac } = call.state;
  if (call.method !== 'GET') return sendError(call, armErrors.methodNotAllowed(call.method));
  if (!authorize(call, 'Microsoft.Authorization/roleDefinitions/read', scope)) return call.reply;
  if (name !== undefined) {
    const definition = rbac.roleDefinition(name);
    if (!definition) return sendError(call, armErrors.roleDefinitionDoesNotExist(name));
    return sendJson(call, 200, roleDefinitionBody(definition, scope));
  }
  const filterText = call.query.get('$filter');
  const filter = filterText ? parseRoleDefinitionFilter(filterText) : {};
  if (!filter) return sendError(call, armErrors.invalidFilter(filterText ?? ''));
  const value = rbac
    .roleDefinitions()
    .filter(
      (d) => filter.roleName === undefined || d.roleName.toLowerCase() === filter.roleName.toLowerCase(),
    )
    .filter((d) => filter.type === undefined || d.type.toLowerCase() === filter.type.toLowerCase())
    .map((d) => roleDefinitionBody(d, scope));
  return sendJson(call, 200, { value });
}

function roleAssignments(call: ArmCall, scope: string, name: string | undefined): FastifyReply {
  const { rbac, world } = call.state;
  if (name === undefined) {
    if (call.method !== 'GET') return sendError(call, armErrors.methodNotAllowed(call.method));
    if (!authorize(call, 'Microsoft.Authorization/roleAssignments/read', scope)) return call.reply;
    const filterText = call.query.get('$filter');
    const filter = filterText ? parseAssignmentFilter(filterText) : {};
    if (!filter) return sendError(call, armErrors.invalidFilter(filterText ?? ''));
    // At, above and below the scope; atScope(): at and above only.
    const value = rbac
      .assignments()
      .filter((a) => scopeCovers(a.scope, scope) || (!filter.atScope && scopeCovers(scope, a.scope)))
      .filter((a) => filter.principalId === undefined || a.principalId.toLowerCase() === filter.principalId)
      .map(roleAssignmentBody);
    return sendJson(call, 200, { value });
  }
  switch (call.method) {
    case 'GET': {
      if (!authorize(call, 'Microsoft.Authorization/roleAssignments/read', scope)) return call.reply;
      const existing = rbac.assignment(name);
      if (!existing || normalizeScope(existing.scope) !== normalizeScope(scope)) {
        return sendError(call, armErrors.roleAssignmentNotFound);
      }
      return sendJson(call, 200, roleAssignmentBody(existing));
    }
    case 'PUT': {
      if (!authorize(call, 'Microsoft.Authorization/roleAssignments/write', scope)) return call.reply;
      const body = jsonBody(call);
      if (!body) return call.reply;
      const p = (body.properties ?? {}) as Record<string, unknown>;
      if (typeof p.roleDefinitionId !== 'string' || typeof p.principalId !== 'string') {
        return sendError(
          call,
          armErrors.invalidRequest(
            "'properties.roleDefinitionId' and 'properties.principalId' are required strings",
          ),
        );
      }
      const principalType = typeof p.principalType === 'string' ? p.principalType : undefined;
      if (principalType !== undefined && !PRINCIPAL_TYPES.has(principalType)) {
        return sendError(call, armErrors.invalidRequest(`'${principalType}' is not a principal type`));
      }
      const result = rbac.createAssignment({
        name,
        scope,
        roleDefinitionId: p.roleDefinitionId,
        principalId: p.principalId,
        ...(principalType ? { principalType: principalType as 'ServicePrincipal' } : {}),
        ...(typeof p.description === 'string' ? { description: p.description } : {}),
      });
      if (!result.ok) {
        switch (result.error) {
          case 'invalid-name':
            return sendError(call, armErrors.invalidRoleAssignmentId(name));
          case 'role-definition-not-found':
            return sendError(
              call,
              armErrors.roleDefinitionDoesNotExist(
                p.roleDefinitionId.slice(p.roleDefinitionId.lastIndexOf('/') + 1),
              ),
            );
          case 'principal-not-found':
            return sendError(call, armErrors.principalNotFound(p.principalId, world.tenantId));
          case 'role-assignment-exists':
            return sendError(call, armErrors.roleAssignmentExists);
          default:
            return sendError(call, armErrors.roleAssignmentUpdateNotPermitted);
        }
      }
      return sendJson(call, result.created ? 201 : 200, roleAssignmentBody(result.assignment));
    }
    case 'DELETE': {
      if (!authorize(call, 'Microsoft.Authorization/roleAssignments/delete', scope)) return call.reply;
      const existing = rbac.assignment(name);
      if (!existing || normalizeScope(existing.scope) !== normalizeScope(scope)) return sendJson(call, 204);
      rbac.deleteAssignment(name);
      return sendJson(call, 200, roleAssignmentBody(existing));
    }
    default:
      return sendError(call, armErrors.methodNotAllowed(call.method));
  }
}
