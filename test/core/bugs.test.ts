/**
 * The bug catalog (`src/mutants/catalog.ts`): each mutant, run against the one situation its
 * decision decides, next to the correct rules (`bugs: []`) in the same situation. A checker is only as good as the
 * broken replicas it catches; these tests pin down that each flag breaks what its name says.
 */
import { initialTransition, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import type {
  AppendEntriesRequest, InstallSnapshotRequest, AppendEntriesResponse, ClientRequest, Entry, NodeId, RequestVoteRequest,
  RequestVoteResponse,
} from '../../src/wire/messages.js';
import { chainOf, size } from '../../src/core/chain.js';
import { applyUpTo, emptyKv, kvGet } from '../../src/core/kv.js';
import { emptyLog, lastLogIndex, logOf as logFrom, type RaftLog } from '../../src/core/log.js';
import { effectsOf } from '../../src/core/raft.js';
import { stepDownThen } from '../../src/core/machine.js';
import { applyCommitted, clientRequest } from '../../src/core/rules/client.js';
import { handleInstallSnapshotRequest } from '../../src/core/rules/snapshot.js';
import { handleRequestVoteRequest, winElection } from '../../src/core/rules/election.js';
import {
  handleAppendEntriesRequest, handleAppendEntriesResponse,
} from '../../src/core/rules/replication.js';
import {
  defaultConfig, initialState, type Effect, type Pending, type RaftState,
} from '../../src/core/state.js';
import { machineWith, rulesWith, type Bug } from '../../src/mutants/catalog.js';
import { freshProgress } from '../../src/core/state.js';

const ME = '0000' as NodeId;
const A = '0001' as NodeId;
const B = '0002' as NodeId;
const C = '00C0' as NodeId;
const putOf = (client: NodeId) => ({ kind: 'put' as const, client, session: 0, seq: 1, key: 'k',
  value: 'v' });

const put = (term: number, value = 'v'): Entry =>
  ({ term, cmd: { kind: 'put', client: C, session: 0, seq: 0, key: 'k', value } }) as Entry;
const logOf = (...terms: number[]): RaftLog => logFrom(terms.map((t) => put(t)));

/** A fresh server, then `patch` (a role, term, log, ...) laid over it. */
function server(patch: Partial<RaftState> = {}): RaftState {
  return { ...initialState(defaultConfig, 1), ...patch };
}

/** The leader of `term` over `log`, everything committed and applied, no peer acknowledged. */
function leader(term: number, log: RaftLog, pending: Pending[] = []): RaftState {
  return server({
    currentTerm: term, votedFor: ME, leaderId: ME, log,
    progress: new Map([[A, freshProgress(lastLogIndex(log) + 1)],
      [B, freshProgress(lastLogIndex(log) + 1)]]), pending: chainOf(pending),
  });
}

function appendEntries(term: number, prevLogIndex: number, prevLogTerm: number,
  entries: Entry[], leaderCommit: number): AppendEntriesRequest {
  return { type: 'AppendEntriesRequest', src: A, dst: ME, leader: A, term, prevLogIndex,
    prevLogTerm, entries, leaderCommit } as AppendEntriesRequest;
}

function appendAck(term: number, matchIndex: number): AppendEntriesResponse {
  return { type: 'AppendEntriesResponse', src: A, dst: ME, leader: ME, term, success: true,
    matchIndex, rejectHint: 0 } as AppendEntriesResponse;
}

function client(type: 'get' | 'put', mid: string): ClientRequest {
  return (type === 'get'
    ? { type, src: C, dst: ME, leader: ME, MID: mid, key: 'k' }
    : { type, src: C, dst: ME, leader: ME, MID: mid, key: 'k', value: 'new' }) as ClientRequest;
}

/** The answers in `out`, as `type MID` (and `=value` for a value). */
function replies(out: readonly Effect[]): string[] {
  return out.flatMap((e) => (e.type === 'reply'
    ? [`${e.message.type} ${e.message.MID}${'value' in e.message ? `=${e.message.value}` : ''}`]
    : []));
}

function appendResponse(out: readonly Effect[]): AppendEntriesResponse | undefined {
  for (const e of out) {
    if (e.type === 'send' && e.message.type === 'AppendEntriesResponse') return e.message;
  }
  return undefined;
}

interface Case {
  readonly bug: Bug;
  readonly title: string;
  /** What the rule did in its situation, on a server with these bugs. */
  readonly run: (bugs: readonly Bug[]) => unknown;
  readonly correct: unknown;
  readonly broken: unknown;
}

const cases: Case[] = [
  {
    bug: 'skipPrevLogTermCheck',
    title: 'skipPrevLogTermCheck appends after a prevLogIndex whose term differs [Fig2:AE#2]',
    run: (bugs) => {
      const out: Effect[] = [];
      const s = server({ currentTerm: 2, log: logOf(1, 1) });
      const next = handleAppendEntriesRequest(s, appendEntries(2, 2, 2, [put(2)], 0), out, rulesWith(bugs),
        'Follower');
      return { success: appendResponse(out)?.success, log: lastLogIndex(next.log) };
    },
    correct: { success: false, log: 2 },
    broken: { success: true, log: 3 },
  },
  {
    bug: 'voteTwiceInTerm',
    title: 'voteTwiceInTerm grants a second vote in one term [Fig2:RV#2]',
    run: (bugs) => {
      const out: Effect[] = [];
      const s = server({ currentTerm: 2, votedFor: A });
      const m = { type: 'RequestVoteRequest', src: B, dst: ME, leader: B, term: 2,
        lastLogIndex: 0, lastLogTerm: 0 } as RequestVoteRequest;
      const next = handleRequestVoteRequest(s, m, out, rulesWith(bugs), 'Follower');
      const sent = out[0]?.type === 'send' ? out[0].message : undefined;
      return { voteGranted: sent?.type === 'RequestVoteResponse' && sent.voteGranted,
        votedFor: next.votedFor };
    },
    correct: { voteGranted: false, votedFor: A },
    broken: { voteGranted: true, votedFor: B },
  },
  {
    bug: 'acceptStaleTermAppend',
    title: 'acceptStaleTermAppend merges and acknowledges a request of an older term [Fig2:AE#1]',
    run: (bugs) => {
      const out: Effect[] = [];
      const s = server({ currentTerm: 3, log: logOf(1) });
      const next = handleAppendEntriesRequest(s, appendEntries(2, 1, 1, [put(2)], 0), out, rulesWith(bugs),
        'Follower');
      const r = appendResponse(out);
      return { success: r?.success, responseTerm: r?.term, currentTerm: next.currentTerm,
        leaderId: next.leaderId, log: lastLogIndex(next.log) };
    },
    correct: { success: false, responseTerm: 3, currentTerm: 3, leaderId: null,
      log: 1 },
    broken: { success: true, responseTerm: 3, currentTerm: 3, leaderId: A,
      log: 2 },
  },
  {
    bug: 'commitBeyondNewEntries',
    title: 'commitBeyondNewEntries commits entries past the last one checked [Fig2:AE#5]',
    run: (bugs) => {
      const s = server({ currentTerm: 2, log: logOf(1, 1, 1) });
      // a heartbeat that checks index 1 only; entries 2 and 3 may not be the leader's
      return handleAppendEntriesRequest(s, appendEntries(2, 1, 1, [], 3), [], rulesWith(bugs),
        'Follower').commitIndex;
    },
    correct: 1,
    broken: 3,
  },
  {
    bug: 'truncateOnEveryAppend',
    title: 'truncateOnEveryAppend lets a stale request delete matching entries [Fig2:AE#3]',
    run: (bugs) => {
      const out: Effect[] = [];
      const s = server({ currentTerm: 1, leaderId: A, log: logOf(1, 1, 1) });
      // the leader's first request, delayed past the two that followed it
      const next = handleAppendEntriesRequest(s, appendEntries(1, 0, 0, [put(1)], 0), out, rulesWith(bugs),
        'Follower');
      return { matchIndex: appendResponse(out)?.matchIndex, log: lastLogIndex(next.log) };
    },
    correct: { matchIndex: 1, log: 3 },
    broken: { matchIndex: 1, log: 1 },
  },
  {
    bug: 'noNoopOnElection',
    title: 'noNoopOnElection takes office without appending a no-op [§8]',
    run: (bugs) => {
      const s = server({ currentTerm: 2, votedFor: ME,
        votesGranted: new Set([ME]), log: logOf(1) });
      const m = { type: 'RequestVoteResponse', src: A, dst: ME, leader: ME, term: 2,
        voteGranted: true } as RequestVoteResponse;
      // the statechart's `hasVoteQuorum` decided: this vote wins (`winElection`)
      const next = winElection(s, m, [], rulesWith(bugs));
      return { log: lastLogIndex(next.log) };
    },
    correct: { log: 2 },
    broken: { log: 1 },
  },
  {
    bug: 'localReadWithoutQuorum',
    title: 'localReadWithoutQuorum answers a get from local state, without a read round [§6.4]',
    run: (bugs) => {
      const out: Effect[] = [];
      const log = logOf(1);
      const s = { ...leader(1, log), commitIndex: 1, kv: applyUpTo(emptyKv(), log, 1) };
      const next = clientRequest(s, client('get', 'g1'), out, rulesWith(bugs), 'Leader');
      return { replies: replies(out), log: lastLogIndex(next.log), reads: next.reads.length };
    },
    // a get is never logged [§6.4]: it waits for a quorum to acknowledge the next round
    correct: { replies: [], log: 1, reads: 1 },
    broken: { replies: ['ok g1=v'], log: 1, reads: 0 },
  },
  {
    bug: 'ackBeforeCommit',
    title: 'ackBeforeCommit answers a put when appended, and only then [§5.3 §8]',
    run: (bugs) => {
      const appendOut: Effect[] = [];
      const appended = clientRequest(leader(1, emptyLog()), client('put', 'p1'), appendOut,
        rulesWith(bugs), 'Leader');
      const commitOut: Effect[] = [];
      applyCommitted(appended, 1, commitOut, rulesWith(bugs));
      return { atAppend: replies(appendOut), atCommit: replies(commitOut) };
    },
    correct: { atAppend: [], atCommit: ['ok p1'] },
    broken: { atAppend: ['ok p1'], atCommit: [] },
  },
  {
    bug: 'applyBeforeCommit',
    title: 'applyBeforeCommit applies and answers an entry before it commits [Fig2:AllServers#1]',
    run: (bugs) => {
      const appendOut: Effect[] = [];
      const appended = clientRequest(leader(1, emptyLog()), client('put', 'p1'), appendOut,
        rulesWith(bugs), 'Leader');
      const commitOut: Effect[] = [];
      const committed = applyCommitted(appended, 1, commitOut, rulesWith(bugs));
      return { atAppend: replies(appendOut), applied: appended.kv.appliedIndex,
        value: kvGet(appended.kv, appended.log, 'k'), commitIndex: appended.commitIndex,
        atCommit: replies(commitOut), committed: committed.commitIndex };
    },
    correct: { atAppend: [], applied: 0, value: null, commitIndex: 0, atCommit: ['ok p1'],
      committed: 1 },
    broken: { atAppend: ['ok p1'], applied: 1, value: 'new', commitIndex: 0, atCommit: [],
      committed: 1 },
  },
  {
    bug: 'redirectPendingOnStepDown',
    title: 'redirectPendingOnStepDown redirects pending requests when deposed [§8]',
    run: (bugs) => {
      const out: Effect[] = [];
      const s = leader(1, logOf(1), [{ index: 1, term: 1, cmd: putOf(C), mid: 'p1' }]);
      // a newer term: the statechart steps down first (`isNewerTerm`, `stepDownThen`)
      const next = stepDownThen(handleAppendEntriesResponse)(s,
        { ...appendAck(2, 0), success: false }, out, rulesWith(bugs), 'Leader');
      return { replies: replies(out), pending: size(next.pending) };
    },
    correct: { replies: [], pending: 1 },
    broken: { replies: ['redirect p1'], pending: 0 },
  },
  {
    bug: 'answerTwice',
    title: 'answerTwice answers one MID twice [§8]',
    run: (bugs) => {
      const out: Effect[] = [];
      const s = leader(1, logOf(1), [{ index: 1, term: 1, cmd: putOf(C), mid: 'p1' }]);
      const next = handleAppendEntriesResponse(s, appendAck(1, 1), out, rulesWith(bugs), 'Leader');
      return { commitIndex: next.commitIndex, replies: replies(out) };
    },
    correct: { commitIndex: 1, replies: ['ok p1'] },
    broken: { commitIndex: 1, replies: ['ok p1', 'ok p1'] },
  },
  {
    bug: 'forgetVotedForOnRestart',
    title: 'forgetVotedForOnRestart restarts without the vote it persisted [Fig2:State]',
    run: (bugs) => {
      const s = rulesWith(bugs).recover(defaultConfig, 1,
        { currentTerm: 2, votedFor: A, log: logOf(1) });
      return { currentTerm: s.currentTerm, votedFor: s.votedFor, log: lastLogIndex(s.log) };
    },
    correct: { currentTerm: 2, votedFor: A, log: 1 },
    broken: { currentTerm: 2, votedFor: null, log: 1 },
  },
  {
    bug: 'persistAfterSend',
    title: 'persistAfterSend emits the vote before persisting it [Fig2; etcd Ready]',
    run: (bugs) => {
      const machine = machineWith(bugs);
      const [snap] = initialTransition(machine, { seed: 1 });
      const [, actions] = transition(machine, snap, { type: 'RequestVoteRequest', src: A,
        dst: ME, leader: A, term: 1, lastLogIndex: 0, lastLogTerm: 0 } as RequestVoteRequest);
      return effectsOf(actions).map((e) => e.type);
    },
    correct: ['persist', 'send'],
    broken: ['send', 'persist'],
  },
  {
    bug: 'installSnapshotKeepsStateMachine',
    title: 'installSnapshotKeepsStateMachine installs a snapshot but keeps the old state ' +
      '[§7 Fig13#8]',
    run: (bugs) => {
      const out: Effect[] = [];
      const s = server({ currentTerm: 2 });
      const next = handleInstallSnapshotRequest(s, { type: 'InstallSnapshotRequest', src: A,
        dst: ME, leader: A, term: 2, lastIncludedIndex: 5, lastIncludedTerm: 2,
        kv: [['k', 'v5']], sessions: [], terms: [], readRound: 0 } as unknown as InstallSnapshotRequest, out, rulesWith(bugs));
      return { commitIndex: next.commitIndex, applied: next.kv.appliedIndex,
        k: kvGet(next.kv, next.log, 'k') };
    },
    correct: { commitIndex: 5, applied: 5, k: 'v5' },
    broken: { commitIndex: 5, applied: 5, k: null },
  },
];

/** Where each flag is shown to break its rule; tsc makes a new member of `Bug` show up here. */
const shownIn: Record<Bug, 'cases' | 'test/explorer/explorer.test.ts'> = {
  voteWithoutUpToDateCheck: 'test/explorer/explorer.test.ts',
  commitEarlierTermByCount: 'test/explorer/explorer.test.ts',
  skipPrevLogTermCheck: 'cases',
  voteTwiceInTerm: 'cases',
  acceptStaleTermAppend: 'cases',
  commitBeyondNewEntries: 'cases',
  truncateOnEveryAppend: 'cases',
  noNoopOnElection: 'cases',
  localReadWithoutQuorum: 'cases',
  ackBeforeCommit: 'cases',
  applyBeforeCommit: 'cases',
  redirectPendingOnStepDown: 'cases',
  answerTwice: 'cases',
  forgetVotedForOnRestart: 'cases',
  persistAfterSend: 'cases',
  installSnapshotKeepsStateMachine: 'cases',
};

describe('bug catalog: each flag breaks exactly its rule', () => {
  it('has one case for every flag not shown elsewhere', () => {
    const expected = Object.entries(shownIn).filter(([, where]) => where === 'cases')
      .map(([bug]) => bug);
    expect(cases.map((c) => c.bug)).toEqual(expected);
  });

  it.each(cases)('$title', ({ bug, run, correct, broken }) => {
    expect(run([]), 'bugs: []').toEqual(correct);
    expect(run([bug]), `bugs: [${bug}]`).toEqual(broken);
  });

  it('with bugs: [] none of the differences appear', () => {
    for (const c of cases) expect(c.run([]), c.bug).toEqual(c.correct);
  });

  /**
   * Where a flag also changes another flag's situation. All of them answer a client request: the
   * early answer of one bug is the one the other observes, or answering twice doubles it.
   */
  const overlaps = [
    'ackBeforeCommit changes applyBeforeCommit', // the put is answered at append
    'applyBeforeCommit changes ackBeforeCommit', // the put is answered at append
    'answerTwice changes ackBeforeCommit', // the ok at commit is sent twice
    'answerTwice changes applyBeforeCommit', // the ok at commit is sent twice
  ];

  it('no flag changes the situation of another, except the declared overlaps', () => {
    const changed: string[] = [];
    for (const x of cases) {
      for (const y of cases) {
        const same = JSON.stringify(y.run([x.bug])) === JSON.stringify(y.correct);
        if (x !== y && !same) changed.push(`${x.bug} changes ${y.bug}`);
      }
    }
    expect(changed).toEqual(overlaps);
  });

  it('acceptStaleTermAppend: a stale leader steps down on its success [Fig2:AllServers#2]', () => {
    const machine = machineWith(['acceptStaleTermAppend']);
    const snap = machine.resolveState({ value: 'leader', context: leader(2, logOf(1, 2)) });
    const [next] = transition(machine, snap, appendAck(3, 2));
    expect([next.value, next.context.currentTerm,
      next.context.progress.get(A)?.match]).toEqual(['follower', 3, 0]);
  });
});
