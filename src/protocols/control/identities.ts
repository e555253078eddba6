import type { FastifyPluginAsync } from 'fastify';
import type { EmulatorState } from '../../core/state.js';
import { controlError } from '../../errors.js';
import { sendWireError } from '../../server/reply.js';
import { controlVm } from './fleet.js';

/**
 * `/identities`: the VM's managed identities as the token endpoints see them; user-assigned ones can
 * be attached (`POST`, the config's shape: `{"name":"id-app"}`) and detached (`DELETE` by name, client
 * id, principal id or resource id, URL-encoded).
 */
export const controlIdentitiesRoutes: FastifyPluginAsync<{ state: EmulatorState }> = async (
  app,
  { state },
) => {
  app.get('/identities', async (request, reply) => {
    const identities = controlVm(state, request, reply)?.identities;
    if (!identities) return reply;
    const { tenantId, systemAssigned, userAssigned } = identities.current;
    return { tenantId, systemAssigned: systemAssigned ?? null, userAssigned };
  });
  app.post('/identities/user-assigned', async (request, reply) => {
    const identities = controlVm(state, request, reply)?.identities;
    if (!identities) return reply;
    return reply.code(201).send(identities.addUserAssigned(request.body ?? {}));
  });
  app.delete<{ Params: { key: string } }>('/identities/user-assigned/:key', async (request, reply) => {
    const identities = controlVm(state, request, reply)?.identities;
    if (!identities) return reply;
    if (identities.removeUserAssigned(request.params.key)) return reply.code(204).send();
    return sendWireError(
      reply,
      controlError(404, 'IdentityNotFound', `no user-assigned identity "${request.params.key}" is attached`),
    );
  });
};
