/**
 * Messages larger than a datagram, on the wire: a put of a large value, the answer to its get, an
 * AppendEntries that carries it. The sender cuts the message's UTF-8 JSON into `Fragment`
 * datagrams; the receiver puts them together and handles the message as if it had arrived whole
 * (its codec, its admission). Until every part is in, the message has not arrived: a lost part is
 * a lost message, which Raft and the clients already repair by resending. So fragmenting changes
 * nothing the spec models (its messages are the whole ones), as IP fragmentation changes nothing
 * for TCP.
 *
 * The parts of one message share `src` and `digest` (the SHA-256 of the whole, first 16 bytes):
 * parts of two different messages never fit together, and a put is never assembled from halves of
 * two values; parts of two sends of the same message do, so a resend fills the gaps a lossy
 * network left (as snapshot chunks do). `id` only tells sends apart in a trace. A receiver keeps a bounded number
 * of partial messages, per sender, in all, and in bytes (their bookkeeping counted), dropping the
 * oldest first, so a flood of parts that never complete cannot grow its memory; the replica loop
 * keeps peers' and clients' apart, so clients cannot push out a leader's AppendEntries.
 */
import { createHash } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { MAX_FRAGMENTS, type Fragment, type Message, type NodeId } from './messages.js';
import { encodeMessage, MAX_DATAGRAM_BYTES, stamped } from './codec.js';
import { CHUNK_BYTES } from './chunks.js';
import { decodeUtf8, parseBoundedJson, type JsonLimits } from './json.js';

/** Payload bytes per fragment: as per snapshot chunk, 40,000 base64 characters in a datagram. */
export const FRAGMENT_BYTES = CHUNK_BYTES;
/** The largest message: its JSON, in UTF-8 bytes. */
export const MAX_MESSAGE_BYTES = MAX_FRAGMENTS * FRAGMENT_BYTES;
/** A whole message's JSON shape: a datagram's, only longer. */
export const MESSAGE_JSON: JsonLimits = { maxChars: MAX_MESSAGE_BYTES, maxDepth: 16,
  maxMembers: 1024 };

/** Partial messages a receiver keeps: from one sender, and in all (by the bytes of their parts). */
export const MAX_PARTIAL_PER_SENDER = 4;
export const MAX_PARTIAL_BYTES = 64 * 1024 * 1024;

const digestOf = (bytes: Uint8Array): string =>
  createHash('sha256').update(bytes).digest().subarray(0, 16).toString('base64').slice(0, 22);

/**
 * The datagrams that carry the message whose JSON is `text`: itself (undefined: it fits in one),
 * or its fragments. `header` is the message's envelope; `id` tells its fragments from another
 * message's. Returns `[]` for a message over `MAX_MESSAGE_BYTES`.
 */
export function fragmentsOf(text: string, header: { src: NodeId; dst: NodeId; leader: NodeId },
  id: number, partBytes = FRAGMENT_BYTES): Fragment[] | undefined {
  // a UTF-16 unit is at most 3 UTF-8 bytes: most messages are told to fit without encoding
  if (text.length * 3 <= MAX_DATAGRAM_BYTES) return undefined;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= MAX_DATAGRAM_BYTES) return undefined;
  const parts = Math.ceil(bytes.length / partBytes);
  if (bytes.length > MAX_MESSAGE_BYTES || parts > MAX_FRAGMENTS) return [];
  const digest = digestOf(bytes);
  return Array.from({ length: parts }, (_, part): Fragment => ({ ...header, type: 'Fragment', id,
    digest, part, parts,
    data: bytes.subarray(part * partBytes, (part + 1) * partBytes).toString('base64') }));
}

/**
 * The datagram texts that carry `m` in direct mode, each stamped with the wire format
 * (`WIRE_FORMAT`): its own JSON if that fits one datagram, else its fragments (numbered `id`);
 * none if it is over `MAX_MESSAGE_BYTES`.
 */
export function wireTexts(m: Message, id: number): string[] {
  const text = stamped(encodeMessage(m));
  const parts = fragmentsOf(text, { src: m.src, dst: m.dst, leader: m.leader }, id);
  return parts === undefined ? [text] : parts.map((f) => stamped(encodeMessage(f)));
}

interface Partial {
  readonly key: string;
  /** Who sent it, as the caller tells senders apart (a peer's id, a client's address). */
  readonly sender: string;
  readonly digest: string;
  readonly count: number;
  /** The parts in so far, by number. */
  readonly parts: Map<number, Buffer>;
  /** What it holds, its parts' bytes and their bookkeeping (`PART_COST`, `PARTIAL_COST`). */
  cost: number;
  /** Every part came signed. */
  signed: boolean;
}

/** Bytes counted for a partial message and for each part, besides the parts' data. */
const PARTIAL_COST = 512;
const PART_COST = 128;
/** Partial messages a receiver keeps in all, whatever their size. */
export const MAX_PARTIALS = 256;

export type Defragmented =
  | { readonly kind: 'partial' }
  /** The message, parsed (not yet decoded), and whether all its parts were signed. */
  | { readonly kind: 'complete'; readonly value: unknown; readonly signed: boolean;
      readonly bytes: number; readonly parts: number }
  /** The parts put together are not a message: the digest or the JSON is wrong. */
  | { readonly kind: 'invalid'; readonly detail: string };

/**
 * Collects fragments; hands back a message once all of its parts are in. Bounded in what it holds
 * (`maxBytes`, with the bookkeeping of every partial message and part counted, so empty parts
 * cost too), in partial messages (`maxPartials`), and per sender (`maxPerSender`); past a bound
 * the oldest partial message goes first. O(1) per part, but for the copy of its data.
 */
export class Defragmenter {
  /** Partial messages, oldest first (a Map keeps insertion order). */
  private readonly partials = new Map<string, Partial>();
  /** Each sender's partial messages' keys, oldest first. */
  private readonly bySender = new Map<string, string[]>();
  private bytes = 0;
  /** Partial messages dropped to stay within the bounds. */
  evicted = 0;

  constructor(private readonly maxBytes = MAX_PARTIAL_BYTES,
    private readonly maxPerSender = MAX_PARTIAL_PER_SENDER,
    private readonly maxPartials = MAX_PARTIALS) {}

  /** Bytes held in partial messages, bookkeeping included. */
  get held(): number {
    return this.bytes;
  }

  /** Partial messages held. */
  get pending(): number {
    return this.partials.size;
  }

  /** `sender`: who sent it, as the caller tells senders apart; default the claimed `src`. */
  accept(f: Fragment, signed = false, sender: string = f.src): Defragmented {
    if (f.part >= f.parts) return { kind: 'invalid', detail: `part ${f.part} of ${f.parts}` };
    // not the id: a message sent again whole (a heartbeat's unchanged AppendEntries, a client's
    // retry of the same datagram) has the same digest, and its parts fill the first send's gaps
    const key = `${sender} ${f.src} ${f.digest} ${f.parts}`;
    let p = this.partials.get(key);
    if (p === undefined) {
      p = { key, sender, digest: f.digest, count: f.parts, parts: new Map(), cost: PARTIAL_COST,
        signed: true };
      this.partials.set(key, p);
      this.bytes += PARTIAL_COST;
      const mine = this.bySender.get(sender) ?? [];
      mine.push(key);
      this.bySender.set(sender, mine);
      while (mine.length > this.maxPerSender) this.evict(mine[0] as string);
      for (const oldest of this.partials.keys()) {
        if (this.partials.size <= this.maxPartials) break;
        this.evict(oldest);
      }
    }
    if (!p.parts.has(f.part)) {
      const data = Buffer.from(f.data, 'base64');
      p.parts.set(f.part, data);
      p.cost += data.length + PART_COST;
      this.bytes += data.length + PART_COST;
    }
    p.signed &&= signed;
    if (p.parts.size < p.count) {
      this.evictBeyondBytes(p);
      return { kind: 'partial' };
    }
    this.drop(p);
    return assemble(p);
  }

  private drop(p: Partial): void {
    this.partials.delete(p.key);
    this.bytes -= p.cost;
    const mine = this.bySender.get(p.sender);
    if (mine === undefined) return;
    const k = mine.indexOf(p.key); // at most maxPerSender long
    if (k >= 0) mine.splice(k, 1);
    if (mine.length === 0) this.bySender.delete(p.sender);
  }

  private evict(key: string): void {
    const p = this.partials.get(key);
    if (p === undefined) return;
    this.drop(p);
    this.evicted++;
  }

  /** Oldest first, but never the one a part just joined, unless it alone is over the bound. */
  private evictBeyondBytes(keep: Partial): void {
    for (const q of this.partials.values()) {
      if (this.bytes <= this.maxBytes) return;
      if (q !== keep) this.evict(q.key);
    }
    if (this.bytes > this.maxBytes) this.evict(keep.key);
  }
}

function assemble(p: Partial): Defragmented {
  const payload = Buffer.concat(Array.from({ length: p.count }, (_, k) => p.parts.get(k) as Buffer));
  if (digestOf(payload) !== p.digest) {
    return { kind: 'invalid', detail: 'parts put together do not match their digest' };
  }
  const text = decodeUtf8(payload);
  if (text === undefined) return { kind: 'invalid', detail: 'parts put together are not UTF-8' };
  const parsed = parseBoundedJson(text, MESSAGE_JSON);
  if (E.isLeft(parsed)) return { kind: 'invalid', detail: parsed.left.detail };
  return { kind: 'complete', value: parsed.right, signed: p.signed, bytes: payload.length,
    parts: p.count };
}
