/**
 * Hostile bytes for every surface that reads JSON or datagrams, grammar-aware: they start from
 * valid messages (so they reach the codecs, not just the parser) and break them the ways attackers
 * and broken peers do: nesting to depth 10,000, strings up to the surface's own limit, numbers JSON
 * allows but JavaScript rounds (`1e308`, `-0`, `2^53+1`), `__proto__` and `constructor` keys,
 * invalid UTF-8, truncated and concatenated frames, and very wide objects. Shared by the property
 * tests and the process-level fuzzer (`npm run fuzz`).
 */
import fc from 'fast-check';
import { messageArbs } from '../wire/arbitraries.js';
import type { MessageType } from '../../src/wire/index.js';

/** The largest UDP payload over IPv4: what a datagram surface can be sent at most. */
export const MAX_UDP_PAYLOAD = 65_507;

/** The shapes a hostile input can take; each generated input names its shape, for the counts. */
export const HOSTILE_SHAPES = ['valid', 'nested', 'nested-in-field', 'field', 'proto', 'wide',
  'utf8', 'truncated', 'concatenated', 'bytes', 'long-string'] as const;
export type HostileShape = (typeof HOSTILE_SHAPES)[number];

export interface Hostile {
  readonly shape: HostileShape;
  readonly bytes: Buffer;
}

/** Numbers JSON can write whose JavaScript value surprises: overflow, rounding, negative zero. */
const WEIRD_NUMBERS = ['1e308', '1e309', '-1e309', '-0', '9007199254740993', '-1', '0.5', '1e-400',
  '123456789012345678901234567890', 'NaN', 'Infinity', '-Infinity', '0x10', '01'];

const validMessage: fc.Arbitrary<Record<string, unknown>> = fc.constantFrom(
  ...(Object.keys(messageArbs) as MessageType[]),
).chain((type) => messageArbs[type] as fc.Arbitrary<unknown>)
  .map((m) => m as Record<string, unknown>);

const validText = validMessage.map((m) => JSON.stringify(m));

/** `depth` openers, then maybe the matching closers: `[[[`, `{"a":{"a":`, or both mixed. */
function nested(depth: number, style: number, closed: boolean): string {
  const open = ['[', '{"a":', '[{"__proto__":'][style % 3] as string;
  const close = [']', '}', '}]'][style % 3] as string;
  return open.repeat(depth) + (closed ? `1${close.repeat(depth)}` : '');
}

const depthArb = fc.oneof(
  fc.integer({ min: 1, max: 40 }),
  fc.integer({ min: 40, max: 10_000 }),
  fc.constant(10_000),
);

const nestedArb = fc.tuple(depthArb, fc.nat(2), fc.boolean())
  .map(([d, style, closed]) => nested(d, style, closed));

/** A valid message with one field (or a new one) set to raw hostile JSON text. */
function withField(m: Record<string, unknown>, field: string, raw: string): string {
  const marker = '"@@hostile@@"';
  return JSON.stringify({ ...m, [field]: '@@hostile@@' }).replace(marker, raw);
}

const fieldOf = (m: Record<string, unknown>): fc.Arbitrary<string> =>
  fc.constantFrom(...Object.keys(m), 'type', '__proto__', 'constructor', 'extra');

function longString(maxBytes: number): fc.Arbitrary<string> {
  return fc.integer({ min: 0, max: Math.max(0, maxBytes - 2) })
    .map((n) => JSON.stringify('x'.repeat(n)));
}

/** Bytes that are not UTF-8: a lone continuation, an overlong form, a surrogate, 0xFF. */
const BAD_UTF8 = [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff], [0xf4, 0x90, 0x80, 0x80]];

function spliceBytes(text: string, at: number, bad: readonly number[]): Buffer {
  const b = Buffer.from(text);
  const k = Math.min(at, b.length);
  return Buffer.concat([b.subarray(0, k), Buffer.from(bad), b.subarray(k)]);
}

/** A wide object or array: `n` members, bounded by the byte budget. */
function wide(n: number, asObject: boolean): string {
  if (asObject) return `{${Array.from({ length: n }, (_, k) => `"k${k}":${k}`).join(',')}}`;
  return `[${Array.from({ length: n }, () => '0').join(',')}]`;
}

/** Hostile inputs of at most `maxBytes` bytes (a longer one is cut there, as a sender would). */
export function hostileArb(maxBytes = MAX_UDP_PAYLOAD): fc.Arbitrary<Hostile> {
  const text = (shape: HostileShape, arb: fc.Arbitrary<string>): fc.Arbitrary<Hostile> =>
    arb.map((s) => ({ shape, bytes: Buffer.from(s).subarray(0, maxBytes) }));
  const raw = fc.oneof(nestedArb, fc.constantFrom(...WEIRD_NUMBERS), longString(maxBytes),
    fc.constantFrom('null', 'true', '[]', '{}', '""', '{"__proto__":{"type":"put"}}'));
  return fc.oneof(
    text('valid', validText),
    text('nested', nestedArb),
    text('nested-in-field', fc.tuple(validMessage, nestedArb)
      .chain(([m, n]) => fieldOf(m).map((f) => withField(m, f, n)))),
    text('field', fc.tuple(validMessage, raw)
      .chain(([m, r]) => fieldOf(m).map((f) => withField(m, f, r)))),
    text('proto', fc.tuple(validMessage, fc.constantFrom('__proto__', 'constructor', 'toString',
      'hasOwnProperty')).map(([m, k]) => JSON.stringify({ ...m, type: k })
      .replace('{', `{"${k}":{"type":"put","key":"k","value":"v"},`))),
    text('wide', fc.tuple(fc.integer({ min: 1, max: 12_000 }), fc.boolean())
      .map(([n, o]) => wide(n, o))),
    fc.tuple(validText, fc.nat(), fc.constantFrom(...BAD_UTF8)).map(([s, at, bad]) =>
      ({ shape: 'utf8' as const,
        bytes: spliceBytes(s, at % (s.length + 1), bad).subarray(0, maxBytes) })),
    text('truncated', fc.tuple(validText, fc.nat()).map(([s, at]) => s.slice(0, at % s.length))),
    text('concatenated', fc.tuple(validText, validText, fc.constantFrom('', '\n', ' '))
      .map(([a, b, sep]) => a + sep + b)),
    fc.uint8Array({ minLength: 0, maxLength: 512 })
      .map((b) => ({ shape: 'bytes' as const, bytes: Buffer.from(b) })),
    text('long-string', longString(maxBytes)),
  );
}
