/**
 * [§7 Figure 13 offset/data/done] InstallSnapshot on the wire. The core sends and handles a
 * snapshot as one `InstallSnapshotRequest`, as the spec does; a snapshot outgrows any datagram, so
 * the shells send it as `InstallSnapshotChunk` datagrams and reassemble it on arrival. Shared by
 * the replica shells and the deterministic simulation, whose network drops, duplicates and
 * reorders chunks one by one.
 *
 * The chunked payload is the UTF-8 JSON of the snapshot's `{ kv, sessions, terms, config }`, in
 * base64 (`config`, the snapshot's configuration [D§4.1], when it names one): it
 * is the same bytes for every send of one snapshot, so chunks of different sends fit together and
 * a resend fills the gaps a lossy network left. A receiver keeps one partial snapshot per peer (the
 * newest it has seen: by term, then index), so its memory is bounded by the peers' snapshots.
 */
import * as E from 'fp-ts/lib/Either.js';
import {
  InstallSnapshotRequest, MAX_SNAPSHOT_CHUNKS, type InstallSnapshotChunk, type Message,
} from './messages.js';
import { decodeUtf8, parseBoundedJson, type JsonLimits } from './json.js';

/** Payload bytes per chunk: 30,000 bytes are 40,000 base64 characters, well inside a datagram. */
export const CHUNK_BYTES = 30_000;

/**
 * A reassembled payload's shape: `{ kv: [[key, value], ...], sessions: [[id, {...}], ...],
 * terms: [{...}, ...] }` nests
 * 4 levels, and a snapshot holds as many pairs as the state has keys, so only depth is tight.
 */
const SNAPSHOT_JSON: JsonLimits = { maxChars: MAX_SNAPSHOT_CHUNKS * CHUNK_BYTES, maxDepth: 8,
  maxMembers: MAX_SNAPSHOT_CHUNKS * CHUNK_BYTES };

const encoder = new TextEncoder();

/**
 * The datagrams that carry `m`: an InstallSnapshotRequest becomes its chunks, anything else goes
 * as it is. Returns no datagram for a snapshot too large for `MAX_SNAPSHOT_CHUNKS` chunks.
 */
export function toDatagrams(m: Message, chunkBytes = CHUNK_BYTES): Message[] {
  if (m.type !== 'InstallSnapshotRequest') return [m];
  const parts = partsOf(m, chunkBytes);
  if (parts === undefined) return [];
  const { kv: _kv, sessions: _sessions, terms: _terms, config: _config, type: _type, ...header } =
    m;
  return parts.map((data, chunk): InstallSnapshotChunk =>
    ({ ...header, type: 'InstallSnapshotChunk', chunk, chunks: parts.length, data }));
}

/**
 * A snapshot's payload in base64 chunks, encoded once: a leader sends the same snapshot (the
 * same `kv`, `sessions` and `terms` objects, which the core never mutates) to every peer that
 * lags, and again after each loss. Keyed on `kv`; the others must be the same objects too.
 */
const encoded = new WeakMap<object, { readonly sessions: unknown; readonly terms: unknown;
  readonly config: unknown; readonly chunkBytes: number;
  readonly parts: readonly string[] | undefined }>();

/** The chunks' data; undefined: more than `MAX_SNAPSHOT_CHUNKS` chunks. */
function partsOf(m: InstallSnapshotRequest, chunkBytes: number): readonly string[] | undefined {
  const known = encoded.get(m.kv);
  if (known !== undefined && known.sessions === m.sessions && known.terms === m.terms
    && known.config === m.config && known.chunkBytes === chunkBytes) return known.parts;
  const payload = Buffer.from(encoder.encode(JSON.stringify({ kv: m.kv, sessions: m.sessions,
    terms: m.terms, ...(m.config === undefined ? {} : { config: m.config }) })));
  const count = Math.max(1, Math.ceil(payload.length / chunkBytes));
  const parts = count > MAX_SNAPSHOT_CHUNKS ? undefined
    : Array.from({ length: count }, (_, chunk) =>
      payload.subarray(chunk * chunkBytes, (chunk + 1) * chunkBytes).toString('base64'));
  encoded.set(m.kv, { sessions: m.sessions, terms: m.terms, config: m.config, chunkBytes,
    parts });
  return parts;
}

interface Partial {
  readonly term: number;
  readonly lastIncludedIndex: number;
  readonly lastIncludedTerm: number;
  readonly parts: (string | undefined)[];
  received: number;
  /** When its first chunk arrived (the caller's clock). */
  readonly startedMs: number;
}

export type Reassembled =
  | { readonly kind: 'partial' }
  | { readonly kind: 'stale' }
  | { readonly kind: 'complete'; readonly message: InstallSnapshotRequest;
      /** The payload's bytes and chunks, and when its first chunk arrived. */
      readonly bytes: number; readonly chunks: number; readonly startedMs: number }
  /** The whole snapshot, put together, is not one: its chunks each were fine. */
  | { readonly kind: 'invalid'; readonly detail: string }
  /** This chunk cannot belong to any snapshot: the datagram itself is bad. */
  | { readonly kind: 'invalid-chunk'; readonly detail: string };

/** Collects chunks per sending peer; hands back a request once all of its chunks are in. */
export class Reassembler {
  private readonly bySender = new Map<string, Partial>();

  /** `nowMs` (any clock) only dates the first chunk of a snapshot, for `startedMs`. */
  accept(c: InstallSnapshotChunk, nowMs = 0): Reassembled {
    if (c.chunk >= c.chunks) {
      return { kind: 'invalid-chunk', detail: `chunk ${c.chunk} of ${c.chunks}` };
    }
    let p = this.bySender.get(c.src);
    const same = p !== undefined && p.term === c.term && p.lastIncludedIndex === c.lastIncludedIndex
      && p.lastIncludedTerm === c.lastIncludedTerm && p.parts.length === c.chunks;
    if (p !== undefined && !same) {
      // an older snapshot's chunk (a late duplicate) must not discard a newer one's progress
      const older = c.term < p.term || (c.term === p.term && c.lastIncludedIndex < p.lastIncludedIndex);
      if (older) return { kind: 'stale' };
    }
    if (p === undefined || !same) {
      p = { term: c.term, lastIncludedIndex: c.lastIncludedIndex,
        lastIncludedTerm: c.lastIncludedTerm, parts: new Array<string | undefined>(c.chunks),
        received: 0, startedMs: nowMs };
      this.bySender.set(c.src, p);
    }
    if (p.parts[c.chunk] === undefined) p.received++;
    p.parts[c.chunk] = c.data;
    if (p.received < p.parts.length) return { kind: 'partial' };
    this.bySender.delete(c.src);
    return assemble(c, p.parts as string[], p.startedMs);
  }
}

/** The request whose chunks `parts` are, with the header of `last` (its newest read round). */
function assemble(last: InstallSnapshotChunk, parts: readonly string[], startedMs: number):
  Reassembled {
  const payload = Buffer.concat(parts.map((d) => Buffer.from(d, 'base64')));
  const bytes = payload.length;
  const text = decodeUtf8(payload);
  if (text === undefined) return { kind: 'invalid', detail: 'snapshot payload is not UTF-8' };
  const parsed = parseBoundedJson(text, SNAPSHOT_JSON);
  if (E.isLeft(parsed)) {
    return { kind: 'invalid', detail: `snapshot payload: ${parsed.left.detail}` };
  }
  const body = parsed.right;
  const { chunk: _chunk, chunks: _chunks, data: _data, ...header } = last;
  const fields = typeof body === 'object' && body !== null ? body : {};
  const decoded = InstallSnapshotRequest.decode({ ...fields, ...header,
    type: 'InstallSnapshotRequest' });
  if (E.isLeft(decoded)) return { kind: 'invalid', detail: 'snapshot payload fails its codec' };
  // [§7] the runs describe the compacted entries: the last one holds the snapshot's own entry
  const newest = decoded.right.terms[decoded.right.terms.length - 1];
  if (newest !== undefined && (newest.index > decoded.right.lastIncludedIndex
    || newest.term !== decoded.right.lastIncludedTerm)) {
    return { kind: 'invalid', detail: 'snapshot runs of terms do not end at its last entry' };
  }
  return { kind: 'complete', message: decoded.right, bytes, chunks: parts.length, startedMs };
}
