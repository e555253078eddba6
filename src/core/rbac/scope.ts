/**
 * Scopes of Azure RBAC: `/`, `/subscriptions/{s}`, `/subscriptions/{s}/resourceGroups/{rg}`, a
 * resource id. Compared case-insensitively (ARM ids are case-insensitive), without a trailing slash.
 */

/** `scope` lower-cased, without trailing slashes; the root is `/`. */
export function normalizeScope(scope: string): string {
  const s = scope.trim().toLowerCase().replace(/\/+$/, '');
  return s === '' ? '/' : s.startsWith('/') ? s : `/${s}`;
}

/** Whether an assignment at `outer` applies at `inner` (same scope or an ancestor of it). */
export function scopeCovers(outer: string, inner: string): boolean {
  const o = normalizeScope(outer);
  const i = normalizeScope(inner);
  return o === '/' || o === i || i.startsWith(`${o}/`);
}

const patterns = new Map<string, RegExp>();

/**
 * Whether `operation` (e.g. `Microsoft.Compute/virtualMachines/read`) matches an RBAC permission
 * string: `*` matches any run of characters, `/` included (so `*` followed by `/read` matches every
 * read, and `Microsoft.Compute/` followed by `*` everything of Compute); case-insensitive, as Azure
 * compares operations.
 */
export function operationMatches(pattern: string, operation: string): boolean {
  let re = patterns.get(pattern);
  if (!re) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    re = new RegExp(`^${body}$`, 'i');
    patterns.set(pattern, re);
  }
  return re.test(operation);
}

/** Whether any of `patterns` matches `operation`. */
export function anyMatches(list: readonly string[], operation: string): boolean {
  for (const p of list) if (operationMatches(p, operation)) return true;
  return false;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a GUID (any case). */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}
