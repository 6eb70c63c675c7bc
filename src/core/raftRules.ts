/**
 * The decisions Raft's safety rests on, named, as one record the statechart is built from
 * (`makeRaftMachine` in raft.ts). A replica runs `raftRules`, the only such record in `src/core`;
 * nothing in the core branches on a bug. The bug catalog (`src/mutants/`, test and tool code only)
 * builds variants that replace one decision each, so that every checker can be shown to catch a
 * deliberately broken replica. Each rule receives the record and consults it wherever it decides.
 */
import type { Entry } from '../wire/messages.js';
import { kvFromSnapshot } from './kv.js';
import { appendEntry, logUpToDate, mergeEntries, termAt } from './log.js';
import type { RaftRules } from './ruleSet.js';
import { initialState } from './state.js';
import { answerApplied, leaderRead, leaderWrite } from './rules/client.js';
import { answerRead } from './rules/reads.js';
import { stepDown } from './rules/common.js';
import { voteFree } from './rules/election.js';
import { lastNewEntry, logOk, quorumCommitIndex, staleAppend } from './rules/replication.js';

const noop = { kind: 'noop' } as const;

/** The rules a replica runs. */
export const raftRules: RaftRules = {
  logUpToDate: (s, lastIndex, lastTerm) => logUpToDate(s.log, lastIndex, lastTerm),
  voteFree,
  staleAppend,
  logOk,
  mergeEntries,
  lastNewEntry,
  quorumCommitIndex,
  openTerm: (log, term) => appendEntry(log, { term: term as Entry['term'], cmd: noop }),
  leaderRead,
  answerRead,
  leaderWrite,
  answerApplied,
  stepDown,
  recover: initialState,
  // persist first: nothing leaves before the write it may depend on is issued
  orderEffects: (persist, out) => (persist === undefined ? out : [persist, ...out]),
  installedKv: (_s, snap) => kvFromSnapshot(snap),
  mayChangeConfig: (s) => termAt(s.log, s.commitIndex) === s.currentTerm
    && s.log.configIndex <= s.commitIndex,
};
