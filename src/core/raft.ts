/**
 * The replica statechart: `raftMachine`, with its roles, built from the rules a replica runs
 * (`raftRules`). `makeRaftMachine` builds the same statechart over another rules record: only
 * test and tool code (the bug catalog, `src/mutants/`) passes one.
 */
import { createActor, initialTransition, type InputFrom, type SnapshotFrom } from 'xstate';
import { raftSetupFor, type RaftEvent } from './machine.js';
import { raftRules } from './raftRules.js';
import type { RaftRules } from './ruleSet.js';
import { candidate, follower, leader, preCandidate } from './roles.js';
import { defaultConfig, type Effect, type Role } from './state.js';

export function makeRaftMachine(rules: RaftRules) {
  return raftSetupFor(rules).createMachine({
    id: 'raft',
    context: ({ input }) =>
      rules.recover({ ...defaultConfig, ...input?.config }, input?.seed ?? 1, input?.persisted),
    initial: 'follower',
    on: {
      Restart: { target: '.follower', reenter: true, actions: 'restart' },
    },
    states: { follower, preCandidate, candidate, leader },
  });
}

export const raftMachine = makeRaftMachine(raftRules);

export type RaftMachine = typeof raftMachine;

const ROLES: Readonly<Record<string, Role>> = { follower: 'Follower', preCandidate: 'PreCandidate',
  candidate: 'Candidate', leader: 'Leader' };

/** The role a snapshot of the statechart is in: its state, the role's only owner. */
export function roleOf(snapshot: { readonly value: unknown }): Role {
  const role = ROLES[snapshot.value as string];
  if (role === undefined) throw new Error(`not a role: ${String(snapshot.value)}`);
  return role;
}

/** The effects a pure `transition()` returned, in order: its emitted events. */
export function effectsOf(actions: readonly { readonly type: string; readonly params?: unknown }[]):
  Effect[] {
  const effects: Effect[] = [];
  for (const a of actions) {
    if (a.type === 'xstate.emit') effects.push((a.params as { event: Effect }).event);
  }
  return effects;
}

/** The statechart's own snapshot (XState), not a Raft snapshot of the state machine. */
export type MachineSnapshot = SnapshotFrom<RaftMachine>;

/** One step of a pure transition: the next snapshot and the effects it emitted, in order. */
export type PureStep = (snapshot: MachineSnapshot, event: RaftEvent) =>
  readonly [MachineSnapshot, Effect[]];

/**
 * XState's pure `transition(machine, snapshot, event)` at a quarter of its cost: `transition`
 * builds an actor, and so a whole initial context, on every call. This builds one inert actor
 * scope per machine, as `transition` does, and calls the machine's own `transition` with it; the
 * result is the same snapshot and the same emitted effects. For drivers that step a machine
 * without an actor: the explorer, the exhaustive checker, the conformance suites.
 */
export function pureStep(machine: RaftMachine): PureStep {
  let emitted: Effect[] = [];
  const self = createActor(machine, { input: undefined });
  const scope = {
    self, id: '', sessionId: '', system: self.system,
    defer: (): void => {}, logger: (): void => {}, stopChild: (): void => {}, emit: (): void => {},
    actionExecutor: (a: { readonly type: string; readonly params?: unknown }): void => {
      if (a.type === 'xstate.emit') emitted.push((a.params as { event: Effect }).event);
    },
  };
  return (snapshot, event) => {
    emitted = [];
    const next = machine.transition(snapshot, event,
      scope as unknown as Parameters<RaftMachine['transition']>[2]);
    return [next, emitted];
  };
}

/**
 * The machine's initial snapshot for `input`, and the effects its entry emitted: the start of a
 * pure run that `pureStep` continues.
 */
export function pureInitial(machine: RaftMachine, input: InputFrom<RaftMachine>):
  readonly [MachineSnapshot, Effect[]] {
  const [snapshot, actions] = initialTransition(machine, input);
  return [snapshot, effectsOf(actions)];
}
