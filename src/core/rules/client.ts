/** Client requests: append (leader), redirect, or hold; answers once applied. */
import {
  MAX_PAGE_BYTES, PROTOCOL_MAX_KEY_LENGTH, PROTOCOL_MAX_VALUE_LENGTH, type ClientRequest,
  type LogCmd, type SessionId,
} from '../../wire/messages.js';
import { at, chainOf, dropFront, push, size, toArray, type Chain } from '../chain.js';
import { applyUpTo, cmdSize, EXPIRED, kvGet } from '../kv.js';
import { appendEntry, entryAt, lastLogIndex, termAt } from '../log.js';
import type { RaftRules } from '../ruleSet.js';
import type { ClientCmd, Config, Effect, Pending, RaftState, Role } from '../state.js';
import { asTerm, reply } from './common.js';
import { addRead, readCmdOf, type ReadRequest } from './reads.js';

/** A put, del, cas or register request: one that goes through the log. */
export type WriteRequest = Exclude<ClientRequest, ReadRequest>;

const isRead = (m: ClientRequest): m is ReadRequest => m.type === 'get' || m.type === 'list';

/** The command of a request; a register carries `config`'s session bound, as a leader stamps it. */
export function commandOf(m: ClientRequest, config: Config): ClientCmd {
  return isRead(m) ? readCmdOf(m) : logCmdOf(m, config);
}

function logCmdOf(m: WriteRequest, config: Config): LogCmd {
  const seq = m.seq ?? 0;
  if (m.type === 'register') {
    return { kind: 'register', client: m.src, seq, keep: config.maxSessions };
  }
  const session = m.session ?? 0;
  switch (m.type) {
    case 'put': return { kind: 'put', client: m.src, session, seq, key: m.key, value: m.value };
    case 'del': return { kind: 'del', client: m.src, session, seq, key: m.key };
    case 'cas': return { kind: 'cas', client: m.src, session, seq, key: m.key,
      expected: m.expected, value: m.value };
  }
}

/** Pending requests stay in index order, also when a leader re-uses the index of an old one. */
function addPending(pending: Chain<Pending>, p: Pending): Chain<Pending> {
  const last = at(pending, size(pending) - 1);
  if (last === undefined || last.index <= p.index) return push(pending, [p]);
  const items = toArray(pending);
  const offset = items.findIndex((q) => q.index > p.index);
  return chainOf([...items.slice(0, offset), p, ...items.slice(offset)]);
}

/** The requests of `client` this server keeps waiting: O(waiting), so used only near a bound. */
function waitingFor(s: RaftState, client: string): number {
  let n = 0;
  for (let i = 0, p = at(s.pending, 0); p !== undefined; p = at(s.pending, ++i)) {
    if (p.cmd.client === client) n++;
  }
  for (const r of s.reads) if (r.cmd.client === client) n++;
  for (const h of s.held) if (h.cmd.client === client) n++;
  return n;
}

/** Client requests this server keeps waiting: a leader's pending puts and reads, held ones. */
export function waitingRequests(s: RaftState): number {
  return size(s.pending) + s.reads.length + s.held.length;
}

/**
 * A request of at most this many units of keys and values (the simulator-routed protocol's largest)
 * counts as one against the overload bounds; a larger one is weighed by its size as well.
 */
export const SMALL_REQUEST = PROTOCOL_MAX_KEY_LENGTH + PROTOCOL_MAX_VALUE_LENGTH;

/**
 * What a request weighs: a write's keys and values; a get's key and the value it will read (as
 * held now: its answer carries it); a page, the most its small pairs may take.
 */
function requestSize(s: RaftState, m: ClientRequest): number {
  if (m.type === 'list') return MAX_PAGE_BYTES;
  if (m.type === 'get') return m.key.length + (kvGet(s.kv, s.log, m.key)?.length ?? 0);
  return m.type === 'register' ? 0 : cmdSize(logCmdOf(m, s.config));
}

/**
 * The units of keys and values a server keeps for waiting requests: those it holds, a leader's
 * reads (weighed as `requestSize`) and its uncommitted entries (which its pending writes share).
 * O(waiting): only a large request pays it.
 */
function waitingBytes(s: RaftState, role: Role): number {
  let n = 0;
  for (const h of s.held) n += h.cmd.kind === 'list' ? MAX_PAGE_BYTES : cmdSize(h.cmd);
  if (role !== 'Leader') return n;
  for (const r of s.reads) {
    n += r.cmd.kind === 'list' ? MAX_PAGE_BYTES
      : r.cmd.key.length + (kvGet(s.kv, s.log, r.cmd.key)?.length ?? 0);
  }
  for (let i = s.commitIndex + 1, last = lastLogIndex(s.log); i <= last; i++) {
    const e = entryAt(s.log, i);
    if (e !== undefined) n += cmdSize(e.cmd);
  }
  return n;
}

/**
 * [spec: overloaded, with MaxWaiting, MaxWaitingPerClient, MaxUncommitted] a server answers `fail`
 * at once rather than keep one more request waiting past `maxWaitingRequests` (or
 * `maxWaitingPerClient` for its client), or append past `maxUncommittedEntries` uncommitted
 * entries. So a flood of valid requests is refused, not stored. `fail` promises nothing: the
 * client may retry the request. Deviation from the spec, whose values have no size: a request
 * that weighs more than `SMALL_REQUEST` (a large value written or read, a page of a listing) is
 * also refused while what waits would pass `maxWaitingBytes` with it (direct mode's; the
 * simulator-routed protocol has no such request), so that neither what a server keeps nor the
 * answers one read round sends can fill its memory, and pages cannot pile up.
 */
function overloaded(s: RaftState, m: ClientRequest, role: Role): boolean {
  const c = s.config;
  const waiting = waitingRequests(s);
  if (waiting >= c.maxWaitingRequests) return true;
  // a client cannot reach its own bound before the total does
  if (waiting >= c.maxWaitingPerClient
    && waitingFor(s, m.src) >= c.maxWaitingPerClient) return true;
  if (role === 'Leader' && !isRead(m)
    && lastLogIndex(s.log) - s.commitIndex >= c.maxUncommittedEntries) return true;
  const size = requestSize(s, m);
  return size > SMALL_REQUEST && waitingBytes(s, role) + size > c.maxWaitingBytes;
}

/**
 * [§8] A leader appends the request and answers it once applied; it is sent with the next
 * `replicate`, so requests arriving together travel in one AppendEntries. A follower that heard
 * from its leader lately (`leaderFresh`) redirects; otherwise the request is held until a leader
 * is heard from (no storm of redirects while an election runs, or towards a leader that has just
 * died). `spec/raft.qnt`: `onClientRequest`.
 */
export function clientRequest(s: RaftState, m: ClientRequest, out: Effect[], rules: RaftRules,
  role: Role): RaftState {
  const redirectNow = role !== 'Leader' && s.leaderId !== null && s.leaderFresh;
  if (!redirectNow && overloaded(s, m, role)) {
    reply(s, out, m.src, 'fail', m.MID);
    return s;
  }
  if (role === 'Leader') {
    return isRead(m) ? rules.leaderRead(s, m, out, rules) : rules.leaderWrite(s, m, out, rules);
  }
  if (redirectNow) {
    reply(s, out, m.src, 'redirect', m.MID);
    return s;
  }
  return { ...s, held: [...s.held, { cmd: commandOf(m, s.config), mid: m.MID }] };
}

/** [§6.4] A leader's get or page is a read: no log write (`reads.ts`). */
export function leaderRead(s: RaftState, m: ReadRequest, out: Effect[], rules: RaftRules):
  RaftState {
  return addRead(s, m, out, rules);
}

/**
 * [§8] A leader appends a write (put, del, cas) or a register [§6.3], and answers it once its
 * entry is applied.
 */
export function leaderWrite(s: RaftState, m: WriteRequest): RaftState {
  const cmd = logCmdOf(m, s.config);
  const log = appendEntry(s.log, { term: asTerm(s.currentTerm), cmd });
  const pending = addPending(s.pending,
    { index: lastLogIndex(log), term: s.currentTerm, cmd, mid: m.MID });
  return { ...s, log, pending };
}

/**
 * Advance `commitIndex` to `commit` and apply the newly committed entries. Every pending request
 * whose index is now applied is answered, exactly once: `ok` if the entry there is the one this
 * server appended for it (same index and term: the same entry [§5.3 Log Matching]), else a
 * redirect, since another entry was committed in its place and it never will be. A deposed leader
 * keeps its pending requests for this: redirecting one that may still commit under the next
 * leader would make its client apply it twice.
 */
export function applyCommitted(s: RaftState, commit: number, out: Effect[], rules: RaftRules):
  RaftState {
  if (commit <= s.commitIndex) return s;
  const { kv, pending } = applyAndAnswer(s, commit, out, rules);
  return { ...s, commitIndex: commit, kv, pending: redirectLost(s, pending, commit, out) };
}

/** Apply the log up to `upTo` and answer, once, every pending request up to it (as above). */
export function applyAndAnswer(s: RaftState, upTo: number, out: Effect[], rules: RaftRules):
  Pick<RaftState, 'kv' | 'pending'> {
  // the answers that carry a value: what a del, cas (or a logged get) found, or EXPIRED
  const values = new Map<number, string | null | typeof EXPIRED>();
  const kv = applyUpTo(s.kv, s.log, upTo, (applied) => {
    const { cmd, value } = applied;
    if ((cmd.kind !== 'put' || value === EXPIRED) && value !== undefined) {
      values.set(applied.index, value);
    }
  });
  let answered = 0;
  for (let p = at(s.pending, 0); p !== undefined && p.index <= upTo;
    p = at(s.pending, ++answered)) {
    if (termAt(s.log, p.index) === p.term) {
      rules.answerApplied(s, out, p, values.get(p.index));
    } else {
      reply(s, out, p.cmd.client, 'redirect', p.mid);
    }
  }
  return { kv, pending: answered === 0 ? s.pending : dropFront(s.pending, answered) };
}

/**
 * [§8] Answer `ok` a pending request whose own entry was applied: a del or cas with the value it
 * found (`null`: none), a put without one, a register with its session id (its index) [§6.3].
 * A write whose session had expired is answered `expired`: its outcome is unknown.
 */
export function answerApplied(s: RaftState, out: Effect[], p: Pending,
  value: string | null | undefined | typeof EXPIRED): void {
  if (value === EXPIRED) reply(s, out, p.cmd.client, 'expired', p.mid);
  else if (p.cmd.kind === 'register') {
    reply(s, out, p.cmd.client, 'ok', p.mid, { session: p.index as SessionId });
  } else reply(s, out, p.cmd.client, 'ok', p.mid, value === undefined ? {} : { value });
}

/**
 * A pending request whose term is below that of the entry committed at `commit` can never commit
 * [§5.4 Leader Completeness, and terms never decrease along a log]: the new leader's log may never
 * reach its index, so waiting for that index could leave it unanswered. Redirect it now.
 */
export function redirectLost(s: RaftState, pending: Chain<Pending>, commit: number,
  out: Effect[]): Chain<Pending> {
  const committedTerm = termAt(s.log, commit);
  let anyLost = false;
  for (let i = 0, p = at(pending, 0); p !== undefined && !anyLost; p = at(pending, ++i)) {
    anyLost = p.term < committedTerm;
  }
  if (!anyLost) return pending; // the usual case: no copy on the commit path
  const items = toArray(pending);
  const lost = items.filter((p) => p.term < committedTerm);
  for (const p of lost) reply(s, out, p.cmd.client, 'redirect', p.mid);
  return chainOf(items.filter((p) => p.term >= committedTerm));
}
