/**
 * The payload of a write-ahead log record: one batch of `persist` writes (a group commit), as a
 * UTF-8 JSON array. Decoding sees
 * `unknown` bytes from the disk, so it lives here with the other codecs; the framing (lengths and
 * checksums) lives in `src/disk/wal.ts`.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import { Entry, LogIndex, NodeId, Snapshot, Term } from './messages.js';
import { decodeUtf8, parseBoundedJson, type JsonLimits } from './json.js';

/**
 * A record's shape: a batch, a write, its log change, its snapshot, the sessions, a pair, a
 * session nest 7 levels.
 * A record can hold a whole compacted log, so its width is bounded only by its length, which the
 * framing (`src/disk/wal.ts`) checked before the payload was read.
 */
const WAL_JSON: JsonLimits = { maxChars: Number.MAX_SAFE_INTEGER, maxDepth: 12,
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

/** The fields of a write that the record keeps; an effect's `type` tag is not written. */
interface WalRecordInput {
  readonly currentTerm: number;
  readonly votedFor: string | null;
  readonly log: { readonly snapshot?: unknown; readonly fromIndex: number;
    readonly entries: readonly Entry[] } | undefined;
}

const encoder = new TextEncoder();

export function encodeWalBatch(writes: readonly WalRecordInput[]): Uint8Array {
  return encoder.encode(JSON.stringify(writes.map((w) => ({
    currentTerm: w.currentTerm,
    votedFor: w.votedFor,
    log: w.log === undefined ? undefined
      : { snapshot: w.log.snapshot, fromIndex: w.log.fromIndex, entries: w.log.entries },
  }))));
}

/** The batch in `bytes`, or a one-line reason why they hold none. Never throws. */
export function decodeWalBatch(bytes: Uint8Array): E.Either<string, WalRecord[]> {
  const text = decodeUtf8(bytes);
  if (text === undefined) return E.left('payload is not UTF-8');
  const parsed = parseBoundedJson(text, WAL_JSON);
  if (E.isLeft(parsed)) return E.left(`payload: ${parsed.left.detail}`);
  const decoded = WalBatch.decode(parsed.right);
  if (E.isRight(decoded)) return decoded;
  // Paths only: a reporter that prints the offending value could print the whole log.
  const paths = decoded.left.slice(0, 3)
    .map((e) => e.context.map((c) => c.key).filter((k) => k !== '').join('.') || '(root)');
  return E.left(`invalid payload at ${paths.join(', ')}`);
}
