/**
 * The replica as an XState v5 statechart. Roles are states; events are what arrives (ticks, the
 * shell's end-of-batch `Flush`, decoded peer messages, client requests, a restart); guards are
 * the spec's enabling conditions that decide a change of role; every other action is named after
 * the spec action it implements (`spec/raft.qnt`) and is a one-line adapter over a pure rule.
 * Effects (persist, send, reply) are emitted, never performed: the replica loop's `pureStep`
 * returns them with the next snapshot, and a live actor (the inspector's) hands them to its
 * `on('*')` listeners. Persist comes first (`RaftRules.orderEffects`).
 * The guards and actions are built from a rules record (`raftRules.ts`): a replica's machine from
 * `raftRules`, the bug catalog's from its variants (`src/mutants/`).
 */
import { setup } from 'xstate';
import type { ClientRequest, NodeId, PeerMessage } from '../wire/messages.js';
import { flushTargets, heartbeatTargets, needsCatchUp } from './pacing.js';
import { logChange, snapshotIndex } from './log.js';
import { clientRequest } from './rules/client.js';
import { handleInstallSnapshotRequest, snapshotDue, takeSnapshot } from './rules/snapshot.js';
import {
  completesPreVoteQuorum,
  completesVoteQuorum,
  electionTimeout,
  handlePreVoteRequest,
  handlePreVoteResponse,
  handleRequestVoteRequest,
  handleRequestVoteResponse,
  winElection,
  winPreVote,
} from './rules/election.js';
import {
  checkQuorum,
  handleAppendEntriesRequest,
  handleAppendEntriesResponse,
  hasQuorumContact,
  loseQuorum,
  replicate,
} from './rules/replication.js';
import { raftRules } from './raftRules.js';
import {
  changeAllowed, changeConfig, completesRemoval, type ConfigChange,
} from './rules/config.js';
import type { RaftRules } from './ruleSet.js';
import {
  isVoter,
  membership,
  persistedOf,
  type Config,
  type Effect,
  type Persisted,
  type RaftState,
  type Role,
} from './state.js';

export type RaftEvent =
  | PeerMessage
  | ClientRequest
  /** `ticks` (default 1) ticks at once: never more than `ticksUntilDue` (timers.ts) allows. */
  | { readonly type: 'Tick'; readonly ticks?: number }
  | { readonly type: 'ElectionTimeout' }
  | { readonly type: 'CheckQuorum' }
  /** A follower has not heard from its leader for `redirectFreshTicks` (the spec's `leaderStale`). */
  | { readonly type: 'LeaderStale' }
  /** Replicate to these peers (the spec's `replicate(s, ts)`). */
  | { readonly type: 'Replicate'; readonly to: readonly NodeId[] }
  /** From the shell at the end of an input batch with client requests: send the new entries. */
  | { readonly type: 'Flush' }
  /** [§7] Snapshot and compact now (the spec's `takeSnapshot`); ticks raise it when it is due. */
  | { readonly type: 'TakeSnapshot' }
  /** [D§4.1] An operator's single-server change (the spec's `changeConfig`); a leader's only. */
  | ({ readonly type: 'ChangeConfig' } & ConfigChange)
  /**
   * The process starts again from its disk: `persisted` is what the disk holds (what was durable
   * at the crash); without it, everything the server wrote is taken as durable.
   */
  | { readonly type: 'Restart'; readonly persisted?: Persisted };

export interface RaftInput {
  readonly config?: Partial<Config>;
  readonly seed?: number;
  readonly persisted?: Persisted;
}

/** A rule: the state, the event, the output, the rules record, and the role the statechart is in. */
type Rule<E> = (s: RaftState, e: E, out: Effect[], rules: RaftRules, role: Role) => RaftState;

/** The parameter every rule's action gets from its state: the role (`roles.ts`). */
export interface RoleParams { readonly role: Role }

/**
 * [etcd Step; Fig2:AllServers#2] A message that makes this server follow another term or leader:
 * step down first, in the message's term, then handle the message as a follower. The statechart
 * decides when (`isNewerTerm`, `isCurrentOrNewerTerm`, `isPreVoteRejectionFromNewerTerm`, first in
 * every role); the rules never check the term again for it.
 */
export function stepDownThen<E extends { readonly term: number }>(handler: Rule<E>): Rule<E> {
  return (s, m, out, rules, role) =>
    handler(rules.stepDown(s, m.term, out, role), m, out, rules, 'Follower');
}

/** The persist effect for what changed in term, vote or log, if anything did. */
export function persistEffect(before: RaftState, after: RaftState): Effect | undefined {
  const log = logChange(before.log, after.log);
  if (log === undefined && before.currentTerm === after.currentTerm
    && before.votedFor === after.votedFor) return undefined;
  return { type: 'persist', currentTerm: after.currentTerm, votedFor: after.votedFor, log };
}

const typed = setup({
  types: {
    context: {} as RaftState,
    events: {} as RaftEvent,
    input: {} as RaftInput | undefined,
    emitted: {} as Effect,
  },
});

/**
 * Adapt a pure rule to an XState action: assign its state, then emit its persist effect and its
 * output in the rules' order (persist first).
 */
function rule<E>(rules: RaftRules, name: string, fn: Rule<E>) {
  return typed.enqueueActions(
    ({ context, event, enqueue }, params) => {
      const out: Effect[] = [];
      // the state's `role` parameter (`roles.ts`); setup types action parameters as absent
      const { role } = params as unknown as RoleParams;
      const next = fn(context, event as E, out, rules, role);
      enqueue.assign(() => next);
      if (context.config.trace) {
        enqueue.emit({ type: 'trace', action: name,
          ...(event.type === 'Replicate' ? { to: event.to } : {}) });
      }
      for (const effect of rules.orderEffects(persistEffect(context, next), out)) {
        enqueue.emit(effect);
      }
    },
  );
}

type Msg<T extends RaftEvent['type']> = Extract<RaftEvent, { type: T }>;
const termOf = (e: RaftEvent): number => ('term' in e ? e.term : -1);
const ticksOf = (e: RaftEvent): number => (e.type === 'Tick' ? e.ticks ?? 1 : 0);

/** The machine's guards and actions, over the decisions of `rules`. */
export const raftSetupFor = (rules: RaftRules) => typed.extend({
  guards: {
    // [D§4] only a voter of its own configuration campaigns: a learner's timer never fires
    electionTimeoutElapsed: ({ context: s, event }) =>
      s.electionElapsed + ticksOf(event) >= s.electionTimeoutTicks
        && isVoter(membership(s), s.config.id),
    isVoter: ({ context: s }) => isVoter(membership(s), s.config.id),
    canChangeConfig: ({ context: s, event }) =>
      event.type === 'ChangeConfig' && changeAllowed(s, event, rules),
    completesRemoval: ({ context: s, event }) =>
      event.type === 'AppendEntriesResponse' && completesRemoval(s, event, rules),
    checkQuorumDue: ({ context: s, event }) =>
      s.electionElapsed + ticksOf(event) >= s.config.electionTimeoutTicksMin,
    lacksQuorumContact: ({ context: s }) => !hasQuorumContact(s),
    /** The spec's `leaderStale` is enabled: the follower heard from its leader lately. */
    isLeaderFresh: ({ context: s }) => s.leaderFresh,
    leaderStaleDue: ({ context: s, event }) =>
      s.leaderFresh && s.electionElapsed + ticksOf(event) >= s.config.redirectFreshTicks,
    /** [§7] the spec's `takeSnapshot` is enabled: something committed is not in the snapshot. */
    canSnapshot: ({ context: s }) => s.commitIndex > snapshotIndex(s.log),
    heartbeatDue: ({ context: s, event }) => heartbeatTargets(s, s.now + ticksOf(event)).length > 0,
    needsCatchUp: ({ context: s, event }) =>
      event.type === 'AppendEntriesResponse' && needsCatchUp(s, event),
    isNewerTerm: ({ context: s, event }) => termOf(event) > s.currentTerm,
    isCurrentOrNewerTerm: ({ context: s, event }) => termOf(event) >= s.currentTerm,
    isPreVoteRejectionFromNewerTerm: ({ context: s, event }) =>
      event.type === 'PreVoteResponse' && !event.voteGranted && event.term > s.currentTerm,
    hasPreVoteQuorum: ({ context: s, event }) =>
      event.type === 'PreVoteResponse' && completesPreVoteQuorum(s, event),
    hasVoteQuorum: ({ context: s, event }) =>
      event.type === 'RequestVoteResponse' && completesVoteQuorum(s, event),
  },
  actions: {
    tick: typed.enqueueActions(({ context: s, event, enqueue }) => {
      const n = ticksOf(event);
      enqueue.assign({ electionElapsed: s.electionElapsed + n, now: s.now + n });
      if (snapshotDue(s)) enqueue.raise({ type: 'TakeSnapshot' });
    }),
    raiseElectionTimeout: typed.raise({ type: 'ElectionTimeout' }),
    raiseCheckQuorum: typed.raise({ type: 'CheckQuorum' }),
    raiseLeaderStale: typed.raise({ type: 'LeaderStale' }),
    // Pacing (`pacing.ts`): each raises the spec's `replicate` for the peers it chooses.
    raiseHeartbeat: typed.raise(({ context: s }) =>
      ({ type: 'Replicate' as const, to: heartbeatTargets(s, s.now) })),
    raiseFlush: typed.raise(({ context: s }) => ({ type: 'Replicate' as const, to: flushTargets(s) })),
    raiseCatchUp: typed.raise(({ event }) =>
      ({ type: 'Replicate' as const, to: 'src' in event ? [event.src] : [] })),
    /** A deliberate ignore, named so that it shows in the definition and in `can()`. */
    ignore: () => undefined,
    /** [rules:restart] from what the disk holds: nothing is written, nothing sent. */
    restart: typed.enqueueActions(({ context: s, event, enqueue }) => {
      const persisted = event.type === 'Restart' ? event.persisted : undefined;
      enqueue.assign(() => rules.recover(s.config, s.rng, persisted ?? persistedOf(s)));
      if (s.config.trace) enqueue.emit({ type: 'trace', action: 'restart' });
    }),
    electionTimeout: rule<RaftEvent>(rules, 'electionTimeout', (s, _e, out, _r, role) =>
      electionTimeout(s, out, role)),
    replicate: rule<Msg<'Replicate'>>(rules, 'replicate', (s, e, out) => replicate(s, out, e.to)),
    checkQuorum: rule<RaftEvent>(rules, 'checkQuorum', (s) => checkQuorum(s)),
    loseQuorum: rule<RaftEvent>(rules, 'checkQuorum', (s, _e, out, r) => loseQuorum(s, out, r)),
    leaderStale: rule<RaftEvent>(rules, 'leaderStale', (s) => ({ ...s, leaderFresh: false })),
    takeSnapshot: rule<RaftEvent>(rules, 'takeSnapshot', (s) => takeSnapshot(s)),
    handleInstallSnapshotRequest: rule<Msg<'InstallSnapshotRequest'>>(rules,
      'handleInstallSnapshotRequest', handleInstallSnapshotRequest),
    stepDownThenHandleInstallSnapshotRequest: rule<Msg<'InstallSnapshotRequest'>>(rules,
      'handleInstallSnapshotRequest', stepDownThen(handleInstallSnapshotRequest)),
    clientRequest: rule<ClientRequest>(rules, 'clientRequest', clientRequest),
    handlePreVoteRequest:
      rule<Msg<'PreVoteRequest'>>(rules, 'handlePreVoteRequest', handlePreVoteRequest),
    handlePreVoteResponse: rule<Msg<'PreVoteResponse'>>(rules, 'handlePreVoteResponse',
      (s, m, _out, _r, role) => handlePreVoteResponse(s, m, role)),
    stepDownThenHandlePreVoteResponse: rule<Msg<'PreVoteResponse'>>(rules,
      'handlePreVoteResponse',
      stepDownThen((s, m, _out, _r, role) => handlePreVoteResponse(s, m, role))),
    winPreVote: rule<Msg<'PreVoteResponse'>>(rules, 'handlePreVoteResponse',
      (s, m, out) => winPreVote(s, m, out)),
    handleRequestVoteRequest: rule<Msg<'RequestVoteRequest'>>(rules, 'handleRequestVoteRequest',
      handleRequestVoteRequest),
    stepDownThenHandleRequestVoteRequest: rule<Msg<'RequestVoteRequest'>>(rules,
      'handleRequestVoteRequest', stepDownThen(handleRequestVoteRequest)),
    handleRequestVoteResponse: rule<Msg<'RequestVoteResponse'>>(rules,
      'handleRequestVoteResponse', (s, m, _out, _r, role) => handleRequestVoteResponse(s, m, role)),
    stepDownThenHandleRequestVoteResponse: rule<Msg<'RequestVoteResponse'>>(rules,
      'handleRequestVoteResponse',
      stepDownThen((s, m, _out, _r, role) => handleRequestVoteResponse(s, m, role))),
    winElection: rule<Msg<'RequestVoteResponse'>>(rules, 'handleRequestVoteResponse',
      winElection),
    handleAppendEntriesRequest: rule<Msg<'AppendEntriesRequest'>>(rules,
      'handleAppendEntriesRequest', handleAppendEntriesRequest),
    stepDownThenHandleAppendEntriesRequest: rule<Msg<'AppendEntriesRequest'>>(rules,
      'handleAppendEntriesRequest', stepDownThen(handleAppendEntriesRequest)),
    handleAppendEntriesResponse: rule<Msg<'AppendEntriesResponse'>>(rules,
      'handleAppendEntriesResponse', handleAppendEntriesResponse),
    /** [D§4.2.2] The guard `completesRemoval` decided: commit the removal, then step down. */
    handleAppendEntriesResponseThenStepDown: rule<Msg<'AppendEntriesResponse'>>(rules,
      'handleAppendEntriesResponse', (s, m, out, r, role) =>
        r.stepDown(handleAppendEntriesResponse(s, m, out, r, role), s.currentTerm, out, role)),
    changeConfig: rule<Msg<'ChangeConfig'>>(rules, 'changeConfig', (s, e) => changeConfig(s, e)),
    stepDownThenHandleAppendEntriesResponse: rule<Msg<'AppendEntriesResponse'>>(rules,
      'handleAppendEntriesResponse', stepDownThen(handleAppendEntriesResponse)),
  },
});

/** The setup of a replica's machine: `raftRules`. */
export const raftSetup = raftSetupFor(raftRules);
