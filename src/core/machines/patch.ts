import { issuesText } from '../../config/issues.js';
import { vmSchema } from '../../config/schema.js';
import { type JsonObject, nestsDeeperThan } from './json.js';
import type { Machine } from './machine.js';

/**
 * RFC 7396 JSON merge patch: objects merge key by key, `null` deletes a key, anything else
 * (arrays included) replaces. Returns a new value; neither argument is changed.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** Deepest merge patch `patchMachine` takes: far more than any VM field (`compute.storageProfile.dataDisks[0].managedDisk.id` is 5). */
const MAX_PATCH_DEPTH = 32;

/** Result of `patchMachine`. */
export type PatchResult = { ok: true } | { ok: false; message: string };

/**
 * Changes the VM with a merge patch in the config's shape (`{"compute":{"tags":{"team":"a"}}}`),
 * validated by the config's VM schema; the VM is left as it was when the result is invalid.
 * Tags merge into the tags the VM serves now (defaults included), so a patch adds or changes tags
 * and `null` removes one; a tags string (`"k:v;k2:v2"`) replaces them all.
 */
export function patchMachine(machine: Machine, patch: unknown): PatchResult {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    return { ok: false, message: 'the body must be a JSON object such as {"compute":{"tags":{"k":"v"}}}' };
  }
  // A VM's config is a few levels deep; deeper input is invalid, and would overflow the recursive merge.
  if (nestsDeeperThan(patch, MAX_PATCH_DEPTH)) {
    return {
      ok: false,
      message: `vm: the patch nests deeper than ${MAX_PATCH_DEPTH} levels; no VM field is that deep`,
    };
  }
  const base = structuredClone(machine.config) as { compute: Record<string, unknown> };
  const served = (machine.document.compute as JsonObject).tagsList as Array<{ name: string; value: string }>;
  base.compute.tags = Object.fromEntries(served.map((t) => [t.name, t.value]));
  delete base.compute.tagsList;
  const parsed = vmSchema.safeParse(mergePatch(base, patch));
  if (!parsed.success) return { ok: false, message: issuesText(parsed.error, 'vm') };
  machine.replace(parsed.data);
  return { ok: true };
}
