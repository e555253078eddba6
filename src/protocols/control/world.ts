import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { issuesText } from '../../config/issues.js';
import {
  worldResourceGroupSchema,
  worldResourceSchema,
  worldRoleAssignmentSchema,
} from '../../config/world-schema.js';
import type { EmulatorState } from '../../core/state.js';
import { configResourceId } from '../../core/world/world.js';
import { controlError } from '../../errors.js';
import { sendWireError } from '../../server/reply.js';

/** The config's role assignment shape (`{identity | principalId, role, scope?}`). */
const assignmentBody = worldRoleAssignmentSchema;

/**
 * `/world`: what ARM shows, read and changed live (docs/control-api.md, docs/arm.md): the summary,
 * resources (any type; `?id=<resource id>` to read or delete one), resource groups, role definitions and role
 * assignments (`{"identity":"azimds-vm-01","role":"Contributor"}`; scope defaults to the VM's group).
 */
export const controlWorldRoutes: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  const { world, rbac } = state;
  const fail = (reply: FastifyReply, status: number, code: string, message: string) =>
    sendWireError(reply, controlError(status, code, message));
  const home = () => {
    const vm = world.vms()[0]?.vm.id ?? '';
    return { subscriptionId: vm.split('/')[2] ?? '', group: vm.split('/').slice(0, 5).join('/') };
  };

  app.get('/world', async () => ({
    tenantId: world.tenantId,
    subscriptions: world.subscriptions(),
    resourceGroups: world
      .resourceGroups()
      .map((g) => ({ id: g.id, name: g.name, location: g.location, tags: g.tags ?? {} })),
    resources: world
      .resources()
      .map((r) => ({ id: r.id, type: r.type, location: r.location ?? null, origin: r.origin })),
    vaults: world.vaults(),
    roleAssignments: rbac.assignments(),
  }));

  app.get<{ Querystring: { type?: string; resourceGroup?: string; id?: string } }>(
    '/world/resources',
    async (request, reply) => {
      const { id, type, resourceGroup } = request.query;
      if (id !== undefined)
        return world.resource(id) ?? fail(reply, 404, 'ResourceNotFound', `no resource ${id}`);
      return world.resources({ ...(type ? { type } : {}), ...(resourceGroup ? { resourceGroup } : {}) });
    },
  );
  // Add or replace a resource of any type: the config's shape ({resourceGroup, type, name, ...} or {id, ...}).
  app.post('/world/resources', async (request, reply) => {
    const parsed = worldResourceSchema.safeParse(request.body ?? {});
    if (!parsed.success) return fail(reply, 400, 'InvalidInput', issuesText(parsed.error));
    const { id: _id, subscriptionId: _s, resourceGroup: _g, type: _t, name: _n, ...input } = parsed.data;
    const id = configResourceId(parsed.data, home().subscriptionId);
    const result = world.putResource(id, { location: world.vms()[0]?.vm.location ?? 'westeurope', ...input });
    if (!result.ok)
      return fail(
        reply,
        result.error === 'read-only' ? 409 : 400,
        'InvalidResource',
        `${id}: ${result.error}`,
      );
    return reply.code(result.created ? 201 : 200).send(result.resource);
  });
  app.delete<{ Querystring: { id?: string } }>('/world/resources', async (request, reply) => {
    const id = request.query.id;
    if (!id) return fail(reply, 400, 'InvalidInput', 'the resource id goes in ?id=');
    const outcome = world.deleteResource(id);
    if (outcome === 'deleted') return reply.code(204).send();
    if (outcome === 'read-only') {
      return fail(
        reply,
        409,
        'ReadOnly',
        'this resource is part of the emulated VM; change the VM (PATCH /vm) instead',
      );
    }
    return fail(reply, 404, 'ResourceNotFound', `no resource ${id}`);
  });

  app.post('/world/resource-groups', async (request, reply) => {
    const parsed = worldResourceGroupSchema.safeParse(request.body ?? {});
    if (!parsed.success) return fail(reply, 400, 'InvalidInput', issuesText(parsed.error));
    const g = parsed.data;
    const result = world.putResourceGroup(g.subscriptionId ?? home().subscriptionId, g.name, {
      location: g.location ?? world.vms()[0]?.vm.location ?? 'westeurope',
      ...(g.tags ? { tags: g.tags } : {}),
      ...(g.managedBy ? { managedBy: g.managedBy } : {}),
    });
    if (!result) return fail(reply, 404, 'SubscriptionNotFound', `no subscription ${g.subscriptionId}`);
    return reply.code(result.created ? 201 : 200).send(result.group);
  });
  app.delete<{ Params: { name: string }; Querystring: { subscriptionId?: string } }>(
    '/world/resource-groups/:name',
    async (request, reply) => {
      const outcome = world.deleteResourceGroup(
        request.query.subscriptionId ?? home().subscriptionId,
        request.params.name,
      );
      if (outcome === 'deleted') return reply.code(204).send();
      if (outcome === 'holds-vm')
        return fail(reply, 409, 'ReadOnly', 'the emulated VM lives in this resource group');
      return fail(reply, 404, 'ResourceGroupNotFound', `no resource group ${request.params.name}`);
    },
  );

  app.get('/world/role-definitions', async () => rbac.roleDefinitions());
  app.get('/world/role-assignments', async () => rbac.assignments());
  app.post('/world/role-assignments', async (request, reply) => {
    const parsed = assignmentBody.safeParse(request.body ?? {});
    if (!parsed.success) return fail(reply, 400, 'InvalidInput', issuesText(parsed.error));
    const a = parsed.data;
    const role = rbac.roleDefinition(a.role) ?? rbac.roleDefinitionByName(a.role);
    if (!role) return fail(reply, 400, 'RoleDefinitionDoesNotExist', `no role definition "${a.role}"`);
    let principalId = a.principalId;
    if (a.identity !== undefined) {
      const wanted = a.identity.toLowerCase();
      principalId = world.principals().find((p) => p.displayName?.toLowerCase() === wanted)?.principalId;
      if (!principalId) return fail(reply, 400, 'PrincipalNotFound', `no identity named "${a.identity}"`);
    }
    const result = rbac.createAssignment({
      name: a.name ?? crypto.randomUUID(),
      scope: a.scope ?? home().group,
      roleDefinitionId: role.name,
      principalId: principalId as string,
      ...(a.principalType ? { principalType: a.principalType } : {}),
      ...(a.description ? { description: a.description } : {}),
    });
    if (!result.ok)
      return fail(
        reply,
        result.error === 'role-assignment-exists' ? 409 : 400,
        'InvalidRoleAssignment',
        result.error,
      );
    return reply.code(result.created ? 201 : 200).send(result.assignment);
  });
  app.delete<{ Params: { name: string } }>('/world/role-assignments/:name', async (request, reply) => {
    if (rbac.deleteAssignment(request.params.name)) return reply.code(204).send();
    return fail(reply, 404, 'RoleAssignmentNotFound', `no role assignment ${request.params.name}`);
  });
};
