/**
 * Messages too large for a datagram travel as fragments (`src/wire/fragments.ts`): every part is a
 * datagram of its own; parts put together in any order, with duplicates, give back the message;
 * parts of different messages never combine; a receiver's memory for partial messages is bounded.
 */
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  decodeDatagram, decodeMessage, MAX_DATAGRAM_BYTES, MAX_VALUE_LENGTH, type Fragment, type Message,
  type NodeId,
} from '../../src/wire/index.js';
import {
  Defragmenter, FRAGMENT_BYTES, MAX_MESSAGE_BYTES, MAX_PARTIAL_BYTES, MAX_PARTIALS, fragmentsOf,
  wireTexts,
} from '../../src/wire/fragments.js';
import { MAX_FRAGMENTS, MAX_KEY_LENGTH } from '../../src/wire/messages.js';

const put = (value: string, key = 'k'): Message => ({ type: 'put', src: '8001' as NodeId,
  dst: '0000' as NodeId, leader: 'FFFF' as NodeId, MID: 'm1', key, value, seq: 3 }) as Message;

const partsOf = (m: Message, id = 1): Fragment[] => wireTexts(m, id).map((t) => {
  const d = decodeDatagram(t);
  if (E.isLeft(d) || d.right.type !== 'Fragment') throw new Error('not a fragment');
  return d.right;
});

/** Feeds `parts` in order; the messages completed, decoded. */
function feed(d: Defragmenter, parts: readonly Fragment[]): Message[] {
  const done: Message[] = [];
  for (const p of parts) {
    const r = d.accept(p);
    if (r.kind === 'invalid') throw new Error(r.detail);
    if (r.kind === 'complete') {
      const m = decodeMessage(r.value);
      if (E.isLeft(m)) throw new Error(m.left.detail);
      done.push(m.right);
    }
  }
  return done;
}

describe('fragments: a message larger than a datagram', () => {
  it('a message that fits goes whole; a 1 MiB put goes as datagrams that each fit', () => {
    expect(wireTexts(put('small'), 1)).toHaveLength(1);
    const big = put('v'.repeat(MAX_VALUE_LENGTH));
    const texts = wireTexts(big, 9);
    expect(texts.length).toBe(Math.ceil((MAX_VALUE_LENGTH + 100) / FRAGMENT_BYTES));
    for (const t of texts) expect(Buffer.byteLength(t)).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
    expect(feed(new Defragmenter(), partsOf(big))).toEqual([big]);
  });

  it('its parts in any order, duplicated, give back the message whole: once, or twice when the ' +
    'duplicates complete it again (a duplicated message, as a duplicated datagram)', () => {
    const big = put('\u00e9\u{1F600}x'.repeat(40_000));
    const parts = partsOf(big);
    fc.assert(fc.property(fc.shuffledSubarray([...parts, ...parts],
      { minLength: 2 * parts.length }), (order) => {
      const got = feed(new Defragmenter(), order);
      expect(got.length === 1 || got.length === 2).toBe(true);
      for (const m of got) expect(m).toEqual(big);
    }), { numRuns: 50 });
    // every part once, in any order: exactly once
    fc.assert(fc.property(fc.shuffledSubarray(parts, { minLength: parts.length }), (order) => {
      expect(feed(new Defragmenter(), order)).toEqual([big]);
    }), { numRuns: 50 });
  });

  it('parts of two messages with the same sender and id never combine: each comes back whole',
    () => {
      // same length, so the same number of parts: only the digest tells them apart
      const a = put('a'.repeat(100_000));
      const b = put('b'.repeat(100_000));
      const pa = partsOf(a, 5);
      const pb = partsOf(b, 5);
      expect(pa.length).toBe(pb.length);
      const mixed = pa.flatMap((p, i) => [p, pb[i] as Fragment]);
      expect(feed(new Defragmenter(), mixed)).toEqual([a, b]);
      // a part that claims another message's digest makes that message fail, not change
      const forged = pa.map((p, i) => (i === 0 ? { ...p, data: pb[0]?.data as string } : p));
      const d = new Defragmenter();
      const results = forged.map((p) => d.accept(p).kind);
      expect(results.at(-1)).toBe('invalid');
    });

  it('keeps at most 4 partial messages per sender and 64 MiB in all, oldest dropped first', () => {
    const d = new Defragmenter(200_000, 4);
    const firsts = Array.from({ length: 6 }, (_, i) => partsOf(put(`${i}`.repeat(70_000)), i));
    for (const parts of firsts) d.accept(parts[0] as Fragment);
    expect(d.evicted).toBe(2);
    // the two oldest are gone: completing them starts over, the newest completes
    expect(feed(d, (firsts[5] as Fragment[]).slice(1))).toHaveLength(1);
    expect(feed(d, (firsts[0] as Fragment[]).slice(1))).toEqual([]);
    // bytes: other senders' parts push the oldest out once 200,000 bytes are held
    const other = (src: string, n: number) => partsOf({ ...put('z'.repeat(70_000)),
      src: src as NodeId, MID: `${n}` } as Message, n);
    for (let n = 0; n < 10; n++) d.accept((other(`900${n}`, n)[0]) as Fragment);
    expect(d.held).toBeLessThanOrEqual(200_000);
  });

  it('refuses a message over the largest size, and a part numbered past its count', () => {
    const text = 'x'.repeat(MAX_MESSAGE_BYTES + 1);
    expect(fragmentsOf(text, { src: '0001' as NodeId, dst: '0002' as NodeId,
      leader: 'FFFF' as NodeId }, 1)).toEqual([]);
    const [first] = partsOf(put('v'.repeat(100_000)));
    expect(new Defragmenter().accept({ ...first as Fragment, part: 7, parts: 4 }).kind)
      .toBe('invalid');
  });

  it('a flood of empty parts that never complete, from many senders, holds a bounded number ' +
    'of partial messages and bytes', () => {
    const d = new Defragmenter();
    for (let n = 0; n < 20_000; n++) {
      const r = d.accept({ type: 'Fragment', src: (0x8000 + (n % 4096)).toString(16)
        .toUpperCase() as NodeId, dst: '0000' as NodeId, leader: 'FFFF' as NodeId, id: n,
      digest: 'q83vEjRWeJCrze8SNFZ4kA', part: 0, parts: MAX_FRAGMENTS, data: '' },
      false, `10.0.0.${n % 200}:9`);
      expect(r.kind).toBe('partial');
    }
    expect(d.pending).toBeLessThanOrEqual(MAX_PARTIALS);
    expect(d.held).toBeLessThanOrEqual(MAX_PARTIAL_BYTES);
    expect(d.evicted).toBe(20_000 - d.pending);
  });

  it('the largest message a legal request leads to fits: a cas of the longest key and two ' +
    'longest values, every character escaped, alone in an AppendEntries', () => {
    const escaped = '\u0001'.repeat(MAX_VALUE_LENGTH);
    const cas = { kind: 'cas', client: '8001', session: 0, seq: 1, key: '\u0001'.repeat(MAX_KEY_LENGTH),
      expected: escaped, value: escaped };
    const m = { type: 'AppendEntriesRequest', src: '0000' as NodeId, dst: '0001' as NodeId,
      leader: '0000' as NodeId, term: 9, prevLogIndex: 1, prevLogTerm: 1,
      entries: [{ term: 9, cmd: cas }], leaderCommit: 1, readRound: 1 } as unknown as Message;
    const texts = wireTexts(m, 1);
    expect(texts.length).toBeGreaterThan(400);
    expect(texts.length).toBeLessThanOrEqual(MAX_FRAGMENTS);
  });
});
