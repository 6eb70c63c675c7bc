/**
 * A persistent sequence with O(1) append at the end, shared between states.
 *
 * Deviation from "copy on every update": states produced by a pure transition must not see each
 * other's changes, but copying a 100 k-entry log per event is far too slow (the toolchain notes
 * measured a copied log falling to 10 k events/s). A `Chain` is a window `[start, end)` over a
 * backing array that only ever grows. Appending to the newest window pushes in place; appending
 * to an older window (a fork, as after a truncation or when a test reuses an old snapshot) copies
 * its items first.
 * Items inside a window never change, so every `Chain` value is immutable as observed.
 */
export interface Chain<T> {
  readonly backing: T[];
  readonly start: number;
  readonly end: number;
  /** Items `[0, forkedAt)` of the window are shared with the chain this one was copied from. */
  readonly forkedAt: number;
}

export function emptyChain<T>(): Chain<T> {
  return { backing: [], start: 0, end: 0, forkedAt: 0 };
}

export function chainOf<T>(items: readonly T[]): Chain<T> {
  return { backing: items.slice(), start: 0, end: items.length, forkedAt: 0 };
}

export function size<T>(c: Chain<T>): number {
  return c.end - c.start;
}

/** The item at `offset` (0-based), or undefined past the end. */
export function at<T>(c: Chain<T>, offset: number): T | undefined {
  return offset >= 0 && offset < c.end - c.start ? c.backing[c.start + offset] : undefined;
}

export function push<T>(c: Chain<T>, items: readonly T[]): Chain<T> {
  if (items.length === 0) return c;
  if (c.end === c.backing.length) {
    for (const item of items) c.backing.push(item);
    return { backing: c.backing, start: c.start, end: c.end + items.length, forkedAt: c.forkedAt };
  }
  const backing = c.backing.slice(c.start, c.end);
  for (const item of items) backing.push(item);
  return { backing, start: 0, end: backing.length, forkedAt: c.end - c.start };
}

/** Keep the first `length` items. */
export function truncate<T>(c: Chain<T>, length: number): Chain<T> {
  if (length >= c.end - c.start) return c;
  const end = c.start + Math.max(0, length);
  return { backing: c.backing, start: c.start, end, forkedAt: Math.min(c.forkedAt, end - c.start) };
}

/**
 * Drop the first `count` items. Once the dropped items outnumber the kept ones (and are many),
 * the kept ones move to a fresh backing array, so that a chain used as a queue (a leader's pending
 * requests) does not keep every item it ever held: amortized O(1) per item, and flat memory.
 */
export function dropFront<T>(c: Chain<T>, count: number): Chain<T> {
  if (count <= 0) return c;
  const start = Math.min(c.end, c.start + count);
  if (start >= 1024 && start >= 2 * (c.end - start)) {
    return chainOf(c.backing.slice(start, c.end));
  }
  return { backing: c.backing, start, end: c.end, forkedAt: Math.max(0, c.forkedAt - count) };
}

/** Items `[from, to)` by offset, as a fresh array. */
export function slice<T>(c: Chain<T>, from: number, to: number): T[] {
  const lo = c.start + Math.max(0, from);
  const hi = c.start + Math.min(c.end - c.start, to);
  return lo < hi ? c.backing.slice(lo, hi) : [];
}

export function toArray<T>(c: Chain<T>): T[] {
  return c.backing.slice(c.start, c.end);
}
