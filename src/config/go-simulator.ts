/**
 * Compatibility with the `config.json` of the Go `azure_instance_metadata_service_simulator`, which
 * azimds replaces. Its users point azimds at their file unchanged:
 *
 * ```json
 * { "tenantID": "…", "servicePrincipals": { "<clientId>": "<secret>" },
 *   "metadata": { "compute": { … }, "network": { … } } }
 * ```
 *
 * `metadata` becomes the VM (`vm.compute`, `vm.network`); `tenantID` and `servicePrincipals` are kept
 * under `goSimulator` for the identity and token-source features, and each service principal becomes an
 * identity whose tokens are real ones of that service principal (see `servicePrincipalIdentities`).
 */

const GO_KEYS = new Set(['tenantID', 'servicePrincipals', 'metadata']);

/** True for a file in the Go simulator's format: only its keys, and at least one of them. */
export function isGoSimulatorConfig(raw: object): boolean {
  const keys = Object.keys(raw);
  return keys.length > 0 && keys.every((k) => GO_KEYS.has(k));
}

/**
 * The Go simulator's `network`: its sample has `"interface": []`, which no Azure VM has (every VM has a
 * NIC); an empty list means "nothing to say", so azimds generates its NIC as for an absent list.
 */
function goNetwork(network: unknown): unknown {
  if (network === null || typeof network !== 'object' || Array.isArray(network)) return network;
  const { interface: nics, ...rest } = network as { interface?: unknown };
  return Array.isArray(nics) && nics.length === 0 ? rest : network;
}

/** Translates the Go simulator's config into azimds's. */
export function fromGoSimulator(raw: object): Record<string, unknown> {
  const { tenantID, servicePrincipals, metadata } = raw as {
    tenantID?: unknown;
    servicePrincipals?: unknown;
    metadata?: { compute?: unknown; network?: unknown };
  };
  const out: Record<string, unknown> = {};
  if (metadata && typeof metadata === 'object') {
    const vm: Record<string, unknown> = {};
    if (metadata.compute !== undefined) vm.compute = metadata.compute;
    if (metadata.network !== undefined) vm.network = goNetwork(metadata.network);
    out.vm = vm;
  }
  if (tenantID !== undefined || servicePrincipals !== undefined) {
    out.goSimulator = {
      ...(tenantID !== undefined ? { tenantId: tenantID } : {}),
      ...(servicePrincipals !== undefined ? { servicePrincipals } : {}),
    };
  }
  Object.assign(out, servicePrincipalIdentities(servicePrincipals));
  return out;
}

/**
 * The Go simulator answered every token request with a real token of one of its service principals: the
 * one whose client id the request named, else the first. azimds keeps that behaviour with identities:
 * the system-assigned identity is the first service principal (no `client_id` selects it, and so does its
 * own client id), each other one is a user-assigned identity with the service principal's client id, and
 * the default token source is `service-principal` (built from `goSimulator.servicePrincipals`).
 * Keys that are not client ids (GUIDs) get no identity of their own.
 */
function servicePrincipalIdentities(servicePrincipals: unknown): Record<string, unknown> {
  if (servicePrincipals === null || typeof servicePrincipals !== 'object') return {};
  const ids = Object.keys(servicePrincipals).filter((id) => GUID.test(id));
  if (ids.length === 0) return {};
  const [first, ...others] = ids;
  return {
    identity: {
      systemAssigned: { enabled: true, clientId: first },
      userAssigned: others.map((clientId) => ({ name: `sp-${clientId.toLowerCase()}`, clientId })),
    },
    tokens: { source: 'service-principal' },
  };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
