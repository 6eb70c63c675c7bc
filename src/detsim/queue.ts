/**
 * The event queue of the deterministic simulation: a binary min-heap ordered by time, then by
 * insertion, so that events due at the same moment run in the order they were scheduled and a
 * seed always gives the same run.
 */
interface Slot<T> {
  readonly at: number;
  readonly seq: number;
  readonly item: T;
}

const before = <T>(a: Slot<T>, b: Slot<T>): boolean =>
  a.at < b.at || (a.at === b.at && a.seq < b.seq);

export class EventQueue<T> {
  private readonly heap: Slot<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, item: T): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, item });
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(h[i] as Slot<T>, h[parent] as Slot<T>)) break;
      [h[i], h[parent]] = [h[parent] as Slot<T>, h[i] as Slot<T>];
      i = parent;
    }
  }

  /** The time of the next event, or Infinity. */
  peekAt(): number {
    return this.heap[0]?.at ?? Infinity;
  }

  pop(): { at: number; item: T } | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return undefined;
    const last = h.pop() as Slot<T>;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l] as Slot<T>, h[m] as Slot<T>)) m = l;
        if (r < h.length && before(h[r] as Slot<T>, h[m] as Slot<T>)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Slot<T>, h[i] as Slot<T>];
        i = m;
      }
    }
    return { at: top.at, item: top.item };
  }
}
