/**
 * The exhaustive checker's memory of states, shared by its worker threads: a set of 64-bit
 * fingerprints (open addressing in a SharedArrayBuffer, claimed with compare-and-swap, as TLC's
 * fingerprint set) and, per state, its parent and the move that reached it, so that the shortest
 * trace to any state can be read back. A fingerprint collision would merge two states; at 2^64 and
 * ten million states its chance is about 3 in a million.
 */

/** Two 32-bit FNV-1a lanes over the string's UTF-16 units, as one 64-bit fingerprint (never 0). */
export function fingerprint(text: string): bigint {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 13;
  a = Math.imul(a, 0xc2b2ae35);
  const fp = (BigInt(a >>> 0) << 32n) | BigInt((b ^ (b >>> 16)) >>> 0);
  return fp === 0n ? 1n : fp;
}

export interface StoreBuffers {
  readonly slots: SharedArrayBuffer;
  readonly parents: SharedArrayBuffer;
  readonly moves: SharedArrayBuffer;
  readonly counters: SharedArrayBuffer;
}

/** Counter slots: states stored, and whether the store is full. */
const COUNT = 0;
const FULL = 1;

export class StateStore {
  private readonly slots: BigUint64Array;
  private readonly mask: number;
  private readonly parents: Int32Array;
  private readonly moveOf: Uint16Array;
  private readonly counters: Int32Array;

  /** Room for `maxStates` states; the fingerprint table is kept at most half full. */
  static create(maxStates: number): StateStore {
    let size = 1024;
    while (size < maxStates * 2) size *= 2;
    return new StateStore({
      slots: new SharedArrayBuffer(size * 8),
      parents: new SharedArrayBuffer(maxStates * 4),
      moves: new SharedArrayBuffer(maxStates * 2),
      counters: new SharedArrayBuffer(8),
    });
  }

  constructor(readonly buffers: StoreBuffers) {
    this.slots = new BigUint64Array(buffers.slots);
    this.mask = this.slots.length - 1;
    this.parents = new Int32Array(buffers.parents);
    this.moveOf = new Uint16Array(buffers.moves);
    this.counters = new Int32Array(buffers.counters);
  }

  get capacity(): number {
    return this.parents.length;
  }

  get size(): number {
    return Math.min(Atomics.load(this.counters, COUNT), this.capacity);
  }

  get full(): boolean {
    return Atomics.load(this.counters, FULL) === 1;
  }

  /**
   * Store a state reached from `parent` (-1: the initial state) by move number `move`, unless its
   * fingerprint is stored already. Returns its id, or -1 if it was known (or the store is full).
   */
  add(fp: bigint, parent: number, move: number): number {
    let i = Number(fp & BigInt(this.mask));
    for (;;) {
      const seen = Atomics.compareExchange(this.slots, i, 0n, fp);
      if (seen === 0n) break;
      if (seen === fp) return -1;
      i = (i + 1) & this.mask;
    }
    const id = Atomics.add(this.counters, COUNT, 1);
    if (id >= this.capacity) {
      Atomics.store(this.counters, FULL, 1);
      return -1;
    }
    this.parents[id] = parent;
    this.moveOf[id] = move;
    return id;
  }

  /** The moves from the initial state to state `id`, in order. */
  path(id: number): number[] {
    const moves: number[] = [];
    for (let k = id; (this.parents[k] as number) >= 0; k = this.parents[k] as number) {
      moves.push(this.moveOf[k] as number);
    }
    return moves.reverse();
  }
}
