/**
 * [§7 Figure 13 offset/data/done] A snapshot travels as datagram-sized chunks: every chunk fits
 * in a datagram and decodes with the wire codecs, any order and any duplicates reassemble the
 * same request, a resend fills the gaps of a lossy network, and a damaged payload is refused.
 */
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { decodeDatagram, encodeMessage, MAX_DATAGRAM_BYTES } from '../../src/wire/codec.js';
import { Reassembler, toDatagrams } from '../../src/wire/chunks.js';
import type {
  InstallSnapshotChunk, InstallSnapshotRequest, Message, LogIndex, NodeId,
} from '../../src/wire/messages.js';
import { Rng } from '../../src/fault/rng.js';

/** A snapshot of `keys` keys with values of `bytes` characters (some of them not ASCII). */
function request(keys: number, bytes: number, readRound = 3): InstallSnapshotRequest {
  const kv = Array.from({ length: keys }, (_, i): [string, string] =>
    [`key-${String(i).padStart(6, '0')}`, `${i % 7 === 0 ? 'é€' : 'v'}${'x'.repeat(bytes)}`]);
  return { type: 'InstallSnapshotRequest', src: '0001' as NodeId, dst: '0002' as NodeId,
    leader: '0001' as NodeId, term: 4, lastIncludedIndex: 9000, lastIncludedTerm: 3, kv,
    sessions: [[3, { seq: 12, value: 'v', last: 3 as LogIndex }]],
    terms: [{ index: 1, term: 1 }, { index: 4000, term: 3 }], readRound,
  } as unknown as InstallSnapshotRequest;
}

const chunksOf = (m: Message): InstallSnapshotChunk[] => toDatagrams(m) as InstallSnapshotChunk[];

describe('[§7] InstallSnapshot in chunks', () => {
  it('other messages go as they are', () => {
    const hello = { type: 'hello', src: '0001', dst: 'FFFF', leader: 'FFFF' } as Message;
    expect(toDatagrams(hello)).toEqual([hello]);
  });

  it('a 1 MB snapshot becomes chunks that each fit in a datagram and decode', () => {
    const m = request(4000, 250);
    const chunks = chunksOf(m);
    expect(chunks.length).toBeGreaterThan(30);
    for (const c of chunks) {
      const bytes = Buffer.byteLength(encodeMessage(c));
      expect(bytes).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
      expect(decodeDatagram(encodeMessage(c))).toEqual(E.right(c));
    }
    expect(chunks.map((c) => c.chunk)).toEqual(chunks.map((_, i) => i));
  });

  it('a payload encoded once is reused only for the same snapshot, at the same chunk size', () => {
    const m = request(300, 40);
    const again = { ...m, dst: '0003' as NodeId, readRound: 9 } as InstallSnapshotRequest;
    expect(chunksOf(again).map((c) => c.data)).toEqual(chunksOf(m).map((c) => c.data));
    // the same kv array with other sessions, or another chunk size, is encoded afresh
    const other = { ...m, sessions: [] } as unknown as InstallSnapshotRequest;
    const r = new Reassembler();
    const whole = chunksOf(other).map((c) => r.accept(c)).find((x) => x.kind === 'complete');
    expect(whole).toMatchObject({ kind: 'complete', message: other });
    // [D§4.1] the configuration travels with the snapshot, and tells two encodings apart too
    const withConfig = { ...m, config: { voters: ['0001', '0002'], learners: ['0003'] } } as
      unknown as InstallSnapshotRequest;
    const r3 = new Reassembler();
    expect(chunksOf(withConfig).map((c) => r3.accept(c)).find((x) => x.kind === 'complete'))
      .toMatchObject({ kind: 'complete', message: withConfig });
    const small = toDatagrams(m, 1000) as InstallSnapshotChunk[];
    expect(small.length).toBeGreaterThan(chunksOf(m).length);
    const r2 = new Reassembler();
    expect(small.map((c) => r2.accept(c)).find((x) => x.kind === 'complete'))
      .toMatchObject({ kind: 'complete', message: m });
  });

  it('reassembles the same request from shuffled, duplicated chunks', () => {
    const m = request(1500, 100);
    const rng = new Rng(7);
    const chunks = chunksOf(m);
    const shuffled = [...chunks, ...chunks.slice(0, 3)].map((c) => ({ c, k: rng.int(1000) }))
      .sort((a, b) => a.k - b.k).map(({ c }) => c);
    const r = new Reassembler();
    const results = shuffled.map((c) => r.accept(c));
    const complete = results.filter((x) => x.kind === 'complete');
    expect(complete).toHaveLength(1);
    expect(complete[0]).toMatchObject({ kind: 'complete', message: m, chunks: chunks.length });
  });

  it('a resend (a later read round) fills the gaps a lossy network left', () => {
    const first = chunksOf(request(1500, 100, 3));
    const resend = chunksOf(request(1500, 100, 5));
    const r = new Reassembler();
    for (const c of first.filter((_, i) => i % 2 === 0)) expect(r.accept(c).kind).toBe('partial');
    const results = resend.filter((_, i) => i % 2 === 1).map((c) => r.accept(c));
    const last = results.at(-1);
    expect(last?.kind).toBe('complete');
    if (last?.kind === 'complete') expect(last.message.readRound).toBe(5);
  });

  it('an older snapshot\'s late chunk does not discard a newer one; a newer one replaces', () => {
    const older = chunksOf({ ...request(1500, 100), lastIncludedIndex: 8000 } as Message);
    const newer = chunksOf(request(1500, 100));
    const r = new Reassembler();
    r.accept(newer[0] as InstallSnapshotChunk);
    expect(r.accept(older[1] as InstallSnapshotChunk).kind).toBe('stale');
    const rest = newer.slice(1).map((c) => r.accept(c));
    expect(rest.at(-1)?.kind).toBe('complete');
  });

  it('refuses a damaged payload and a chunk number out of range', () => {
    const [one] = chunksOf(request(10, 10));
    const r = new Reassembler();
    const bad = { ...one, data: Buffer.from('{"kv":[[1,2]]}').toString('base64') };
    expect(r.accept(bad as InstallSnapshotChunk).kind).toBe('invalid');
    expect(r.accept({ ...one, chunk: 1 } as InstallSnapshotChunk).kind).toBe('invalid-chunk');
    const notJson = { ...one, data: Buffer.from('{"kv":').toString('base64') };
    expect(r.accept(notJson as InstallSnapshotChunk)).toMatchObject({ kind: 'invalid',
      detail: expect.stringMatching(/^snapshot payload: not JSON/) as unknown });
  });

  it('refuses runs of terms that do not end at the snapshot\'s own entry', () => {
    // request(): lastIncludedIndex 9000, lastIncludedTerm 3
    for (const terms of [[{ index: 1, term: 1 }, { index: 9001, term: 3 }],
      [{ index: 1, term: 1 }, { index: 4000, term: 2 }]]) {
      const [one] = chunksOf({ ...request(1, 1), terms } as InstallSnapshotRequest);
      expect(new Reassembler().accept(one as InstallSnapshotChunk)).toMatchObject({
        kind: 'invalid', detail: 'snapshot runs of terms do not end at its last entry' });
    }
    const [good] = chunksOf(request(1, 1));
    expect(new Reassembler().accept(good as InstallSnapshotChunk).kind).toBe('complete');
  });
});
