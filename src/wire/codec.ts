/**
 * Datagram bytes <-> `Message`. The only code that sees `unknown`: a datagram becomes a `Message`
 * or a `WireError` that names the offending fields. Nothing here throws on any input [STYLE §4:
 * bad input never crashes a replica]; the caller counts the error by `errorKind` and drops it.
 */
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts/lib/index.js';
import { Message } from './messages.js';
import { decodeUtf8, parseBoundedJson, type JsonLimits } from './json.js';

/** "Keep every datagram well below 64 KiB": anything longer is refused unread. */
export const MAX_DATAGRAM_BYTES = 60_000;

/**
 * The shape a datagram's JSON may have [STYLE §9]: the deepest valid message nests 4 levels (an
 * AppendEntries' entries, an entry, its command) and the widest holds MAX_ENTRIES_PER_MESSAGE
 * entries; the protocol allows extra fields, so the bounds leave room, but not for recursion.
 */
export const DATAGRAM_JSON: JsonLimits = { maxChars: MAX_DATAGRAM_BYTES, maxDepth: 16,
  maxMembers: 1024 };

/** At most this many distinct paths are kept in one error, and this many reasons in its detail. */
export const MAX_REPORTED_PATHS = 32;
const MAX_DETAIL_REASONS = 3;

/** The stable error kinds, for counters: a dropped datagram is counted under exactly one. */
export const WIRE_ERROR_KINDS = [
  'too-large',
  'not-json',
  'too-deep',
  'not-object',
  'unknown-type',
  'invalid',
] as const;
export type WireErrorKind = (typeof WIRE_ERROR_KINDS)[number];

export interface WireError {
  readonly kind: WireErrorKind;
  /** One line for a log: the message type, then `path: reason` for the first few errors. */
  readonly detail: string;
  /** Dotted paths of the offending fields (`entries.0.term`); empty when the whole datagram is. */
  readonly paths: string[];
}

/** The counter key of an error: one of `WIRE_ERROR_KINDS`, never anything taken from the input. */
export function errorKind(e: WireError): WireErrorKind {
  return e.kind;
}


/** The UTF-8 length of `s` (a lone surrogate counts 3, as TextEncoder writes U+FFFD for it). */
export function utf8ByteLength(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Whether a string fits: a UTF-8 byte is at least one UTF-16 unit, and a unit at most 3 bytes. */
function fits(s: string): boolean {
  if (s.length > MAX_DATAGRAM_BYTES) return false;
  return s.length * 3 <= MAX_DATAGRAM_BYTES || utf8ByteLength(s) <= MAX_DATAGRAM_BYTES;
}

const wireError = (kind: WireErrorKind, detail: string, paths: string[] = []): E.Either<
  WireError,
  never
> => E.left({ kind, detail, paths });

/** A short, bounded rendering of an input value for error details (never the whole value). */
export function show(u: unknown): string {
  if (u === undefined) return 'nothing';
  if (typeof u === 'string') {
    return JSON.stringify(u.length > 32 ? `${u.slice(0, 32)}...` : u);
  }
  if (Array.isArray(u)) return `an array of length ${u.length}`;
  if (u === null || typeof u !== 'object') return String(u);
  return 'an object';
}

/**
 * The data path of an io-ts context. Combinators that do not descend into the data (intersection
 * members, union branches) push an entry whose input is the same value as its parent's; those
 * entries are skipped, so that `get`'s `seq` is `seq` and not `1.seq`. Decoded JSON has no shared
 * or cyclic values, so a field or an element is never the same value as its container.
 */
export function pathOf(context: t.Context): string {
  const keys: string[] = [];
  for (let i = 1; i < context.length; i++) {
    const entry = context[i];
    const parent = context[i - 1];
    if (entry === undefined || parent === undefined) continue;
    if (entry.actual === parent.actual) continue;
    keys.push(entry.key);
  }
  return keys.join('.');
}

export function reasonOf(error: t.ValidationError): string {
  const last = error.context[error.context.length - 1];
  const expected = error.message ?? `expected ${last?.type.name ?? 'a value'}`;
  if (error.value === undefined) return `missing (${expected})`;
  return `${expected}, got ${show(error.value)}`;
}

/**
 * A bounded report of a codec's errors: at most MAX_REPORTED_PATHS paths and a few reasons, each
 * showing at most a short prefix of the offending value (`show`), never the value itself.
 */
export function invalid(type: string, errors: t.Errors): WireError {
  const paths: string[] = [];
  const reasons: string[] = [];
  for (const error of errors) {
    const path = pathOf(error.context);
    if (paths.includes(path)) continue;
    if (paths.length < MAX_REPORTED_PATHS) paths.push(path);
    if (reasons.length < MAX_DETAIL_REASONS) reasons.push(`${path}: ${reasonOf(error)}`);
  }
  const more = paths.length > reasons.length ? ` (and ${paths.length - reasons.length} more)` : '';
  return { kind: 'invalid', detail: `${type}: ${reasons.join('; ')}${more}`, paths };
}

function describeNonObject(u: unknown): string {
  if (u === null) return 'null';
  if (Array.isArray(u)) return 'an array';
  return `a ${typeof u}`;
}

function parse(text: string): E.Either<WireError, unknown> {
  const parsed = parseBoundedJson(text, DATAGRAM_JSON);
  if (E.isRight(parsed)) return parsed;
  const { kind, detail } = parsed.left;
  return wireError(kind === 'shape' ? 'too-deep' : kind === 'syntax' ? 'not-json' : 'too-large',
    detail);
}

function toText(bytes: Uint8Array | string): E.Either<WireError, string> {
  if (typeof bytes === 'string') {
    return fits(bytes)
      ? E.right(bytes)
      : wireError('too-large', `datagram of more than ${MAX_DATAGRAM_BYTES} bytes`);
  }
  if (bytes.length > MAX_DATAGRAM_BYTES) {
    return wireError('too-large', `datagram of ${bytes.length} bytes > ${MAX_DATAGRAM_BYTES}`);
  }
  const text = decodeUtf8(bytes);
  return text === undefined ? wireError('not-json', 'not valid UTF-8') : E.right(text);
}

/**
 * A datagram's JSON value: its size, UTF-8, its shape (`DATAGRAM_JSON`), then JSON. Whatever reads
 * a datagram starts here, so nothing walks a value deeper or wider than the limits.
 */
export function parseDatagram(bytes: Uint8Array | string): E.Either<WireError, unknown> {
  const text = toText(bytes);
  return E.isLeft(text) ? text : parse(text.right);
}

/** Decode one datagram: `parseDatagram`, then an object, a known `type`, then its codec. */
export function decodeDatagram(bytes: Uint8Array | string): E.Either<WireError, Message> {
  const parsed = parseDatagram(bytes);
  return E.isLeft(parsed) ? parsed : decodeMessage(parsed.right);
}

/**
 * A message from a JSON value: what `decodeDatagram` does after parsing. An in-process driver (the
 * deterministic simulation) hands values over without text, and validates them with this.
 */
export function decodeMessage(u: unknown): E.Either<WireError, Message> {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) {
    return wireError('not-object', `expected a JSON object, got ${describeNonObject(u)}`);
  }
  const type: unknown = Object.hasOwn(u, 'type')
    ? (u as Record<string, unknown>)['type']
    : undefined;
  if (typeof type !== 'string') {
    const reason = type === undefined ? 'missing' : `expected a string, got ${show(type)}`;
    return wireError('invalid', `type: ${reason}`, ['type']);
  }
  const codec = Message.member(type);
  if (codec === undefined) {
    return wireError('unknown-type', `unknown message type ${show(type)}`, ['type']);
  }
  const decoded = codec.decode(u);
  return E.isLeft(decoded) ? E.left(invalid(type, decoded.left)) : decoded;
}

/**
 * Direct mode's wire format, stamped in every datagram its replicas and clients send
 * (`{"v": 3, ...}`, `stamped`). 3: snapshots and log entries may carry configurations [D§4];
 * 2: the same datagrams without them; 1: datagrams of builds before formats were numbered, which
 * name none. Older formats are still read, so that replicas can be upgraded one at a time; a
 * datagram of a newer format is dropped and counted (`newer-format`), never guessed at. The
 * simulator-routed protocol has no format field: its replicas neither send nor check one.
 */
export const WIRE_FORMAT = 3;

/** A datagram's JSON object `text` with this build's wire format as its first field. */
export function stamped(text: string): string {
  return `{"v":${WIRE_FORMAT},${text.slice(1)}`;
}

/**
 * The wire format a datagram's value claims: 1 if it names none; undefined if its `v` is not a
 * format number.
 */
export function wireFormatOf(u: unknown): number | undefined {
  if (typeof u !== 'object' || u === null || !Object.hasOwn(u, 'v')) return 1;
  const v = (u as { v: unknown }).v;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? v : undefined;
}

/**
 * The datagram text of a message. Fields that its codec does not know are dropped, so what is sent
 * is exactly what `decodeDatagram` gives back. The caller checks the size if it matters
 * (`utf8ByteLength(text) <= MAX_DATAGRAM_BYTES`).
 */
export function encodeMessage(m: Message): string {
  return JSON.stringify(Message.encode(m));
}
