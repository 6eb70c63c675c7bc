/**
 * The payload of a write-ahead log record: one batch of `persist` writes (a group commit), as
 * UTF-8 JSON with its format number (`WAL_FORMAT`). Decoding sees
 * `unknown` bytes from the disk, so it lives here with the other codecs; the framing (lengths and
 * checksums) lives in `src/disk/wal.ts`.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import { Entry, LogIndex, NodeId, Snapshot, Term } from './messages.js';
import { decodeUtf8, parseBoundedJson, type JsonLimits } from './json.js';

/**
 * A record's shape: the record, a batch, a write, its log change, its snapshot, the sessions, a
 * pair, a session nest 8 levels.
 * A record can hold a whole compacted log, so its width is bounded only by its length, which the
 * framing (`src/disk/wal.ts`) checked before the payload was read.
 */
const WAL_JSON: JsonLimits = { maxChars: Number.MAX_SAFE_INTEGER, maxDepth: 13,
  maxMembers: Number.MAX_SAFE_INTEGER };

/**
 * A new snapshot, if any, becomes the log's base; then the log from `fromIndex` on is replaced by
 * `entries` (unbounded: compaction writes them all). JSON drops an absent snapshot.
 */
export const WalLogChange = t.exact(t.intersection([
  t.type({ fromIndex: LogIndex, entries: t.array(Entry) }),
  t.partial({ snapshot: Snapshot }),
]), 'LogChange');

/** An absent `log` (JSON drops `undefined`) means the write left the log unchanged. */
export const WalRecord = t.strict(
  {
    currentTerm: Term,
    votedFor: t.union([NodeId, t.null]),
    log: t.union([WalLogChange, t.undefined]),
  },
  'WalRecord',
);
export type WalRecord = t.TypeOf<typeof WalRecord>;

/** One group commit: the writes of one fdatasync, in order; never empty. */
export const WalBatch = t.refinement(t.array(WalRecord), (ws) => ws.length > 0, 'WalBatch');

/**
 * The WAL's format, written in every record (`{"v": 3, "writes": [...]}`). 3: log entries and
 * snapshots may carry configurations [D§4] (a build of format 2 would drop a snapshot's, and count
 * the wrong voters); 2: the same records without them; 1: the records of builds before formats
 * were numbered, a bare array of writes. Older formats are still read, so that a replica upgraded
 * in place starts from its directory. A record of a newer format is refused (the build that wrote
 * it knows things this one does not), never guessed at.
 */
export const WAL_FORMAT = 3;

/** The fields of a write that the record keeps; an effect's `type` tag is not written. */
interface WalRecordInput {
  readonly currentTerm: number;
  readonly votedFor: string | null;
  readonly log: { readonly snapshot?: unknown; readonly fromIndex: number;
    readonly entries: readonly Entry[] } | undefined;
}

const encoder = new TextEncoder();

export function encodeWalBatch(writes: readonly WalRecordInput[]): Uint8Array {
  return encoder.encode(JSON.stringify({ v: WAL_FORMAT, writes: writes.map((w) => ({
    currentTerm: w.currentTerm,
    votedFor: w.votedFor,
    log: w.log === undefined ? undefined
      : { snapshot: w.log.snapshot, fromIndex: w.log.fromIndex, entries: w.log.entries },
  })) }));
}

/** Why a payload holds no batch: `newer` is set when a newer build wrote it. */
export interface WalPayloadError {
  readonly detail: string;
  readonly newer?: number;
}

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u);

/** The batch in `bytes`, or a one-line reason why they hold none. Never throws. */
export function decodeWalBatch(bytes: Uint8Array): E.Either<WalPayloadError, WalRecord[]> {
  const text = decodeUtf8(bytes);
  if (text === undefined) return E.left({ detail: 'payload is not UTF-8' });
  const parsed = parseBoundedJson(text, WAL_JSON);
  if (E.isLeft(parsed)) return E.left({ detail: `payload: ${parsed.left.detail}` });
  let writes: unknown = parsed.right; // format 1: the bare array
  if (isRecord(parsed.right)) {
    const v = parsed.right['v'];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 2) {
      return E.left({ detail: 'payload: a record without a valid format number' });
    }
    if (v > WAL_FORMAT) {
      return E.left({ detail: `format ${v}, newer than this build's ${WAL_FORMAT}`, newer: v });
    }
    writes = parsed.right['writes'];
  }
  const decoded = WalBatch.decode(writes);
  if (E.isRight(decoded)) return decoded;
  // Paths only: a reporter that prints the offending value could print the whole log.
  const paths = decoded.left.slice(0, 3)
    .map((e) => e.context.map((c) => c.key).filter((k) => k !== '').join('.') || '(root)');
  return E.left({ detail: `invalid payload at ${paths.join(', ')}` });
}
