import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { issuesText } from '../../config/issues.js';
import { SECRET_NAME } from '../../config/key-vault.js';
import type { EmulatorState } from '../../core/state.js';
import { controlError } from '../../errors.js';
import { sendWireError } from '../../server/reply.js';

/** `PUT /key-vault/vaults/{vault}/secrets/{name}`: a new version, as Set Secret's body (values never echoed). */
const setBody = z.strictObject({
  value: z.string(),
  contentType: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  enabled: z.boolean().optional(),
  /** Unix seconds. */
  nbf: z.number().int().nonnegative().optional(),
  /** Unix seconds. */
  exp: z.number().int().nonnegative().optional(),
});

/**
 * `/key-vault`: the vaults and what they hold, for operators and tests (docs/control-api.md). Secret
 * names, versions and attributes only: values are never returned, and setting one needs no token (the
 * control API is the emulator's owner).
 */
export const controlKeyVaultRoutes: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  const kv = state.keyVaults;
  const noVault = (name: string) => controlError(404, 'VaultNotFound', `no key vault named "${name}"`);

  app.get('/key-vault/vaults', async () => ({ vaults: kv.summaries() }));

  app.get<{ Params: { vault: string } }>('/key-vault/vaults/:vault', async (request, reply) => {
    const summary = kv.summaries().find((v) => v.name.toLowerCase() === request.params.vault.toLowerCase());
    return summary ?? sendWireError(reply, noVault(request.params.vault));
  });

  app.put<{ Params: { vault: string; name: string } }>(
    '/key-vault/vaults/:vault/secrets/:name',
    async (request, reply) => {
      const vault = kv.vault(request.params.vault);
      if (!vault) return sendWireError(reply, noVault(request.params.vault));
      if (!SECRET_NAME.test(request.params.name)) {
        return sendWireError(
          reply,
          controlError(400, 'InvalidInput', 'a secret name is 1-127 letters, digits and hyphens'),
        );
      }
      const parsed = setBody.safeParse(request.body ?? {});
      if (!parsed.success)
        return sendWireError(reply, controlError(400, 'InvalidInput', issuesText(parsed.error)));
      const result = kv.secrets(vault).set(request.params.name, parsed.data);
      if (!result.ok) {
        return sendWireError(
          reply,
          controlError(
            409,
            'Conflict',
            `secret "${request.params.name}" is deleted but recoverable: recover or purge it first`,
          ),
        );
      }
      const { value: _value, ...metadata } = result.value;
      return metadata;
    },
  );
};
