/**
 * [D§4] Configuration changes: single-server changes with the published fix (docs/
 * reconfiguration.md). `spec/raft.qnt`: `changeConfig`, `changeAllowed`, `validChange`,
 * `stepDownIfRemoved`. A change is a log entry that takes effect when appended (`RaftLog.config`);
 * who counts in each quorum is `membership` (state.ts).
 */
import type {
  AppendEntriesResponse, ConfigCmd, Configuration, NodeId,
} from '../../wire/messages.js';
import { appendEntry } from '../log.js';
import type { RaftRules } from '../ruleSet.js';
import { isVoter, membership, type RaftState } from '../state.js';
import { acknowledged } from './replication.js';
import { asTerm } from './common.js';

/** A change of the configuration: `id` added as a learner, promoted, or removed. */
export interface ConfigChange {
  readonly change: ConfigCmd['change'];
  readonly id: NodeId;
}

/** The members that must remain voters: one voter alone is not supported (`validChange`). */
export const MIN_VOTERS = 2;

/**
 * [D§4.1] The configuration after `c`, if `c` is a single-server change that applies to `m`: a
 * server in neither set added as a learner, a learner promoted, a member removed as long as
 * `MIN_VOTERS` voters remain. Undefined otherwise. Sets stay sorted.
 */
export function changedConfiguration(m: Configuration, c: ConfigChange):
  Configuration | undefined {
  const member = m.voters.includes(c.id) || m.learners.includes(c.id);
  switch (c.change) {
    case 'addLearner':
      return member ? undefined : { voters: m.voters, learners: [...m.learners, c.id].sort() };
    case 'promote':
      return !m.learners.includes(c.id) ? undefined
        : { voters: [...m.voters, c.id].sort(), learners: m.learners.filter((x) => x !== c.id) };
    case 'remove': {
      const voters = m.voters.filter((x) => x !== c.id);
      return !member || voters.length < MIN_VOTERS ? undefined
        : { voters, learners: m.learners.filter((x) => x !== c.id) };
    }
  }
}

/**
 * [D§4.1 fix] A leader may append change `c` now: it has committed an entry of its own term, no
 * change in its log is uncommitted, and `c` applies to its configuration. (The guard
 * `canChangeConfig`; a leader's only.)
 */
export function changeAllowed(s: RaftState, c: ConfigChange, rules: RaftRules): boolean {
  return rules.mayChangeConfig(s) && changedConfiguration(membership(s), c) !== undefined;
}

/** [D§4.1] Append the change, with the configuration it leads to; it counts from now on. */
export function changeConfig(s: RaftState, c: ConfigChange): RaftState {
  const next = changedConfiguration(membership(s), c);
  if (next === undefined) return s;
  const cmd = { kind: 'config', change: c.change, id: c.id, voters: [...next.voters],
    learners: [...next.learners] } as ConfigCmd;
  return { ...s, log: appendEntry(s.log, { term: asTerm(s.currentTerm), cmd }) };
}

/**
 * [D§4.2.2] Would this response commit the leader's own removal (the guard `completesRemoval`)?
 * A leader that is no voter of its configuration leads until that change is committed, then
 * steps down in its term.
 */
export function completesRemoval(s: RaftState, m: AppendEntriesResponse, rules: RaftRules):
  boolean {
  if (isVoter(membership(s), s.config.id) || !m.success || m.term !== s.currentTerm) return false;
  return rules.quorumCommitIndex(acknowledged(s, m)) >= s.log.configIndex;
}
