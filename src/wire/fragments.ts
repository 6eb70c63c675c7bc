/**
 * Messages larger than a datagram, on the wire: a put of a large value, the answer to its get, an
 * AppendEntries that carries it. The sender cuts the message's UTF-8 JSON into `Fragment`
 * datagrams; the receiver puts them together and handles the message as if it had arrived whole
 * (its codec, its admission). Until every part is in, the message has not arrived: a lost part is
 * a lost message, which Raft and the clients already repair by resending. So fragmenting changes
 * nothing the spec models (its messages are the whole ones), as IP fragmentation changes nothing
 * for TCP.
 *
 * The parts of one message share `src`, `id` and `digest` (the SHA-256 of the whole, first 16
 * bytes): parts of two different messages never fit together, even if a restarted sender reuses
 * an id, and a put is never assembled from halves of two values. A receiver keeps a bounded number
 * of partial messages, per sender and in bytes, dropping the oldest first, so a flood of parts
 * that never complete cannot grow its memory.
 */
import { createHash } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { MAX_FRAGMENTS, type Fragment, type Message, type NodeId } from './messages.js';
import { encodeMessage, MAX_DATAGRAM_BYTES } from './codec.js';
import { parseBoundedJson, type JsonLimits } from './json.js';

/** Payload bytes per fragment: 30,000 bytes are 40,000 base64 characters, inside a datagram. */
export const FRAGMENT_BYTES = 30_000;
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
 * The datagram texts that carry `m`: its own JSON if that fits one datagram, else its fragments
 * (numbered `id`); none if it is over `MAX_MESSAGE_BYTES`.
 */
export function wireTexts(m: Message, id: number): string[] {
  const text = encodeMessage(m);
  const parts = fragmentsOf(text, { src: m.src, dst: m.dst, leader: m.leader }, id);
  return parts === undefined ? [text] : parts.map(encodeMessage);
}

interface Partial {
  readonly key: string;
  readonly src: string;
  readonly digest: string;
  readonly parts: (Buffer | undefined)[];
  received: number;
  bytes: number;
  /** Every part came signed. */
  signed: boolean;
}

export type Defragmented =
  | { readonly kind: 'partial' }
  /** The message, parsed (not yet decoded), and whether all its parts were signed. */
  | { readonly kind: 'complete'; readonly value: unknown; readonly signed: boolean;
      readonly bytes: number; readonly parts: number }
  /** The parts put together are not a message: the digest or the JSON is wrong. */
  | { readonly kind: 'invalid'; readonly detail: string };

/** Collects fragments; hands back a message once all of its parts are in. */
export class Defragmenter {
  /** Partial messages, oldest first (a Map keeps insertion order). */
  private readonly partials = new Map<string, Partial>();
  private bytes = 0;
  /** Partial messages dropped to stay within the bounds. */
  evicted = 0;

  constructor(private readonly maxBytes = MAX_PARTIAL_BYTES,
    private readonly maxPerSender = MAX_PARTIAL_PER_SENDER) {}

  /** Bytes held in partial messages. */
  get held(): number {
    return this.bytes;
  }

  accept(f: Fragment, signed = false): Defragmented {
    if (f.part >= f.parts) return { kind: 'invalid', detail: `part ${f.part} of ${f.parts}` };
    const key = `${f.src} ${f.id} ${f.digest} ${f.parts}`;
    let p = this.partials.get(key);
    if (p === undefined) {
      p = { key, src: f.src, digest: f.digest, parts: new Array<Buffer | undefined>(f.parts),
        received: 0, bytes: 0, signed: true };
      this.partials.set(key, p);
      this.evictBeyondPerSender(f.src);
    }
    if (p.parts[f.part] === undefined) {
      const data = Buffer.from(f.data, 'base64');
      p.parts[f.part] = data;
      p.received++;
      p.bytes += data.length;
      this.bytes += data.length;
    }
    p.signed &&= signed;
    if (p.received < p.parts.length) {
      this.evictBeyondBytes(p);
      return { kind: 'partial' };
    }
    this.drop(p);
    return assemble(p);
  }

  private drop(p: Partial): void {
    this.partials.delete(p.key);
    this.bytes -= p.bytes;
  }

  private evictBeyondPerSender(src: string): void {
    const mine = [...this.partials.values()].filter((q) => q.src === src);
    for (const q of mine.slice(0, Math.max(0, mine.length - this.maxPerSender))) {
      this.drop(q);
      this.evicted++;
    }
  }

  /** Oldest first, but never the one a part just joined, unless it alone is over the bound. */
  private evictBeyondBytes(keep: Partial): void {
    for (const q of this.partials.values()) {
      if (this.bytes <= this.maxBytes) return;
      if (q === keep) continue;
      this.drop(q);
      this.evicted++;
    }
    if (this.bytes > this.maxBytes) {
      this.drop(keep);
      this.evicted++;
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function assemble(p: Partial): Defragmented {
  const payload = Buffer.concat(p.parts as Buffer[]);
  if (digestOf(payload) !== p.digest) {
    return { kind: 'invalid', detail: 'parts put together do not match their digest' };
  }
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { kind: 'invalid', detail: 'parts put together are not UTF-8' };
  }
  const parsed = parseBoundedJson(text, MESSAGE_JSON);
  if (E.isLeft(parsed)) return { kind: 'invalid', detail: parsed.left.detail };
  return { kind: 'complete', value: parsed.right, signed: p.signed, bytes: payload.length,
    parts: p.parts.length };
}
