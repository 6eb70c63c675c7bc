/** Helpers shared by the rules: building messages and answers, stepping down. */
import {
  BROADCAST,
  type ClientResponse,
  type LogIndex,
  type NodeId,
  type PeerMessage,
  type Term,
} from '../../wire/messages.js';
import { dropFront, size, slice } from '../chain.js';
import { becomeFollower, type Effect, type RaftState } from '../state.js';

export const asTerm = (n: number): Term => n as Term;
export const asIndex = (n: number): LogIndex => n as LogIndex;

/** The `leader` field of every datagram: the leader this server follows, or FFFF. */
export function leaderField(s: RaftState): NodeId {
  return s.leaderId ?? BROADCAST;
}

type PeerBody = PeerMessage extends infer M
  ? M extends PeerMessage ? Omit<M, 'src' | 'dst' | 'leader'> : never
  : never;

export function send(s: RaftState, out: Effect[], dst: NodeId, body: PeerBody): void {
  const message = { src: s.config.id, dst, leader: leaderField(s), ...body } as PeerMessage;
  out.push({ type: 'send', message });
}

export function reply(
  s: RaftState,
  out: Effect[],
  client: NodeId,
  type: ClientResponse['type'],
  mid: string,
  extra: { value?: string; leader?: NodeId } = {},
): void {
  const message = {
    src: s.config.id,
    dst: client,
    leader: extra.leader ?? leaderField(s),
    type,
    MID: mid,
    ...(extra.value === undefined ? {} : { value: extra.value }),
  } as ClientResponse;
  out.push({ type: 'reply', message });
}

/**
 * Answer every held request with a redirect to `leader` (FFFF: unknown), so its client moves on.
 * Held requests are only ever answered this way: never `ok` after a redirect.
 */
export function releaseHeld(s: RaftState, out: Effect[], leader: NodeId): RaftState {
  if (s.held.length === 0) return s;
  for (const h of s.held) reply(s, out, h.client, 'redirect', h.mid, { leader });
  return { ...s, held: [] };
}

/** A deposed leader hands every request it has not answered back with a redirect. */
function releasePending(s: RaftState, out: Effect[], leader: NodeId): RaftState {
  if (size(s.pending) === 0) return s;
  for (const p of slice(s.pending, 0, size(s.pending))) {
    reply(s, out, p.client, 'redirect', p.mid, { leader });
  }
  return { ...s, pending: dropFront(s.pending, size(s.pending)) };
}

/**
 * [Fig2:AllServers#2] becomeFollower, plus the answers a deposed leader owes its clients: a
 * redirect naming the new leader when the step down came from it (`leader`), else FFFF.
 */
export function stepDown(s: RaftState, term: number, out: Effect[], leader = BROADCAST):
  RaftState {
  return releasePending(becomeFollower(s, term), out, leader);
}
