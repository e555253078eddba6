import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { FaultAction, FaultSet } from '../core/faults/fault-set.js';
import { type FaultErrorShape, faultError, type WireError } from '../errors.js';
import { sendWireError } from './reply.js';
import type { RequestEnd, RequestLog } from './request-log.js';
import { requestVmName } from './request-vm.js';

/** How a surface words the statuses fault injection sends: its own Azure shape, by request. */
export type FaultErrors = (request: FastifyRequest, status: number, retryAfter?: number) => WireError;

/**
 * The default wording: on IMDS, the identity category (`/metadata/identity/...`) speaks OAuth-style
 * `{error, error_description}` and the other categories `{"error": "..."}`; the other surfaces are
 * token endpoints and speak the identity shape.
 */
export function defaultFaultErrors(surface: string): FaultErrors {
  return (request, status, retryAfter) => {
    const shape: FaultErrorShape =
      surface === 'imds' && !request.url.startsWith('/metadata/identity') ? 'metadata' : 'identity';
    return faultError(shape, status, retryAfter);
  };
}

/**
 * The `onRequest` hook that applies fault rules to a listener's requests. With no rule active it is
 * one property read; otherwise it asks the rule set for an action and waits, answers, or resets.
 */
export function faultInjectionHook(options: {
  surface: string;
  faults: FaultSet;
  errors: FaultErrors;
  requestLog: RequestLog;
  /** Headers the surface sends on every response (IMDS: `Server`). */
  headers?: Readonly<Record<string, string>>;
}): onRequestHookHandler {
  const { surface, faults, errors, requestLog, headers } = options;

  /** Records a request that got no answer, with how it ended. */
  const recordUnanswered = (
    request: FastifyRequest,
    reply: FastifyReply,
    action: FaultAction,
    end: RequestEnd,
  ) =>
    requestLog.record(
      surface,
      request.method,
      request.url,
      request.ip,
      null,
      reply.elapsedTime,
      request.azimdsIdentity,
      action.id,
      end,
      requestVmName(request.raw),
    );

  const apply = (action: FaultAction, request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (action.kind === 'pass') return done();
    if (action.kind === 'status') {
      sendWireError(reply, errors(request, action.status as number, action.retryAfter), headers);
      return;
    }
    // reset: no answer at all, as when a host or a proxy drops the connection.
    reply.hijack();
    recordUnanswered(request, reply, action, 'reset');
    request.raw.destroy();
    request.raw.socket?.destroy();
  };

  return function faultInjection(request, reply, done) {
    if (!faults.active) return done();
    const url = request.url;
    const q = url.indexOf('?');
    const action = faults.match(surface, request.method, q < 0 ? url : url.slice(0, q), request.ip);
    if (action === undefined) return done();
    request.azimdsFault = action.id;
    if (action.latencyMs > 0) {
      // A client that gives up while the latency is pending (a probe's timeout) is logged as such at
      // once; the request goes no further. The response's 'close' before any answer is the socket's.
      const abandoned = () => {
        clearTimeout(timer);
        recordUnanswered(request, reply, action, 'client-closed');
      };
      const timer = setTimeout(() => {
        reply.raw.off('close', abandoned);
        apply(action, request, reply, done);
      }, action.latencyMs).unref();
      reply.raw.once('close', abandoned);
    } else {
      apply(action, request, reply, done);
    }
  };
}
