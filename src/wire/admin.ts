/**
 * The direct mode's operator datagrams: `raftkv cluster status` asks a replica for its role, term,
 * commit and applied index, and its counters. Not part of the simulator-routed protocol, so kept
 * out of `Message`: a replica decodes them only when a datagram's type is not a protocol type.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
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
  /** Datagrams dropped, by reason (wire error kinds, `unknown-peer`, `bad-mac`). */
  dropped: t.record(t.string, Count),
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
}, 'StatusReply');
export type StatusReply = t.TypeOf<typeof StatusReply>;

function decodeJson<A>(codec: t.Type<A, unknown, unknown>, bytes: Uint8Array | string):
  E.Either<string, A> {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch {
    return E.left('not JSON');
  }
  const decoded = codec.decode(value);
  return E.isLeft(decoded) ? E.left(PathReporter.report(decoded).join('; ')) : decoded;
}

export const decodeStatusRequest = (bytes: Uint8Array | string): E.Either<string, StatusRequest> =>
  decodeJson(StatusRequest, bytes);
export const decodeStatusReply = (bytes: Uint8Array | string): E.Either<string, StatusReply> =>
  decodeJson(StatusReply, bytes);
