/**
 * Random walks for the exhaustive checker's property tests: a number picks a move, with
 * deliveries weighted up (as the explorer weights them), so that walks reach leaders, commits and
 * the states after them rather than piling up timeouts.
 */
import type { Move } from '../../src/exhaustive/model.js';

const WEIGHT: Readonly<Record<Move['kind'], number>> = { deliver: 12, replicate: 3, put: 2, register: 1,
  get: 1, retry: 1, timeout: 1, drop: 1, duplicate: 1, stale: 1, checkQuorum: 1, snapshot: 1, restart: 1 };

export function pickMove(moves: readonly Move[], choice: number): Move | undefined {
  const total = moves.reduce((n, m) => n + WEIGHT[m.kind], 0);
  let r = choice % Math.max(total, 1);
  for (const m of moves) {
    r -= WEIGHT[m.kind];
    if (r < 0) return m;
  }
  return undefined;
}
