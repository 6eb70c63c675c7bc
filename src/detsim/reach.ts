/**
 * Rare paths of the core, seen from a replica's steps: the ones a run of the soak's mix seldom
 * takes, and where a wrong answer hides when no run takes them. The mutation checks run a corpus
 * of seeds chosen because they reach these paths (`npm run reach` finds them;
 * `test/mutate/reach.json` keeps them), so that what the search reaches is chosen by coverage,
 * not by luck of the first seeds.
 */
import { size, toArray } from '../core/chain.js';
import { lastLogIndex, snapshotIndex, termAt } from '../core/log.js';
import type { RaftState } from '../core/state.js';
import type { LoopStep } from '../replica/loop.js';
import { holdersOf, majorityOf } from '../check/stepRules.js';

export const RARE_PATHS = ['snapshotSettles', 'snapshotSettlesSession', 'lostAtCommit',
  'earlierTermQuorum', 'prevTermConflict'] as const;
export type RarePath = (typeof RARE_PATHS)[number];

/**
 * The rare paths one step took:
 * - `snapshotSettles`: a server installs a snapshot that covers requests it holds pending as a
 *   deposed leader [§7, `snapshot.ts` settlePending];
 * - `snapshotSettlesSession`: the same for a write in a session [§6.3] (direct mode's clients);
 * - `lostAtCommit`: a commit shows pending requests of an older term can never commit, and they
 *   are redirected [§5.4, `client.ts` redirectLost];
 * - `earlierTermQuorum`: a leader's quorum holds an entry of an earlier term above its commit
 *   index, which it must not commit by counting (Figure 8, [Fig2:Leaders#4]);
 * - `prevTermConflict`: an AppendEntriesRequest of a current leader finds an entry of another term
 *   at its prevLogIndex: the two logs diverged there ([Fig2:AE#2], the consistency check).
 *
 * Not here: a leader appending at an index below a request it still holds pending from an earlier
 * leadership (`client.ts` addPending's reordering); no seed of 1..10,000 takes it.
 */
export function pathsOf(step: LoopStep): RarePath[] {
  const { event, before, after } = step;
  const out: RarePath[] = [];
  const pending = size(before.pending) > 0 ? toArray(before.pending) : [];
  if (event.type === 'InstallSnapshotRequest' && pending.some((p) =>
    p.index <= event.lastIncludedIndex) && after.log.snapshot.index === event.lastIncludedIndex) {
    out.push('snapshotSettles');
    if (pending.some((p) => p.index <= event.lastIncludedIndex && p.cmd.kind !== 'register'
      && p.cmd.session > 0)) {
      out.push('snapshotSettlesSession');
    }
  }
  if (after.commitIndex > before.commitIndex) {
    const committedTerm = termAt(after.log, after.commitIndex);
    if (pending.some((p) => p.index > after.commitIndex && p.term < committedTerm)) {
      out.push('lostAtCommit');
    }
  }
  if (step.role === 'Leader' && earlierTermQuorum(after)) out.push('earlierTermQuorum');
  if (event.type === 'AppendEntriesRequest' && event.term >= before.currentTerm
    && event.prevLogIndex > snapshotIndex(before.log)
    && event.prevLogIndex <= lastLogIndex(before.log)
    && termAt(before.log, event.prevLogIndex) !== event.prevLogTerm) {
    out.push('prevTermConflict');
  }
  return out;
}

/** Some index above the commit index, of an earlier term, is held by a quorum (with the leader). */
function earlierTermQuorum(s: RaftState): boolean {
  for (let n = s.commitIndex + 1; n <= lastLogIndex(s.log); n++) {
    if (termAt(s.log, n) >= s.currentTerm) return false;
    if (holdersOf(s, n) >= majorityOf(s)) return true;
  }
  return false;
}
