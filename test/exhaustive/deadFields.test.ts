/**
 * The exhaustive checker identifies states without the fields a role never reads before it
 * overwrites them (`liveFields` in model.ts): a non-leader's per-peer records and read round, a
 * non-campaigner's vote count. That is sound only if those fields really are dead. This changes
 * them at random in reachable states of the real statechart, steps the changed world and the
 * original with the same moves, and requires the same identity, the same messages and the same
 * verdicts at every step after.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { NodeId } from '../../src/wire/messages.js';
import {
  makeRaftMachine, raftMachine, roleOf, type MachineSnapshot, type RaftMachine,
} from '../../src/core/raft.js';
import { raftRules } from '../../src/core/raftRules.js';
import { freshProgress, type RaftState } from '../../src/core/state.js';
import { Model, type Bounds, type Move, type World } from '../../src/exhaustive/model.js';
import { BOUNDS } from '../../src/exhaustive/main.js';
import { pickMove } from './walk.js';

const bounds: Bounds = { ...BOUNDS['default'] as Bounds, maxTerm: 4, maxLog: 4, clients: 3,
  keys: 2, maxInFlight: 6, crashes: 2, snapshots: true, symmetry: false };

/** `s` with its dead fields (for its role) set from `noise`. */
function scramble(model: Model, s: MachineSnapshot, noise: readonly number[]): MachineSnapshot {
  const c = s.context;
  const role = roleOf(s);
  const pick = (k: number): number => noise[k % noise.length] as number;
  let context: RaftState = c;
  if (role !== 'Leader') {
    const progress = new Map(c.config.peers.map((p, k) => [p, { ...freshProgress(1 + pick(k) % 5),
      match: pick(k + 1) % 4, active: pick(k + 2) % 2 === 0, ackedRound: pick(k + 3) % 3 }]));
    context = { ...context, progress, readRound: pick(7) % 4 };
  }
  if (role !== 'PreCandidate' && role !== 'Candidate') {
    context = { ...context,
      votesGranted: new Set(c.config.peers.filter((_, k) => pick(k + 5) % 2 === 0) as NodeId[]) };
  }
  return model.machine.resolveState({ value: s.value, context } as
    Parameters<typeof model.machine.resolveState>[0]);
}

/** Scramble dead fields of reachable states and step both copies; throws where they part. */
function checkDead(machine: RaftMachine, runs: number): number {
  const model = new Model(bounds, machine);
  let compared = 0;
  fc.assert(fc.property(
    fc.array(fc.nat(), { minLength: 5, maxLength: 80 }),
    fc.array(fc.nat({ max: 1000 }), { minLength: 8, maxLength: 8 }),
    fc.nat({ max: 2 }), fc.array(fc.nat(), { minLength: 10, maxLength: 60 }),
    (prefix, noise, server, after) => {
      let w = model.initial();
      for (const c of prefix) {
        const moves = model.moves(w);
        const out = model.apply(w, pickMove(moves, c) as Move);
        if (out?.world === undefined || out.violation !== undefined) break;
        w = out.world;
      }
      const servers = w.servers.slice();
      servers[server] = scramble(model, w.servers[server] as MachineSnapshot, noise);
      let twin: World = { ...w, servers };
      expect(model.key(twin)).toBe(model.key(w));
      for (const c of after) {
        const moves = model.moves(w);
        expect(model.moves(twin)).toEqual(moves);
        const m = pickMove(moves, c) as Move;
        const a = model.apply(w, m);
        const b = model.apply(twin, m);
        expect(b === undefined).toBe(a === undefined);
        if (a === undefined || b === undefined) continue;
        expect(b.violation).toEqual(a.violation);
        if (a.world === undefined || b.world === undefined) break;
        expect([...b.world.bag.keys()].sort()).toEqual([...a.world.bag.keys()].sort());
        expect(model.key(b.world)).toBe(model.key(a.world));
        w = a.world;
        twin = b.world;
        compared++;
      }
    }), { numRuns: runs, seed: 7 });
  return compared;
}

describe('[exhaustive] dead fields: what the state identity leaves out is never read', () => {
  it('a world with scrambled dead fields steps exactly as the original', () => {
    expect(checkDead(raftMachine, 200)).toBeGreaterThan(2000);
  }, 120_000);

  it('catches a statechart whose followers read a leader\'s read round', () => {
    // a follower refuses appends while the read round it kept from its own leadership is high
    const machine = makeRaftMachine({ ...raftRules, staleAppend: (s, m, role) =>
      raftRules.staleAppend(s, m, role) || (role !== 'Leader' && s.readRound > 2) });
    expect(() => checkDead(machine, 300)).toThrow();
  }, 120_000);
});
