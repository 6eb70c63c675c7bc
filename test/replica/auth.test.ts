/**
 * Peer authentication (`auth.ts`): a datagram signed with the shared secret verifies back to the
 * bytes that were signed, and every tampered, truncated, unsigned or foreign-keyed datagram is
 * refused.
 */
import { describe, expect, it } from 'vitest';
import { signer } from '../../src/replica/auth.js';
import { decodeDatagram, encodeMessage } from '../../src/wire/codec.js';
import type { Message } from '../../src/wire/messages.js';

const SECRET = 'correct horse battery staple';

const message = {
  src: '0001', dst: '0002', leader: '0001', type: 'AppendEntriesRequest', term: 7,
  prevLogIndex: 3, prevLogTerm: 6, leaderCommit: 3, readRound: 0,
  entries: [{ term: 7, cmd: { kind: 'put', client: '9001', session: 0, seq: 4, key: 'k', value: 'v"}' } }],
} as unknown as Message;
const json = Buffer.from(encodeMessage(message));

/** `bytes` with the byte at `offset` changed (and still printable, so only the MAC can tell). */
function flip(bytes: Buffer, offset: number): Buffer {
  const copy = Buffer.from(bytes);
  const b = copy[offset] as number;
  copy[offset] = b === 0x30 ? 0x31 : 0x30;
  return copy;
}

describe('[auth] HMAC of peer datagrams', () => {
  const auth = signer(SECRET);
  const signed = auth.sign(json);

  it('sign then verify gives back the exact bytes that were signed', () => {
    const verified = auth.verify(signed);
    expect(verified).toBeDefined();
    expect(Buffer.compare(verified as Buffer, json)).toBe(0);
    const decoded = decodeDatagram(verified as Buffer);
    expect(decoded._tag === 'Right' ? decoded.right : decoded.left).toEqual(message);
  });

  it('the signed bytes are still one JSON object, with the MAC as its last field', () => {
    const parsed = JSON.parse(signed.toString('utf8')) as Record<string, unknown>;
    expect(Object.keys(parsed).at(-1)).toBe('mac');
    expect(parsed['mac']).toMatch(/^[0-9a-f]{64}$/);
    const { mac: _mac, ...rest } = parsed;
    expect(rest).toEqual(JSON.parse(json.toString('utf8')));
    // and the wire codec still reads it: strict codecs drop the extra field
    expect(decodeDatagram(signed)._tag).toBe('Right');
  });

  it('a changed byte anywhere in the body is refused', () => {
    const bodyEnd = signed.indexOf(',"mac":"');
    expect(bodyEnd).toBeGreaterThan(0);
    for (const offset of [0, 1, 10, Math.floor(bodyEnd / 2), bodyEnd - 1]) {
      expect(auth.verify(flip(signed, offset)), `body byte ${offset}`).toBeUndefined();
    }
  });

  it('a changed byte anywhere in the MAC or its framing is refused (but the closing quote)', () => {
    const at = signed.indexOf(',"mac":"');
    for (let offset = at; offset < signed.length; offset++) {
      if (offset === signed.length - 2) continue; // the closing quote: see the next test
      expect(auth.verify(flip(signed, offset)), `suffix byte ${offset}`).toBeUndefined();
    }
  });

  it('a changed closing quote of the MAC is refused (the framing is checked byte by byte)', () => {
    const quote = signed.length - 2;
    expect(signed[quote]).toBe(0x22);
    expect(auth.verify(flip(signed, quote))).toBeUndefined();
  });

  it('an upper-case MAC (same value, other spelling) is refused: one spelling only', () => {
    const text = signed.toString('latin1');
    const upper = text.replace(/"mac":"([0-9a-f]{64})"/, (_, hex: string) =>
      `"mac":"${hex.toUpperCase()}"`);
    expect(upper).not.toBe(text);
    expect(auth.verify(Buffer.from(upper, 'latin1'))).toBeUndefined();
  });

  it('a MAC made with another secret is refused', () => {
    expect(signer('other secret').verify(signed)).toBeUndefined();
    expect(auth.verify(signer('other secret').sign(json))).toBeUndefined();
    expect(auth.verify(signer(`${SECRET} `).sign(json))).toBeUndefined();
  });

  it('an unsigned datagram is refused, and so is a MAC moved onto other bytes', () => {
    expect(auth.verify(json)).toBeUndefined();
    const other = Buffer.from(encodeMessage({ ...message, term: 8 } as Message));
    const mac = signed.subarray(signed.indexOf(',"mac":"'));
    const spliced = Buffer.concat([other.subarray(0, other.length - 1), mac]);
    expect(auth.verify(spliced)).toBeUndefined();
  });

  it('every truncation of a signed datagram is refused, down to the empty datagram', () => {
    for (let length = signed.length - 1; length >= 0; length--) {
      expect(auth.verify(signed.subarray(0, length)), `first ${length} bytes`).toBeUndefined();
    }
  });

  it('bytes appended after a signed datagram are refused', () => {
    expect(auth.verify(Buffer.concat([signed, Buffer.from(' ')]))).toBeUndefined();
    expect(auth.verify(Buffer.concat([signed, Buffer.from('}')]))).toBeUndefined();
  });

  it('signing is deterministic, and different bodies get different MACs', () => {
    expect(Buffer.compare(auth.sign(json), signed)).toBe(0);
    const other = auth.sign(Buffer.from(encodeMessage({ ...message, term: 8 } as Message)));
    expect(other.subarray(-66).equals(signed.subarray(-66))).toBe(false);
  });
});
