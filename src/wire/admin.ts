/**
 * The direct mode's operator datagrams: `raftkv cluster status` asks a replica for its role, term,
 * commit and applied index, and its counters. Not part of the simulator-routed protocol, so kept
 * out of `Message`: a replica decodes them only when a datagram's type is not a protocol type.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import { invalid, parseDatagram, type WireError } from './codec.js';
import { Mid, NodeId } from './messages.js';

const Count = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0, 'Count');

export const StatusRequest = t.strict({ src: NodeId, type: t.literal('status'), MID: Mid },
  'StatusRequest');
export type StatusRequest = t.TypeOf<typeof StatusRequest>;

export const StatusReply = t.strict({
  src: NodeId,
  type: t.literal('statusReply'),
  MID: Mid,
  role: t.keyof({ Follower: null, PreCandidate: null, Candidate: null, Leader: null }),
  leader: NodeId,
  currentTerm: Count,
  commitIndex: Count,
  appliedIndex: Count,
  lastLogIndex: Count,
  /** Client requests waiting for an answer (bounded: `Config.maxWaitingRequests`). */
  waitingRequests: Count,
  /** Datagrams dropped, by reason (wire error kinds, `unknown-peer`, `bad-mac`). */
  dropped: t.record(t.string, Count),
  /** Datagrams read, and those handed on (a status request too): the rest are in `dropped`. */
  received: Count,
  accepted: Count,
  /** Of those accepted, the messages of configured peers: the rest came from anyone else. */
  acceptedFromPeers: Count,
  /** Group commit: syncs done and log entries they made durable. */
  syncs: Count,
  entriesSynced: Count,
  /** [§7] The snapshot's index, and the entries held after it: the log's size in memory. */
  snapshotIndex: Count,
  /** Snapshots installed from a leader, and the last one's payload bytes and install time. */
  snapshotsInstalled: Count,
  lastInstallBytes: Count,
  lastInstallMs: t.number,
  /** The write-ahead log file's size, and the process's resident memory. */
  walBytes: Count,
  rssBytes: Count,
  /**
   * The longest the event loop was held up since start, in microseconds, as Node's
   * `monitorEventLoopDelay` sampled it; null unless the replica runs with `--loop-delay` (the
   * sampling timer would wake an idle replica 100 times a second).
   */
  loopDelayMaxUs: t.union([Count, t.null]),
  /** Timer ticks the replica dropped because its loop ran late (a stall; `ReplicaLoop.slip`). */
  stalledTicks: Count,
  /** The process answering: `cluster up` checks it is the one it started. */
  pid: Count,
  /** Every member's address (`HOST:PORT`) by id, this one's too: where a redirect leads. */
  members: t.record(NodeId, t.string),
}, 'StatusReply');
export type StatusReply = t.TypeOf<typeof StatusReply>;

function decodeWith<A>(codec: t.Type<A, unknown, unknown>, u: unknown): E.Either<WireError, A> {
  const decoded = codec.decode(u);
  return E.isLeft(decoded) ? E.left(invalid(codec.name, decoded.left)) : decoded;
}

/** Whether a parsed datagram asks for status: an object whose `type` is `status`. */
export const isStatusRequest = (u: unknown): boolean =>
  typeof u === 'object' && u !== null && Object.hasOwn(u, 'type')
  && (u as Record<string, unknown>)['type'] === 'status';

/** A status request from a datagram's parsed value (`parseDatagram` bounded it). */
export const decodeStatusRequestOf = (u: unknown): E.Either<WireError, StatusRequest> =>
  decodeWith(StatusRequest, u);

/** A status reply from a datagram's bytes: bounded like every datagram, then its codec. */
export function decodeStatusReply(bytes: Uint8Array | string): E.Either<WireError, StatusReply> {
  const parsed = parseDatagram(bytes);
  return E.isLeft(parsed) ? parsed : decodeWith(StatusReply, parsed.right);
}
