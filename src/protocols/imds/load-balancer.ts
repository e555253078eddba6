import type { FastifyPluginAsync } from 'fastify';
import { NEWEST_IMDS_VERSIONS } from '../../core/machines/api-versions.js';
import type { EmulatorState } from '../../core/state.js';
import { apiVersionInvalid, loadBalancerNotFound } from '../../errors.js';
import { JSON_CONTENT_TYPE, sendBytes, sendWireError } from '../../server/reply.js';
import { requestVm } from '../../server/request-vm.js';
import { IMDS_HEADERS, imdsGuard } from './plugin.js';
import { metadataApiVersion, type Query } from './request-checks.js';

export interface LoadBalancerPluginOptions {
  state: EmulatorState;
}

/** The load-balancer category appeared in 2020-10-01. */
export const LOAD_BALANCER_MIN_VERSION = '2020-10-01';

const apiVersionError = apiVersionInvalid(NEWEST_IMDS_VERSIONS);

/**
 * `GET /metadata/loadbalancer?api-version=V` (V an IMDS version ≥ 2020-10-01): the VM's Standard load
 * balancer (`{"loadbalancer":{publicIpAddresses, inboundRules, outboundRules}}`, ports as numbers), or
 * Azure's 404 when it has none.
 */
export const loadBalancerPlugin: FastifyPluginAsync<LoadBalancerPluginOptions> = async (app, { state }) => {
  const guard = imdsGuard(state);
  app.all('/metadata/loadbalancer', (request, reply) => {
    const rejected = guard(request, reply, 'GET');
    if (rejected) return rejected;
    const version = metadataApiVersion(request.query as Query);
    if (!version || version < LOAD_BALANCER_MIN_VERSION)
      return sendWireError(reply, apiVersionError, IMDS_HEADERS);
    const body = requestVm(state, request.raw).loadBalancer.documentBytes();
    if (!body) return sendWireError(reply, loadBalancerNotFound, IMDS_HEADERS);
    return sendBytes(reply, 200, JSON_CONTENT_TYPE, body, IMDS_HEADERS);
  });
};
