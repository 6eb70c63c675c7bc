/**
 * [STYLE §4 §9] Hostile input on every byte surface, in process: datagrams (both modes), status
 * replies, the simulator's envelope, snapshot chunk payloads, WAL records and files, scenario
 * files and the cluster layout. Each is fed grammar-aware hostile inputs (`support/hostile.ts`) and
 * must answer with a value or a bounded, one-line refusal: never a throw, never a stack overflow,
 * and within a time bound per input.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { hostileArb, MAX_UDP_PAYLOAD, type Hostile } from '../support/hostile.js';
import { decodeDatagram, WIRE_ERROR_KINDS } from '../../src/wire/codec.js';
import { decodeStatusReply } from '../../src/wire/admin.js';
import { decodeEnvelope } from '../../src/fault/codecs.js';
import { Reassembler, CHUNK_BYTES } from '../../src/wire/chunks.js';
import { decodeWalBatch } from '../../src/wire/wal.js';
import { crc32, CorruptWalError, openWal, WAL_FILE, WAL_HEADER_BYTES } from '../../src/disk/wal.js';
import { parseScenario } from '../../src/fault/scenario.js';
import { LayoutError, readLayout } from '../../src/cluster/cluster.js';
import { checkJsonShape, parseBoundedJson } from '../../src/wire/json.js';
import type { InstallSnapshotChunk, NodeId } from '../../src/wire/messages.js';

/** Per input: generous for a 65 KB input on a busy 2-core machine, far below a hang. */
const PER_INPUT_MS = 250;
const RUNS = 250;

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** `f(input)` returns within PER_INPUT_MS and does not throw. */
function bounded<T>(f: () => T): T {
  const start = performance.now();
  const value = f();
  expect(performance.now() - start).toBeLessThan(PER_INPUT_MS);
  return value;
}

const oneLine = (s: string): boolean => !s.includes('\n') && s.length <= 2000;

/** The inputs every case below is also run on, whatever fast-check draws. */
const DEEP: readonly string[] = [
  '['.repeat(5000),
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
  `{"type":"status","src":"0001","MID":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
  `{"type":"put","src":"0001","dst":"0002","leader":"FFFF","MID":"m","key":"k","value":${
    '['.repeat(30_000)}}`,
];

describe('[STYLE §9] bounded JSON', () => {
  it('refuses nesting deeper than the limit before parsing, whatever the text', () => {
    const limits = { maxChars: 1e6, maxDepth: 16, maxMembers: 100 };
    for (const text of DEEP) expect(checkJsonShape(text, limits)?.kind).toBe('shape');
    expect(checkJsonShape(`${'['.repeat(16)}${']'.repeat(16)}`, limits)).toBeUndefined();
    expect(checkJsonShape(`${'['.repeat(17)}${']'.repeat(17)}`, limits)?.kind).toBe('shape');
    // brackets inside strings do not count, escaped quotes do not end them
    expect(checkJsonShape(`["${'['.repeat(100)}\\"${'{'.repeat(100)}"]`, limits)).toBeUndefined();
    // an escaped backslash does end before the quote that closes the string
    expect(checkJsonShape(`["\\\\",${'['.repeat(17)}${']'.repeat(17)}]`, limits)?.kind)
      .toBe('shape');
  });

  it('counts the members of each array and object, not of the whole text', () => {
    const limits = { maxChars: 1e6, maxDepth: 4, maxMembers: 3 };
    expect(checkJsonShape('[1,2,3]', limits)).toBeUndefined();
    expect(checkJsonShape('[1,2,3,4]', limits)?.kind).toBe('shape');
    expect(checkJsonShape('{"a":1,"b":2,"c":3,"d":4}', limits)?.kind).toBe('shape');
    expect(checkJsonShape('[[1,2,3],[1,2,3],[1,2,3]]', limits)).toBeUndefined();
    expect(checkJsonShape('["a,b,c,d,e"]', limits)).toBeUndefined();
  });

  it('measures the true depth, whatever backslashes, quotes and brackets the strings hold', () => {
    const tricky = fc.string({ unit: fc.constantFrom('\\', '"', '[', ']', '{', '}', ',', 'a') });
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, tricky, fc.array(tie('v'), { maxLength: 3 }),
        fc.dictionary(tricky, tie('v'), { maxKeys: 3 })),
    })).v;
    const depthOf = (v: unknown): number => (typeof v !== 'object' || v === null ? 0
      : 1 + Math.max(0, ...Object.values(v as object).map(depthOf)));
    fc.assert(fc.property(value, (v) => {
      const text = JSON.stringify(v);
      const d = depthOf(v);
      const limits = { maxChars: 1e6, maxDepth: d, maxMembers: 1e6 };
      expect(checkJsonShape(text, limits)).toBeUndefined();
      if (d > 0) expect(checkJsonShape(text, { ...limits, maxDepth: d - 1 })?.kind).toBe('shape');
    }), { numRuns: 500 });
  });

  it('never throws, and agrees with JSON.parse on what it accepts', () => {
    fc.assert(fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
      const r = parseBoundedJson(text, { maxChars: 1e6, maxDepth: 64, maxMembers: 1e6 });
      let parsed: unknown;
      let ok = true;
      try { parsed = JSON.parse(text); } catch { ok = false; }
      expect(r._tag === 'Right').toBe(ok);
      if (r._tag === 'Right') expect(r.right).toEqual(parsed);
    }), { numRuns: 500 });
  });
});

describe('[STYLE §4] every datagram surface answers hostile bytes with a counted refusal', () => {
  const cases = (): fc.Arbitrary<Hostile> => hostileArb(MAX_UDP_PAYLOAD);

  it('decodeDatagram: a message or one of the wire error kinds, with a one-line detail', () => {
    for (const text of DEEP) {
      expect(bounded(() => decodeDatagram(Buffer.from(text)))._tag).toBe('Left');
    }
    fc.assert(fc.property(cases(), (h) => {
      const r = bounded(() => decodeDatagram(h.bytes));
      if (r._tag === 'Left') {
        expect(WIRE_ERROR_KINDS).toContain(r.left.kind);
        expect(oneLine(r.left.detail)).toBe(true);
      }
    }), { numRuns: RUNS });
  });

  it('status replies and the simulator envelope refuse the same inputs without throwing', () => {
    for (const text of DEEP) {
      expect(bounded(() => decodeStatusReply(Buffer.from(text)))._tag).toBe('Left');
      expect(bounded(() => decodeEnvelope(text))._tag).toBe('Left');
    }
    fc.assert(fc.property(cases(), (h) => {
      const status = bounded(() => decodeStatusReply(h.bytes));
      if (status._tag === 'Left') expect(oneLine(status.left.detail)).toBe(true);
      const envelope = bounded(() => decodeEnvelope(h.bytes.toString('utf8')));
      if (envelope._tag === 'Left') expect(oneLine(envelope.left)).toBe(true);
    }), { numRuns: RUNS });
  });

  it('a snapshot whose reassembled payload is hostile is refused as invalid', () => {
    const chunk = (data: Buffer, k: number, n: number): InstallSnapshotChunk => ({
      src: '0001' as NodeId, dst: '0002' as NodeId, leader: '0001' as NodeId,
      type: 'InstallSnapshotChunk', term: 3 as never, lastIncludedIndex: 9 as never,
      lastIncludedTerm: 2 as never, readRound: 0, chunk: k, chunks: n,
      data: data.subarray(k * CHUNK_BYTES, (k + 1) * CHUNK_BYTES).toString('base64'),
    });
    const payloads: Buffer[] = DEEP.map((t) => Buffer.from(t));
    fc.assert(fc.property(cases(), (h) => {
      payloads.push(h.bytes);
      const r = new Reassembler();
      const n = Math.max(1, Math.ceil(h.bytes.length / CHUNK_BYTES));
      let last = r.accept(chunk(h.bytes, 0, n));
      for (let k = 1; k < n; k++) last = bounded(() => r.accept(chunk(h.bytes, k, n)));
      expect(['invalid', 'complete']).toContain(last.kind);
    }), { numRuns: 100 });
    for (const p of payloads.slice(0, DEEP.length)) {
      const r = new Reassembler();
      const n = Math.max(1, Math.ceil(p.length / CHUNK_BYTES));
      let last = r.accept(chunk(p, 0, n));
      for (let k = 1; k < n; k++) last = r.accept(chunk(p, k, n));
      expect(last.kind).toBe('invalid');
    }
  });
});

describe('[STYLE §4] files: WAL records, scenarios, the layout: one-line refusals', () => {
  /** A record with good checksums around `payload`: only the payload's decoding can refuse it. */
  function record(payload: Buffer): Buffer {
    const header = Buffer.alloc(WAL_HEADER_BYTES);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32(payload), 4);
    header.writeUInt32LE(crc32(header, 0, 8), 8);
    return Buffer.concat([header, payload]);
  }

  it('decodeWalBatch refuses every hostile payload with a short reason', () => {
    for (const text of DEEP) {
      expect(bounded(() => decodeWalBatch(Buffer.from(text)))._tag).toBe('Left');
    }
    fc.assert(fc.property(hostileArb(1 << 20), (h) => {
      const r = bounded(() => decodeWalBatch(h.bytes));
      if (r._tag === 'Left') expect(oneLine(r.left.detail)).toBe(true);
    }), { numRuns: RUNS });
  });

  it('a replica refuses a log whose checksummed record is hostile, naming file and offset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftkv-hostile-wal-'));
    dirs.push(dir);
    fc.assert(fc.property(hostileArb(1 << 20), (h) => {
      writeFileSync(join(dir, WAL_FILE), record(h.bytes));
      try {
        const { wal } = bounded(() => openWal(dir));
        wal.close(); // a hostile input that happens to be a valid batch
      } catch (e) {
        expect(e).toBeInstanceOf(CorruptWalError);
        expect(oneLine((e as Error).message)).toBe(true);
      }
    }), { numRuns: 60 });
  });

  it('parseScenario refuses hostile scenario files with one line per problem', () => {
    for (const text of DEEP) expect(bounded(() => parseScenario(text))._tag).toBe('Left');
    fc.assert(fc.property(hostileArb(1 << 20), (h) => {
      const r = bounded(() => parseScenario(h.bytes.toString('utf8')));
      if (r._tag === 'Left') for (const line of r.left) expect(oneLine(line)).toBe(true);
    }), { numRuns: RUNS });
  });

  it('readLayout refuses a hostile cluster.json with a LayoutError of one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftkv-hostile-layout-'));
    dirs.push(dir);
    fc.assert(fc.property(hostileArb(1 << 20), (h) => {
      writeFileSync(join(dir, 'cluster.json'), h.bytes);
      try {
        bounded(() => readLayout(dir));
      } catch (e) {
        expect(e).toBeInstanceOf(LayoutError);
        expect(oneLine((e as Error).message)).toBe(true);
      }
    }), { numRuns: 100 });
  });
});
