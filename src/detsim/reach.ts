/**
 * Rare paths of the core, seen from a replica's steps: the ones a run of the soak's mix seldom
 * takes, and where a wrong answer hides when no run takes them. The mutation checks run a corpus
 * of seeds chosen because they reach these paths (`npm run reach` finds them;
 * `test/mutate/reach.json` keeps them), so that what the search reaches is chosen by coverage,
 * not by luck of the first seeds.
 */
import { size, toArray } from '../core/chain.js';
import { termAt } from '../core/log.js';
import type { LoopStep } from '../replica/loop.js';

export const RARE_PATHS = ['snapshotSettles', 'snapshotSettlesSession', 'lostAtCommit'] as const;
export type RarePath = (typeof RARE_PATHS)[number];

/**
 * The rare paths one step took:
 * - `snapshotSettles`: a server installs a snapshot that covers requests it holds pending as a
 *   deposed leader [§7, `snapshot.ts` settlePending];
 * - `snapshotSettlesSession`: the same for a write in a session [§6.3] (direct mode's clients);
 * - `lostAtCommit`: a commit shows pending requests of an older term can never commit, and they
 *   are redirected [§5.4, `client.ts` redirectLost].
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
  return out;
}
