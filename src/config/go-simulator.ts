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
 * under `goSimulator` for the identity and token-source features.
 */

const GO_KEYS = new Set(['tenantID', 'servicePrincipals', 'metadata']);

/** True for a file in the Go simulator's format: only its keys, and at least one of them. */
export function isGoSimulatorConfig(raw: object): boolean {
  const keys = Object.keys(raw);
  return keys.length > 0 && keys.every((k) => GO_KEYS.has(k));
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
    if (metadata.network !== undefined) vm.network = metadata.network;
    out.vm = vm;
  }
  if (tenantID !== undefined || servicePrincipals !== undefined) {
    out.goSimulator = {
      ...(tenantID !== undefined ? { tenantId: tenantID } : {}),
      ...(servicePrincipals !== undefined ? { servicePrincipals } : {}),
    };
  }
  return out;
}
