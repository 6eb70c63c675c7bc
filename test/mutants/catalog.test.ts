/**
 * The bug catalog: every mutant of the rules (`Bug` in src/mutants/catalog.ts) must be
 * caught within a bounded number of seeds, by the deterministic simulation (seeds of the CI/soak
 * mix) or by the explorer (spec actions in random or steered order). Each test prints the checker
 * that caught its bug and how many seeds it took. A bug that nothing catches is a gap in the
 * checkers to close, never a row to delete: the record type makes the table complete.
 */
import { describe, expect, it } from 'vitest';
import { BUGS, type Bug } from '../../src/mutants/catalog.js';
import { randomProfile, search, steeredProfile } from '../../src/explorer/explorer.js';
import { mixRun, shippedScenarios } from '../../src/detsim/mix.js';
import { simulate, type SimResult } from '../../src/detsim/simulation.js';

type Hunter = 'simulation' | 'explorer (random)' | 'explorer (steered)';

interface Row {
  readonly hunter: Hunter;
  /** Seeds 1..seeds are tried; the first failing one counts. */
  readonly seeds: number;
  /** The checker that must be the one to catch it: a bug caught for another reason is not. */
  readonly checker: string;
  /** Where the bug is known from. */
  readonly known: string;
}

const GUIDE = 'MIT 6.824 Students\' Guide to Raft';

const CATALOG: Record<Bug, Row> = {
  voteWithoutUpToDateCheck: { hunter: 'simulation', seeds: 60, checker: 'leaderCompleteness',
    known: 'Raft §5.4.1 election restriction; ' + GUIDE },
  commitEarlierTermByCount: { hunter: 'explorer (steered)', seeds: 20,
    checker: 'leaderCommit',
    known: 'Raft paper Figure 8' },
  skipPrevLogTermCheck: { hunter: 'explorer (steered)', seeds: 20, checker: 'logMatching',
    known: `${GUIDE}: the consistency check compares prevLogTerm` },
  voteTwiceInTerm: { hunter: 'explorer (steered)', seeds: 20, checker: 'voteOnce',
    known: 'Raft Figure 2 RequestVote' },
  acceptStaleTermAppend: { hunter: 'explorer (random)', seeds: 40, checker: 'appendEntriesTerm',
    known: `${GUIDE}: reject AppendEntries from an older term` },
  commitBeyondNewEntries: { hunter: 'simulation', seeds: 1000, checker: 'commitWithinNewEntries',
    known: `${GUIDE}: min(leaderCommit, index of last NEW entry)` },
  truncateOnEveryAppend: { hunter: 'simulation', seeds: 20, checker: 'committedDurable',
    known: `${GUIDE}: truncate only on a conflict (reordered requests)` },
  noNoopOnElection: { hunter: 'simulation', seeds: 20, checker: 'convergence',
    known: 'Raft §8 no-op at the start of a term' },
  localReadWithoutQuorum: { hunter: 'simulation', seeds: 20, checker: 'readAnswer',
    known: 'Jepsen etcd and Consul (2014): stale reads from deposed leaders' },
  // a register answered before it is applied has no session to name: direct mode's clients see it
  ackBeforeCommit: { hunter: 'simulation', seeds: 150, checker: 'protocol',
    known: 'lost acknowledged writes' },
  applyBeforeCommit: { hunter: 'simulation', seeds: 60, checker: 'appliedWithinCommit',
    known: 'Raft Figure 2 lastApplied' },
  redirectPendingOnStepDown: { hunter: 'simulation', seeds: 60, checker: 'appliedOnce',
    known: 'Raft §8: a retried command applied twice' },
  answerTwice: { hunter: 'simulation', seeds: 20, checker: 'mid-answers',
    known: 'replica-udp.md: one answer per MID' },
  forgetVotedForOnRestart: { hunter: 'explorer (random)', seeds: 40, checker: 'voteOnce',
    known: 'Raft Figure 2: votedFor is persistent state' },
  persistAfterSend: { hunter: 'simulation', seeds: 20, checker: 'committedDurable',
    known: 'etcd raft Ready: save HardState before sending messages' },
  installSnapshotKeepsStateMachine: { hunter: 'simulation', seeds: 20, checker: 'snapshotSafety',
    known: 'Raft Figure 13 InstallSnapshot #8: reset the state machine from the snapshot' },
};

/** The checker named by a failed simulation. */
function checkerOf(r: SimResult): string {
  if (r.violation !== undefined) return r.violation.invariant;
  const first = r.failures[0] ?? '';
  if (first.startsWith('history check failed')) return 'linearizable';
  if (/duplicate answers/.test(first)) return 'mid-answers';
  if (/incorrect answers/.test(first)) return 'linearizable (incorrect read)';
  if (/^\d+ protocol errors?/.test(first)) return 'protocol';
  return first.split(/[: ]/)[0] ?? first;
}

function hunt(bug: Bug, row: Row): { seed: number; checker: string } | undefined {
  if (row.hunter === 'simulation') {
    const shipped = shippedScenarios();
    for (let seed = 1; seed <= row.seeds; seed++) {
      const r = simulate({ ...mixRun(seed, shipped), bugs: [bug] });
      if (r.failures.length > 0) return { seed, checker: checkerOf(r) };
    }
    return undefined;
  }
  const profile = row.hunter === 'explorer (random)' ? randomProfile : steeredProfile;
  const r = search({ ...profile, bugs: [bug] }, 1, row.seeds);
  const v = r.found?.violation;
  return v === undefined ? undefined : { seed: r.seeds, checker: v.invariant };
}

describe('[catalog] every known Raft bug is caught within a bounded number of seeds', () => {
  it('lists at least 12 bugs, every flag of the core', () => {
    expect(Object.keys(CATALOG).sort()).toEqual([...BUGS].sort());
    expect(BUGS.length).toBeGreaterThanOrEqual(12);
  });

  for (const bug of BUGS) {
    const row = CATALOG[bug];
    it(`${bug} (${row.known}) is caught by the ${row.hunter} within ${row.seeds} seeds`, () => {
      const t0 = performance.now();
      const found = hunt(bug, row);
      const ms = Math.round(performance.now() - t0);
      console.log(`[catalog] ${bug}: ${found === undefined ? 'NOT CAUGHT'
        : `caught by ${found.checker} (${row.hunter}) at seed ${found.seed}`} in ${ms} ms`);
      expect(found, `${bug} escaped ${row.seeds} seeds of the ${row.hunter}`).toBeDefined();
      expect(found?.checker).toBe(row.checker);
    }, 300_000);
  }
});
