/**
 * [§6.4 ReadIndex] Linearizable gets without log writes. A leader records a get as a read at its
 * commit index, for the next heartbeat round; every AppendEntriesRequest carries the leader's
 * latest round (`readRound`) and its response echoes it. A read is answered from the state machine
 * once the leader has committed an entry of its own term (so its commit index is at least that of
 * any earlier leader), its commit index has reached the read's, and a quorum, itself included, has
 * acknowledged the read's round: no other leader had been elected when that round started. The
 * round rides on whatever AppendEntries the leader sends next (a flush of new entries or a
 * heartbeat), so reads cost no messages of their own. `spec/raft.qnt`: `answerReads`.
 *
 * A page of a listing (direct mode) is a read like a get: it waits for the same round and index,
 * and is answered from the state machine at the same moment, so the whole page is what the state
 * machine held at one instant. The spec has gets only; what it checks of a get's wait holds for a
 * page's, which differs only in what it reads.
 */
import {
  MAX_LIST_LIMIT, MAX_PAGE_BYTES, type ClientRequest, type NodeId,
} from '../../wire/messages.js';
import { kvGet, kvList } from '../kv.js';
import { termAt } from '../log.js';
import type { RaftRules } from '../ruleSet.js';
import { countsQuorum, type Effect, type RaftState, type Read, type ReadCmd } from '../state.js';
import { reply, type ReplyExtra } from './common.js';

/** A get or a page of a listing. */
export type ReadRequest = ClientRequest & { type: 'get' | 'list' };

/** A read waits for a round not started yet: the next `replicate` starts it. */
export function roundWanted(s: RaftState): boolean {
  return s.reads.some((r) => r.round > s.readRound);
}

/** Only a leader has reads: a deposed one holds them (`stepDown`). */
function readReady(s: RaftState, r: Read): boolean {
  if (termAt(s.log, s.commitIndex) !== s.currentTerm) return false;
  if (s.commitIndex < r.readIndex) return false;
  const acked: NodeId[] = [];
  for (const [id, p] of s.progress) if (p.ackedRound >= r.round) acked.push(id);
  return countsQuorum(s, acked); // [D§4] voters only, itself if it is one
}

/** What a read finds in the applied state now: a get's value, a page's pairs and `next`. */
export function readResult(s: RaftState, cmd: ReadCmd): ReplyExtra {
  if (cmd.kind === 'get') return { value: kvGet(s.kv, s.log, cmd.key) };
  const page = kvList(s.kv, s.log, { prefix: cmd.prefix, after: cmd.after, limit: cmd.limit,
    maxBytes: MAX_PAGE_BYTES });
  return { pairs: page.pairs, ...(page.next === null ? {} : { next: page.next }) };
}

/** [§6.4] Answer a read that is ready, with what it finds now. */
export function answerRead(s: RaftState, out: Effect[], r: Read): void {
  reply(s, out, r.cmd.client, 'ok', r.mid, readResult(s, r.cmd));
}

/** Answer, in arrival order, every read that is ready. */
export function answerReads(s: RaftState, out: Effect[], rules: RaftRules): RaftState {
  if (s.reads.length === 0) return s;
  const waiting: Read[] = [];
  for (const r of s.reads) {
    if (readReady(s, r)) rules.answerRead(s, out, r);
    else waiting.push(r);
  }
  return waiting.length === s.reads.length ? s : { ...s, reads: waiting };
}

/** The command of a get or a page request. */
export function readCmdOf(m: ReadRequest): ReadCmd {
  const seq = m.seq ?? 0;
  if (m.type === 'get') return { kind: 'get', client: m.src, seq, key: m.key };
  return { kind: 'list', client: m.src, seq, prefix: m.prefix, after: m.after ?? null,
    limit: m.limit ?? MAX_LIST_LIMIT };
}

/** A leader records a get or a page as a read at its commit index, for the next round. */
export function addRead(s: RaftState, m: ReadRequest, out: Effect[], rules: RaftRules):
  RaftState {
  const read: Read = { cmd: readCmdOf(m), mid: m.MID, readIndex: s.commitIndex,
    round: s.readRound + 1 };
  return answerReads({ ...s, reads: [...s.reads, read] }, out, rules);
}
