import type { FastifyPluginAsync } from 'fastify';
import { ATTESTED_MIN_VERSION, isValidNonce } from '../../core/attestation/content.js';
import { NEWEST_IMDS_VERSIONS } from '../../core/machines/api-versions.js';
import type { EmulatorState } from '../../core/state.js';
import { apiVersionInvalid, parameterValueNotAllowed } from '../../errors.js';
import { JSON_CONTENT_TYPE, sendBytes, sendWireError } from '../../server/reply.js';
import { requestVm } from '../../server/request-vm.js';
import { IMDS_HEADERS, imdsGuard } from './plugin.js';
import { metadataApiVersion, type Query } from './request-checks.js';

export interface AttestedPluginOptions {
  state: EmulatorState;
}

const apiVersionError = apiVersionInvalid(NEWEST_IMDS_VERSIONS);

/**
 * `GET /metadata/attested/document?api-version=V[&nonce=N]` (V an IMDS version ≥ 2018-10-01):
 * `{"encoding":"pkcs7","signature":"<base64 DER>"}`, signed by the emulator's attestation certificate.
 * A nonce that is not 1-32 letters and digits gets IMDS's 400 for a parameter value.
 */
export const attestedPlugin: FastifyPluginAsync<AttestedPluginOptions> = async (app, { state }) => {
  const guard = imdsGuard(state);
  app.all('/metadata/attested/document', async (request, reply) => {
    const rejected = guard(request, reply, 'GET');
    if (rejected) return rejected;
    const query = request.query as Query;
    const version = metadataApiVersion(query);
    if (!version || version < ATTESTED_MIN_VERSION)
      return sendWireError(reply, apiVersionError, IMDS_HEADERS);
    const nonce = query.nonce as string | undefined;
    if (nonce && !isValidNonce(nonce)) {
      return sendWireError(reply, parameterValueNotAllowed('nonce', nonce), IMDS_HEADERS);
    }
    const document = await requestVm(state, request.raw).attestation.document(version, nonce);
    return sendBytes(reply, 200, JSON_CONTENT_TYPE, Buffer.from(JSON.stringify(document)), IMDS_HEADERS);
  });
};
