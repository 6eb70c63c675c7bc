/**
 * [§6.4 ReadIndex] Linearizable gets without log writes. A leader records a get as a read at its
 * commit index, for the next heartbeat round; every AppendEntriesRequest carries the leader's
 * latest round (`readRound`) and its response echoes it. A read is answered from the state machine
 * once the leader has committed an entry of its own term (so its commit index is at least that of
 * any earlier leader), its commit index has reached the read's, and a quorum, itself included, has
 * acknowledged the read's round: no other leader had been elected when that round started. The
 * round rides on whatever AppendEntries the leader sends next (a flush of new entries or a
 * heartbeat), so reads cost no messages of their own. `spec/raft.qnt`: `answerReads`.
 */
import type { ClientRequest, Cmd } from '../../wire/messages.js';
import { kvGet } from '../kv.js';
import { termAt } from '../log.js';
import { quorum, type Effect, type RaftState, type Read } from '../state.js';
import { reply } from './common.js';

/** A read waits for a round not started yet: the next `replicate` starts it. */
export function roundWanted(s: RaftState): boolean {
  return s.reads.some((r) => r.round > s.readRound);
}

/** Only a leader has reads: a deposed one holds them (`stepDown`). */
function readReady(s: RaftState, r: Read): boolean {
  if (termAt(s.log, s.commitIndex) !== s.currentTerm) return false;
  if (s.commitIndex < r.readIndex) return false;
  let acks = 1;
  for (const p of s.progress.values()) if (p.ackedRound >= r.round) acks++;
  return acks >= quorum(s.config);
}

/** Answer, in arrival order, every read that is ready. */
export function answerReads(s: RaftState, out: Effect[]): RaftState {
  if (s.reads.length === 0) return s;
  const waiting: Read[] = [];
  for (const r of s.reads) {
    if (readReady(s, r)) {
      reply(s, out, r.cmd.client, 'ok', r.mid, { value: kvGet(s.kv, s.log, r.cmd.key) });
    } else waiting.push(r);
  }
  return waiting.length === s.reads.length ? s : { ...s, reads: waiting };
}

/** A leader records a get as a read at its commit index, for the next round. */
export function addRead(s: RaftState, m: ClientRequest & { type: 'get' }, out: Effect[]):
  RaftState {
  const cmd = { kind: 'get' as const, client: m.src, seq: m.seq ?? 0, key: m.key };
  const read: Read = { cmd, mid: m.MID, readIndex: s.commitIndex, round: s.readRound + 1 };
  return answerReads({ ...s, reads: [...s.reads, read] }, out);
}
