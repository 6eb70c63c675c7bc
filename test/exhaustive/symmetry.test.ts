/**
 * Symmetry reduction is sound only if renaming the servers commutes with every transition: a run
 * and its renamed copy must reach renamed copies of the same states. (Pacing breaks ties by id
 * order, and each server's PRNG seed depends on its id; the model leaves pacing out and the
 * abstraction leaves timers out, so neither may show here.) This runs random walks and their
 * renamed twins side by side and compares every state, on the real statechart.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { makeRaftMachine, raftMachine, type RaftMachine } from '../../src/core/raft.js';
import { raftRules } from '../../src/core/raftRules.js';
import {
  Model, renameKey, type Bounds, type Move, type World,
} from '../../src/exhaustive/model.js';
import { BOUNDS } from '../../src/exhaustive/main.js';
import { pickMove } from './walk.js';

const bounds: Bounds = { ...BOUNDS['default'] as Bounds, maxTerm: 4, maxLog: 4, clients: 3,
  retries: 2,
  keys: 2, maxInFlight: 6, crashes: 2, snapshots: true, symmetry: false };

/** Move `m` of the original run, as the renamed run takes it. */
function renamedMove(model: Model, twin: World, m: Move, perm: readonly number[]):
  Move | undefined {
  const rename = (key: string): string => renameKey(key, (id) =>
    model.ids[perm[model.ids.indexOf(id as never)] as number] as string);
  const want = (x: Move): boolean => {
    if (x.kind !== m.kind) return false;
    if ('key' in m && !('server' in m)) return 'key' in x && x.key === rename(m.key);
    if (!('server' in x) || !('server' in m) || x.server !== perm[m.server]) return false;
    if (m.kind === 'retry' && x.kind === 'retry') return x.op === m.op;
    if (m.kind === 'replicate' && x.kind === 'replicate') {
      return [...m.to].map((k) => perm[k]).sort().join() === [...x.to].sort().join();
    }
    return !('key' in m) || ('key' in x && x.key === m.key);
  };
  return model.moves(twin).find(want);
}

/** Random walks and their renamed twins; throws at the first step where they part. */
function checkCommutes(machine: RaftMachine, runs: number): { compared: number; kinds: string[] } {
  const model = new Model(bounds, machine);
  const n = bounds.servers;
  const perms = [[1, 2, 0], [2, 0, 1], [1, 0, 2], [0, 2, 1], [2, 1, 0]];
  let compared = 0;
  const kinds = new Set<string>();
  fc.assert(fc.property(
    fc.constantFrom(...perms), fc.array(fc.nat(), { minLength: 50, maxLength: 250 }),
    (perm, choices) => {
      let w = model.initial();
      let twin = model.initial();
      const identity = [...Array(n).keys()];
      expect(model.encode(twin, identity)).toBe(model.encode(w, perm));
      for (const c of choices) {
        const moves = model.moves(w);
        if (moves.length === 0) break;
        const m = pickMove(moves, c) as Move;
        const tm = renamedMove(model, twin, m, perm);
        expect(tm, `the twin can take ${model.describe(w, m)}`).toBeDefined();
        const a = model.apply(w, m);
        const b = model.apply(twin, tm as Move);
        expect(b === undefined).toBe(a === undefined);
        if (a === undefined || b === undefined) continue;
        expect(b.violation?.invariant).toBe(a.violation?.invariant);
        if (a.world === undefined || b.world === undefined) break;
        w = a.world;
        twin = b.world;
        expect(model.encode(twin, identity)).toBe(model.encode(w, perm));
        compared++;
        kinds.add(m.kind);
      }
    }), { numRuns: runs, seed: 42 });
  return { compared, kinds: [...kinds].sort() };
}

describe('[exhaustive] symmetry: renaming servers commutes with every transition', () => {
  it('a random walk and its renamed twin reach renamed copies of the same states', () => {
    const { compared, kinds } = checkCommutes(raftMachine, 120);
    console.log(`renamed and compared ${compared} steps`);
    expect(compared).toBeGreaterThan(2000);
    // every kind of move was renamed and compared
    expect(kinds).toEqual(['checkQuorum', 'deliver', 'drop', 'duplicate', 'get', 'put',
      'register', 'replicate', 'restart', 'retry', 'snapshot', 'stale', 'timeout']);
  }, 120_000);

  it('catches a statechart in which one server id behaves differently', () => {
    // server 0001 never gets a vote: correct Raft, but not symmetric in the ids
    const machine = makeRaftMachine({ ...raftRules,
      voteFree: (s, candidate) => candidate !== '0001' && raftRules.voteFree(s, candidate) });
    expect(() => checkCommutes(machine, 120)).toThrow();
  }, 120_000);

  it('with symmetry on, renamed worlds have one key; different worlds keep different keys', () => {
    const model = new Model({ ...bounds, symmetry: true }, raftMachine);
    const plain = new Model(bounds, raftMachine);
    const w = model.initial();
    const timeouts = model.moves(w).filter((m) => m.kind === 'timeout')
      .map((m) => model.apply(w, m)?.world as World);
    expect(timeouts).toHaveLength(3);
    expect(new Set(timeouts.map((x) => model.key(x))).size).toBe(1);
    expect(new Set(timeouts.map((x) => plain.key(x))).size).toBe(3);
    const put = model.moves(w).find((m) => m.kind === 'put') as Move;
    expect(model.key(model.apply(w, put)?.world as World)).not.toBe(model.key(timeouts[0] as World));
  });
});
