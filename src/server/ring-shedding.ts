/**
 * The byte bound of the request log and of the dashboard's request details (both rings of slots
 * indexed by `seq % size`): drops the oldest slots, never the newest (`seq`), while `over()` says the
 * kept ones do not fit. `drop` empties one slot and takes its bytes off the total. Returns the new
 * oldest seq.
 */
export function shedOldest<S extends { seq: number }>(
  slots: ReadonlyArray<S | undefined>,
  oldest: number,
  seq: number,
  over: () => boolean,
  drop: (slot: S) => void,
): number {
  let at = Math.max(oldest, seq - slots.length);
  while (over() && at < seq - 1) {
    at++;
    const slot = slots[at % slots.length];
    if (slot !== undefined && slot.seq === at) drop(slot);
  }
  return at;
}
