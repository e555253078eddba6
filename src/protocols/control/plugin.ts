import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { VERSION } from '../../cli/version.js';
import { DEFAULTS } from '../../config/defaults.js';
import { issuesText } from '../../config/issues.js';
import { parseDuration } from '../../core/duration.js';
import { nestsDeeperThan } from '../../core/machines/json.js';
import { patchMachine } from '../../core/machines/patch.js';
import { resetState } from '../../core/reset.js';
import type { EmulatorState } from '../../core/state.js';
import { AzimdsError, controlError } from '../../errors.js';
import { sendWireError } from '../../server/reply.js';
import { controlEventsRoutes } from './events.js';
import { controlFleetRoutes, controlVm } from './fleet.js';
import { controlIdentitiesRoutes } from './identities.js';
import { controlKeyVaultRoutes } from './key-vault.js';
import { controlWorldRoutes } from './world.js';

export interface ControlPluginOptions {
  state: EmulatorState;
}

/** How deep a control API body may nest (objects and arrays). */
const MAX_BODY_DEPTH = 64;

/**
 * The emulator's own API (docs/control-api.md, docs/control-api.openapi.yaml): read and change the VM,
 * the fault rules, the clock; read the request log; reset. JSON in and out; errors are
 * `{"error":{"code","message"}}` with 400 (bad input) or 404 (no such thing).
 */
export const controlPlugin: FastifyPluginAsync<ControlPluginOptions> = async (app, { state }) => {
  const fail = (reply: FastifyReply, status: number, code: string, message: string) =>
    sendWireError(reply, controlError(status, code, message));

  // Body parse errors (bad JSON) and anything unexpected, in the control API's error shape.
  app.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    if (error instanceof AzimdsError && error.code === 'INVALID_INPUT') {
      return fail(reply, 400, 'InvalidInput', error.message);
    }
    const status = error.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return fail(reply, status, 'BadRequest', error.message);
    }
    request.log.error({ err: error }, 'control API error');
    return fail(reply, 500, 'InternalError', 'the emulator failed to handle this request (see its log)');
  });
  // No control body is legitimately deep (a VM patch nests at most ~10 levels); code that walks bodies
  // recursively (schema validation, structuredClone, merge patch) must never see one nested thousands
  // deep: every route gets the same 400 before it runs.
  // A route that bounds depth itself, with its own error, says so (`config: { checksBodyDepth: true }`).
  app.addHook('preValidation', async (request, reply) => {
    if ((request.routeOptions.config as { checksBodyDepth?: boolean }).checksBodyDepth) return;
    if (
      request.body !== null &&
      typeof request.body === 'object' &&
      nestsDeeperThan(request.body, MAX_BODY_DEPTH)
    ) {
      return fail(reply, 400, 'InvalidInput', `the body nests deeper than ${MAX_BODY_DEPTH} levels`);
    }
  });
  // Merge patches (RFC 7396) arrive as application/merge-patch+json.
  app.addContentTypeParser(
    'application/merge-patch+json',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  );

  app.get('/', async () => ({ name: 'azimds', version: VERSION }));

  // --- VM -------------------------------------------------------------------------------------
  // `?vm=NAME`: one VM of the fleet (fleet.ts); else the default VM.
  app.get('/vm', async (request, reply) => controlVm(state, request, reply)?.machine.document ?? reply);
  // patchMachine refuses a patch deeper than any VM field as InvalidVm (core/machines/patch.ts).
  app.patch('/vm', { config: { checksBodyDepth: true } }, async (request, reply) => {
    const vm = controlVm(state, request, reply);
    if (!vm) return reply;
    const result = patchMachine(vm.machine, request.body);
    if (!result.ok) return fail(reply, 400, 'InvalidVm', result.message);
    return vm.machine.document;
  });

  // --- The fleet: its VMs, per-VM listeners (fleet.ts) ----------------------------------------
  await app.register(controlFleetRoutes, { state, openListeners: () => state.vmListeners });

  // --- Faults ---------------------------------------------------------------------------------
  app.get('/faults', async () => ({ faults: state.faults.list() }));
  app.post('/faults', async (request, reply) => {
    const rule = state.faults.add((request.body ?? {}) as never);
    return reply.code(201).send(rule);
  });
  app.delete('/faults', async (_request, reply) => {
    state.faults.clear();
    return reply.code(204).send();
  });
  app.get<{ Params: { id: string } }>('/faults/:id', async (request, reply) => {
    const rule = state.faults.get(request.params.id);
    return rule ?? fail(reply, 404, 'FaultNotFound', `no fault rule with id "${request.params.id}"`);
  });
  app.delete<{ Params: { id: string } }>('/faults/:id', async (request, reply) => {
    if (state.faults.remove(request.params.id)) return reply.code(204).send();
    return fail(reply, 404, 'FaultNotFound', `no fault rule with id "${request.params.id}"`);
  });

  // --- Managed identities (identities.ts) ----------------------------------------------------
  await app.register(controlIdentitiesRoutes, { state });

  // --- The world ARM shows and its RBAC (world.ts) ------------------------------------------
  await app.register(controlWorldRoutes, { state });

  // --- Scheduled events (events.ts) ---------------------------------------------------------
  await app.register(controlEventsRoutes, { state });

  // --- Key Vault: vaults, secret names and versions, set a secret (key-vault.ts) --------------
  await app.register(controlKeyVaultRoutes, { state });

  // --- Clock ----------------------------------------------------------------------------------
  const clockView = () => {
    const now = state.clock.now();
    return { now: new Date(now).toISOString(), epochMs: now, offsetMs: state.clock.offsetMs };
  };
  app.get('/clock', async () => clockView());
  app.post('/clock/advance', async (request, reply) => {
    const parsed = advanceBody.safeParse(request.body ?? {});
    if (!parsed.success) return fail(reply, 400, 'InvalidInput', issuesText(parsed.error));
    state.clock.advance(parsed.data.by);
    return clockView();
  });
  app.post('/clock/set', async (request, reply) => {
    const parsed = setBody.safeParse(request.body ?? {});
    if (!parsed.success) return fail(reply, 400, 'InvalidInput', issuesText(parsed.error));
    state.clock.set(parsed.data.time);
    return clockView();
  });
  app.post('/clock/reset', async () => {
    state.clock.reset();
    return clockView();
  });

  // --- Request log ----------------------------------------------------------------------------
  app.get('/logs', async (request, reply) => {
    const parsed = logsQuery.safeParse(request.query);
    if (!parsed.success) return fail(reply, 400, 'InvalidInput', issuesText(parsed.error));
    const { limit, surface, wait } = parsed.data;
    // A long poll without `after` waits for the next request from now on.
    const after = parsed.data.after ?? (wait === undefined ? undefined : state.requestLog.last);
    if (wait !== undefined && after !== undefined) {
      // Long poll: hold the answer until a newer entry exists, the wait ends, or the client leaves.
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      await state.requestLog.waitForNewer(after, Math.min(wait, DEFAULTS.requestLog.maxWaitMs), gone.signal);
    }
    return state.requestLog.entries({
      ...(after === undefined ? {} : { after }),
      ...(limit === undefined ? {} : { limit }),
      ...(surface === undefined ? {} : { surface }),
    });
  });
  app.delete('/logs', async (_request, reply) => {
    state.requestLog.clear();
    state.requestDetails.clear();
    return reply.code(204).send();
  });

  // --- Attested data ----------------------------------------------------------------------------
  // The certificates a verifier of /metadata/attested/document must trust (the CA is created if needed).
  app.get('/attestation', async (request, reply) => {
    const attestation = controlVm(state, request, reply)?.attestation;
    if (!attestation) return reply;
    return {
      caCertificate: await attestation.caCertificatePem(),
      signerCertificate: await attestation.signerCertificatePem(),
      caFile: attestation.caFile ?? null,
    };
  });

  // --- Reset ----------------------------------------------------------------------------------
  app.post('/reset', async (_request, reply) => {
    resetState(state);
    return reply.code(204).send();
  });
};

/** `{"by": "10m"}` or `{"by": 600000}`: a duration (negative moves back). */
const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration (e.g. 10m, 1h30m, 500ms)` });
    return z.NEVER;
  }
  return ms;
});
const advanceBody = z.strictObject({ by: duration });

/** `{"time": "2026-01-01T00:00:00Z"}` or epoch milliseconds. */
const setBody = z.strictObject({
  time: z.union([z.number().int(), z.string()]).transform((value, ctx) => {
    const ms = typeof value === 'number' ? value : Date.parse(value);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a date (ISO 8601 or epoch ms)` });
      return z.NEVER;
    }
    return ms;
  }),
});

const count = z.coerce.number().int().min(0);
const logsQuery = z.object({
  after: count.optional(),
  limit: count.optional(),
  surface: z.string().min(1).optional(),
  /** Long poll: hold the answer up to this many milliseconds until an entry newer than `after` exists. */
  wait: count.optional(),
});
