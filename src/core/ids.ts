import { createHash } from 'node:crypto';

/**
 * A UUID (version-4 shaped) derived from `seed`: the same seed gives the same id on every run and
 * machine, so generated vmIds, subscription ids and client ids are stable without being stored.
 */
export function stableUuid(seed: string): string {
  const h = createHash('sha256').update(`azimds:${seed}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x40;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Hex digits derived from `seed` (upper-case), e.g. for MAC addresses. */
export function stableHex(seed: string, length: number): string {
  return createHash('sha256').update(`azimds:${seed}`).digest('hex').slice(0, length).toUpperCase();
}
