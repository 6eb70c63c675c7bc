/**
 * A seeded PRNG for the fault model and the explorer: mulberry32 (the core's `nextRandom`), 32 bits
 * of state, the same sequence on every platform. Each concern (workload, fault choices, clients,
 * drops) draws from its own stream, so a change in one (an extra retry, a different drop) does not
 * shift the choices of another.
 */

import { nextRandom } from '../core/state.js';

/** FNV-1a over the UTF-16 units of `text`: a stream label becomes 32 bits to mix into a seed. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A 32-bit finaliser (murmur3's fmix32): nearby seeds give unrelated states. */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /**
   * The stream `label` of a scenario seed. Any safe integer works as a seed: its high and low
   * 32 bits are both mixed in, so 1 and 2**32 + 1 differ.
   */
  static stream(seed: number, label: string): Rng {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
    return new Rng(mix32(lo ^ mix32(hi ^ hash32(label))));
  }

  /** A float in [0, 1): the core's mulberry32 step (`nextRandom`), one implementation. */
  float(): number {
    const [value, state] = nextRandom(this.state);
    this.state = state;
    return value;
  }

  /** The next 32 random bits. */
  nextUint32(): number {
    return this.float() * 0x1_0000_0000;
  }

  /** An integer in [0, n); n must be a positive integer below 2**32. */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** A uniformly chosen element, or undefined for an empty list (which draws nothing). */
  pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[this.int(xs.length)];
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const a = out[i] as T;
      out[i] = out[j] as T;
      out[j] = a;
    }
    return out;
  }
}
