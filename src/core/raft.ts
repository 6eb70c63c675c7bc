/** The replica statechart: `raftMachine`, with its roles, built from `raftSetup`. */
import { raftSetup } from './machine.js';
import { candidate, follower, leader, preCandidate } from './roles.js';
import { defaultConfig, initialState, type Effect } from './state.js';

export const raftMachine = raftSetup.createMachine({
  id: 'raft',
  context: ({ input }) =>
    initialState({ ...defaultConfig, ...input?.config }, input?.seed ?? 1, input?.persisted),
  initial: 'follower',
  on: {
    Restart: { target: '.follower', reenter: true, actions: 'restart' },
  },
  states: { follower, preCandidate, candidate, leader },
});

export type RaftMachine = typeof raftMachine;

/** The effects a pure `transition()` returned, in order: its emitted events. */
export function effectsOf(actions: readonly { readonly type: string; readonly params?: unknown }[]):
  Effect[] {
  const effects: Effect[] = [];
  for (const a of actions) {
    if (a.type === 'xstate.emit') effects.push((a.params as { event: Effect }).event);
  }
  return effects;
}
