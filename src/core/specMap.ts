/**
 * The one mapping between the spec and the statechart: for every action of `spec/raft.qnt`, the
 * events that trigger it, the guards that decide its change of role, and the machine actions that
 * implement it. A static test checks this table against Quint's parser output and the machine's
 * definition, in both directions; the trace replays use it to turn spec steps into events.
 */
export interface SpecActionMapping {
  /** The spec action's parameters, by name, as Quint's parser lists them. */
  readonly params: readonly string[];
  readonly events: readonly string[];
  readonly guards: readonly string[];
  readonly actions: readonly string[];
}

export const specMap: Readonly<Record<string, SpecActionMapping>> = {
  /** [D§4] Enabled for a voter of its own configuration only (`isVoter`). */
  electionTimeout: {
    params: ['s'], events: ['ElectionTimeout'],
    guards: ['electionTimeoutElapsed', 'isVoter'],
    actions: ['raiseElectionTimeout', 'electionTimeout'],
  },
  handlePreVoteRequest: {
    params: ['m'], events: ['PreVoteRequest'], guards: [], actions: ['handlePreVoteRequest'],
  },
  handlePreVoteResponse: {
    params: ['m'], events: ['PreVoteResponse'],
    guards: ['hasPreVoteQuorum', 'isPreVoteRejectionFromNewerTerm'],
    actions: ['handlePreVoteResponse', 'stepDownThenHandlePreVoteResponse', 'winPreVote'],
  },
  handleRequestVoteRequest: {
    params: ['m'], events: ['RequestVoteRequest'], guards: ['isNewerTerm'],
    actions: ['handleRequestVoteRequest', 'stepDownThenHandleRequestVoteRequest'],
  },
  handleRequestVoteResponse: {
    params: ['m'], events: ['RequestVoteResponse'], guards: ['hasVoteQuorum', 'isNewerTerm'],
    actions: ['handleRequestVoteResponse', 'stepDownThenHandleRequestVoteResponse',
      'winElection'],
  },
  handleAppendEntriesRequest: {
    params: ['m'], events: ['AppendEntriesRequest'], guards: ['isNewerTerm', 'isCurrentOrNewerTerm'],
    actions: ['handleAppendEntriesRequest', 'stepDownThenHandleAppendEntriesRequest'],
  },
  /** [D§4.2.2] `completesRemoval`: a leader's own removal commits, and it steps down. */
  handleAppendEntriesResponse: {
    params: ['m'], events: ['AppendEntriesResponse'], guards: ['isNewerTerm', 'completesRemoval'],
    actions: ['handleAppendEntriesResponse', 'stepDownThenHandleAppendEntriesResponse',
      'handleAppendEntriesResponseThenStepDown'],
  },
  /** [D§4.1] An operator's single-server change, taken by a leader under the published fix. */
  changeConfig: {
    params: ['s', 'c'], events: ['ChangeConfig'], guards: ['canChangeConfig'],
    actions: ['changeConfig'],
  },
  /** Raised by the pacing policy (`pacing.ts`): a heartbeat, a flush of new entries, a catch-up. */
  replicate: {
    params: ['s', 'ts'], events: ['Replicate'], guards: ['heartbeatDue', 'needsCatchUp'],
    actions: ['raiseHeartbeat', 'raiseFlush', 'raiseCatchUp', 'replicate'],
  },
  checkQuorum: {
    params: ['s'], events: ['CheckQuorum'], guards: ['checkQuorumDue', 'lacksQuorumContact'],
    actions: ['raiseCheckQuorum', 'checkQuorum', 'loseQuorum'],
  },
  /** Raised by a follower's tick `redirectFreshTicks` after it last heard from its leader. */
  leaderStale: {
    params: ['s'], events: ['LeaderStale'], guards: ['leaderStaleDue', 'isLeaderFresh'],
    actions: ['raiseLeaderStale', 'leaderStale'],
  },
  clientRequest: {
    params: ['s', 'cmd'], events: ['get', 'put', 'del', 'cas', 'list', 'register'], guards: [],
    actions: ['clientRequest'],
  },
  restart: { params: ['s'], events: ['Restart'], guards: [], actions: ['restart'] },
  /** [§7] Raised by a tick once `snapshotEntries` entries are committed past the snapshot. */
  takeSnapshot: {
    params: ['s'], events: ['TakeSnapshot'], guards: ['canSnapshot'], actions: ['takeSnapshot'],
  },
  handleInstallSnapshotRequest: {
    params: ['m'], events: ['InstallSnapshotRequest'], guards: ['isNewerTerm', 'isCurrentOrNewerTerm'],
    actions: ['handleInstallSnapshotRequest', 'stepDownThenHandleInstallSnapshotRequest'],
  },
};

/** Spec actions of the network, not of a replica: the in-process cluster implements them. */
export const environmentActions: Readonly<Record<string, readonly string[]>> = {
  dropMessage: ['m'],
  duplicateMessage: ['m'],
  /** A disk write completes: the replica loop's group commit (`replica/groupCommit.ts`), the cluster's disk. */
  persist: ['s'],
};

/** Machine parts that are no spec action, and why. */
export const codeOnly = {
  /**
   * Time passing: advances the timers; a spec step happens only when one expires. `Flush`: the
   * shell's end of an input batch; a leader raises `replicate` for the peers its policy picks.
   */
  events: ['Tick', 'Flush'],
  /** `tick` counts time; `ignore` marks a deliberate no-op (a stutter step in the spec). */
  actions: ['tick', 'ignore'],
} as const;

/**
 * Spec actions that are not steps of a replica: the initial state and the step relations that
 * choose among the actions above. Any other unmapped spec action fails the static test.
 */
export const specInternal: Readonly<Record<string, string>> = {
  init: 'the initial state (the machine\'s initial transition)',
  step: 'chooses one action above, with nondeterministic picks',
  stepSteered: 'the same choice under etcd-style bounds',
};
