/** Helpers shared by the rules: building messages and answers, stepping down. */
import {
  BROADCAST,
  type ClientResponse,
  type LogIndex,
  type NodeId,
  type Page,
  type PeerMessage,
  type SessionId,
  type Term,
} from '../../wire/messages.js';
import { becomeFollower, type Effect, type RaftState, type Role } from '../state.js';

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

/**
 * What an answer carries besides its type: a value (`null`: the key was absent), a page of a
 * listing, the leader to name.
 */
export interface ReplyExtra {
  readonly value?: string | null;
  readonly pairs?: Page;
  readonly next?: string;
  readonly leader?: NodeId;
  /** A register's `ok`: the session it opened [§6.3]. */
  readonly session?: SessionId;
}

export function reply(
  s: RaftState,
  out: Effect[],
  client: NodeId,
  type: ClientResponse['type'],
  mid: string,
  extra: ReplyExtra = {},
): void {
  // null: the key was absent, which the simulator-routed protocol reads as ""
  const value = extra.value === null ? (s.config.absentAsEmpty ? '' : undefined) : extra.value;
  const message = {
    src: s.config.id,
    dst: client,
    leader: extra.leader ?? leaderField(s),
    type,
    MID: mid,
    ...(value === undefined ? {} : { value }),
    ...(extra.pairs === undefined ? {} : { pairs: extra.pairs }),
    ...(extra.next === undefined ? {} : { next: extra.next }),
    ...(extra.session === undefined ? {} : { session: extra.session }),
  } as ClientResponse;
  out.push({ type: 'reply', message });
}

/**
 * Answer every held request with a redirect to `leader` (FFFF: unknown), so its client moves on.
 * Held requests are only ever answered this way: never `ok` after a redirect.
 */
export function releaseHeld(s: RaftState, out: Effect[], leader: NodeId): RaftState {
  if (s.held.length === 0) return s;
  for (const h of s.held) reply(s, out, h.cmd.client, 'redirect', h.mid, { leader });
  return { ...s, held: [] };
}

/**
 * [Fig2:AllServers#2] becomeFollower. A deposed leader keeps its pending requests: each is answered
 * once its index is applied here (see `applyCommitted`). Its reads [§6.4] have no effect, so they
 * join the held requests, redirected to the next leader this server hears from (a redirect now
 * could only name no leader, and send the client round in a storm). It answers nothing now: `out`
 * is there for the rules record's signature (`RaftRules.stepDown`).
 */
export function stepDown(s: RaftState, term: number, _out: Effect[], from: Role): RaftState {
  const deposed = becomeFollower(s, term, from);
  return s.reads.length === 0 ? deposed : { ...deposed,
    held: [...deposed.held, ...s.reads.map((r) => ({ cmd: r.cmd, mid: r.mid }))] };
}
