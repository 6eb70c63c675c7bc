/** Client requests: append (leader), redirect, or hold; answers once applied. */
import type { Cmd, ClientRequest } from '../../wire/messages.js';
import { dropFront, at, push } from '../chain.js';
import { applyUpTo } from '../kv.js';
import { appendEntry, lastLogIndex } from '../log.js';
import type { Effect, RaftState } from '../state.js';
import { asTerm, reply } from './common.js';

export function commandOf(m: ClientRequest): Cmd {
  const seq = m.seq ?? 0;
  return m.type === 'put'
    ? { kind: 'put', client: m.src, seq, key: m.key, value: m.value }
    : { kind: 'get', client: m.src, seq, key: m.key };
}

/**
 * [§8] A leader appends the request and answers it once applied; it is sent with the next
 * `replicate`, so requests arriving together travel in one AppendEntries. A follower that knows the
 * leader redirects; one that does not holds the request until a leader is known (no storm of
 * redirects while an election runs).
 */
export function clientRequest(s: RaftState, m: ClientRequest, out: Effect[]): RaftState {
  if (s.role === 'Leader') {
    const log = appendEntry(s.log, { term: asTerm(s.currentTerm), cmd: commandOf(m) });
    const pending = push(s.pending, [
      { index: lastLogIndex(log), term: s.currentTerm, client: m.src, mid: m.MID },
    ]);
    return { ...s, log, pending };
  }
  if (s.leaderId !== null) {
    reply(s, out, m.src, 'redirect', m.MID);
    return s;
  }
  return { ...s, held: [...s.held, { client: m.src, mid: m.MID }] };
}

/**
 * Advance `commitIndex` to `commit` and apply the newly committed entries; a leader answers each
 * request it holds pending, exactly once.
 */
export function applyCommitted(s: RaftState, commit: number, out: Effect[]): RaftState {
  if (commit <= s.commitIndex) return s;
  let pending = s.pending;
  const kv = applyUpTo(s.kv, s.log, commit, (applied) => {
    const p = at(pending, 0);
    if (p === undefined || p.index !== applied.index) return;
    pending = dropFront(pending, 1);
    const value = applied.cmd.kind === 'get' ? { value: applied.value ?? '' } : {};
    reply(s, out, p.client, 'ok', p.mid, value);
  });
  return { ...s, commitIndex: commit, kv, pending };
}
