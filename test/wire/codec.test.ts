/** The negative space of `decodeDatagram`: every rejection names its kind and offending path. */
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  decodeDatagram,
  decodeMessage,
  errorKind,
  MAX_DATAGRAM_BYTES,
  MAX_ENTRIES_PER_MESSAGE,
  MAX_KEY_LENGTH,
  MAX_MID_LENGTH,
  MAX_VALUE_LENGTH,
  utf8ByteLength,
  WIRE_ERROR_KINDS,
  type MessageType,
  type WireError,
  type WireErrorKind,
} from '../../src/wire/index.js';
import { example, examples } from './examples.js';

const types = Object.keys(examples) as MessageType[];
const optionalFields = new Set(['seq', 'session', 'value', 'after', 'limit', 'pairs', 'next']);

function rejection(input: Uint8Array | string | object): WireError {
  const text = typeof input === 'object' && !(input instanceof Uint8Array)
    ? JSON.stringify(input)
    : input;
  const result = decodeDatagram(text);
  if (E.isRight(result)) throw new Error(`expected a rejection, decoded ${JSON.stringify(result)}`);
  return result.left;
}

function expectRejected(input: Uint8Array | string | object, kind: WireErrorKind, paths: string[]) {
  const error = rejection(input);
  expect({ kind: error.kind, paths: error.paths }).toEqual({ kind, paths });
  expect(error.detail).not.toMatch(/\n/);
  return error;
}

/** `put` with one field of its entry's command replaced, inside an AppendEntriesRequest. */
function withCmd(patch: Record<string, unknown>): Record<string, unknown> {
  const m = example('AppendEntriesRequest');
  const cmd = { kind: 'put', client: '001C', session: 0, seq: 1, key: 'k', value: 'v', ...patch };
  m['entries'] = [{ term: 1, cmd }];
  return m;
}

describe('[STYLE §4] a datagram that is not JSON is rejected as not-json', () => {
  it.each(['', '{', 'undefined', "{'type':'hello'}", 'NaN', '{"type":"hello"} x', '\u0000'])(
    '%j',
    (text) => {
      expectRejected(text, 'not-json', []);
    },
  );

  it('bytes that are not UTF-8 are rejected, not patched with U+FFFD', () => {
    const bytes = new TextEncoder().encode(JSON.stringify(examples.get));
    const broken = new Uint8Array([...bytes.slice(0, 20), 0xff, ...bytes.slice(20)]);
    expectRejected(broken, 'not-json', []);
  });
});

describe('[replica-udp: Datagrams] one JSON object per datagram', () => {
  it.each(['[]', '[{"type":"hello"}]', 'null', '0', '-1.5', '"hello"', 'true'])(
    '%s is not-object',
    (text) => {
      expectRejected(text, 'not-object', []);
    },
  );
});

describe('[replica-udp: Datagrams] every datagram carries src, dst, leader and type', () => {
  const unknownTypes = ['', 'Hello', 'HELLO', 'goodbye', '__proto__', 'constructor', 'toString'];
  it.each(unknownTypes)(
    'type %j is unknown-type',
    (type) => {
      const error = expectRejected({ ...example('hello'), type }, 'unknown-type', ['type']);
      expect(error.detail).toBe(`unknown message type ${JSON.stringify(type)}`);
    },
  );

  it.each([undefined, null, 7, true, ['hello'], { hello: 1 }])('type %j is invalid', (type) => {
    expectRejected({ ...example('hello'), type }, 'invalid', ['type']);
  });

  it.each(types)('%s without any one required field names that field', (type) => {
    for (const field of Object.keys(examples[type])) {
      if (field === 'type' || optionalFields.has(field)) continue;
      const m = example(type);
      delete m[field];
      const error = expectRejected(m, 'invalid', [field]);
      expect(error.detail).toContain(`${field}: missing`);
    }
  });

  it.each(types)('%s with any one field of the wrong type names that field', (type) => {
    for (const field of Object.keys(examples[type])) {
      if (field === 'type') continue;
      const array = ['entries', 'kv', 'sessions', 'terms'].includes(field);
      for (const wrong of [{}, null, array ? 7 : [], 'true', -1, 0.5]) {
        const m = { ...example(type), [field]: wrong };
        const result = decodeDatagram(JSON.stringify(m));
        // "true" is also base64 text
        // and a cas's `expected` may be null (expect the key absent)
        const accepted = (typeof wrong === 'string'
          && ['key', 'value', 'expected', 'MID', 'data', 'prefix', 'after'].includes(field))
          || (wrong === null && field === 'expected');
        if (accepted) expect(E.isRight(result)).toBe(true);
        else expect({ field, wrong, error: result }).toMatchObject({
          error: E.left({ kind: 'invalid', paths: [field] }),
        });
      }
    }
  });

  it('every error of a known type is reported, each with its own path', () => {
    const m = { ...example('AppendEntriesResponse'), term: -1, success: 1, matchIndex: '3' };
    const error = expectRejected(m, 'invalid', ['term', 'success', 'matchIndex']);
    expect(error.detail).toMatch(/^AppendEntriesResponse: term: expected a non-negative/);
  });
});

describe('[replica-udp: Process] ids are 4-character upper-case hex strings', () => {
  const badIds = ['000', '00000', '00g0', '00a0', 'fFFF', '0x01', ' 001', '0001\n', '', 1, 0x0001];
  it.each(badIds)('%j is rejected in src, dst and leader', (id) => {
    for (const field of ['src', 'dst', 'leader']) {
      const error = expectRejected({ ...example('fail'), [field]: id }, 'invalid', [field]);
      expect(error.detail).toContain('expected a node id of 4 upper-case hex digits');
    }
  });

  it.each(badIds)('%j is rejected as the client of a command', (id) => {
    expectRejected(withCmd({ client: id }), 'invalid', ['entries.0.cmd.client']);
  });
});

describe('[Fig2] terms and log indexes are non-negative safe integers', () => {
  // JSON text, spliced in verbatim: 1e400 must reach the decoder as written (it is Infinity).
  const bad = ['-1', '0.5', '1.5e-10', '9007199254740992', '1e21', '1e400', '"1"', 'null', 'true'];
  it.each(bad)('%s is rejected as a term, an index, a seq', (json) => {
    const text = (m: object): string => JSON.stringify(m).replace('"__N__"', json);
    const n$ = '__N__';
    expectRejected(text({ ...example('PreVoteRequest'), term: n$ }), 'invalid', ['term']);
    expectRejected(text({ ...example('RequestVoteRequest'), lastLogIndex: n$ }), 'invalid', [
      'lastLogIndex',
    ]);
    const ae = example('AppendEntriesRequest');
    ae['entries'] = [{ term: n$, cmd: { kind: 'noop' } }];
    expectRejected(text(ae), 'invalid', ['entries.0.term']);
    expectRejected(text(withCmd({ seq: n$ })), 'invalid', ['entries.0.cmd.seq']);
    expectRejected(text({ ...example('get'), seq: n$ }), 'invalid', ['seq']);
  });

  it.each(['0', '9007199254740991', '1.0', '1e2', '-0'])('%s is accepted', (n) => {
    const text = JSON.stringify({ ...example('PreVoteResponse'), term: '__N__' })
      .replace('"__N__"', n);
    const result = decodeDatagram(text);
    const term = E.isRight(result) && result.right.type === 'PreVoteResponse' && result.right.term;
    expect(term === Number(n)).toBe(true); // -0 decodes as -0, a zero term: -0 === 0
  });
});

describe('[protocol-rules: Commands] a command is noop, put or get', () => {
  it.each([
    [{ kind: 'zap' }, 'entries.0.cmd.kind'],
    [{ kind: undefined }, 'entries.0.cmd.kind'],
    [{ kind: 'PUT' }, 'entries.0.cmd.kind'],
    [{ value: undefined }, 'entries.0.cmd.value'],
    [{ key: 5 }, 'entries.0.cmd.key'],
  ])('%j names %s', (patch, path) => {
    expectRejected(withCmd(patch), 'invalid', [path]);
  });

  it('a command or an entry that is not an object names its position', () => {
    const m = example('AppendEntriesRequest');
    m['entries'] = [{ term: 1, cmd: [] }, 3, { term: 1, cmd: { kind: 'noop' } }, null];
    expectRejected(m, 'invalid', ['entries.0.cmd', 'entries.1', 'entries.3']);
  });
});

describe('[protocol-rules: replicate] at most MAX_ENTRIES_PER_MESSAGE entries per message', () => {
  const withEntries = (n: number): Record<string, unknown> => ({
    ...example('AppendEntriesRequest'),
    entries: Array.from({ length: n }, () => ({ term: 1, cmd: { kind: 'noop' } })),
  });

  it(`${MAX_ENTRIES_PER_MESSAGE} entries decode`, () => {
    expect(E.isRight(decodeDatagram(JSON.stringify(withEntries(MAX_ENTRIES_PER_MESSAGE)))))
      .toBe(true);
  });

  it(`${MAX_ENTRIES_PER_MESSAGE + 1} entries are rejected at entries`, () => {
    const error = expectRejected(withEntries(MAX_ENTRIES_PER_MESSAGE + 1), 'invalid', ['entries']);
    expect(error.detail).toContain(`at most ${MAX_ENTRIES_PER_MESSAGE} entries, got 65`);
  });

  it('entries that is not an array is rejected at entries', () => {
    expectRejected({ ...example('AppendEntriesRequest'), entries: {} }, 'invalid', ['entries']);
  });
});

describe('string fields are bounded in UTF-16 code units', () => {
  it.each([
    ['get', 'key', MAX_KEY_LENGTH, 0],
    ['put', 'value', MAX_VALUE_LENGTH, 0],
    ['ok', 'value', MAX_VALUE_LENGTH, 0],
    ['fail', 'MID', MAX_MID_LENGTH, 1],
  ] as const)('%s.%s: %i accepted, one more rejected', (type, field, max, min) => {
    // decoded as a message: one with a value this long is carried by fragments, not one datagram
    const at = (length: number) => decodeMessage({ ...example(type), [field]: 'x'.repeat(length) });
    expect(E.isRight(at(max))).toBe(true);
    expect(E.isRight(at(min))).toBe(true);
    expect(at(max + 1)).toMatchObject(E.left({ kind: 'invalid', paths: [field] }));
    if (min > 0) expect(at(min - 1)).toMatchObject(E.left({ kind: 'invalid', paths: [field] }));
  });

  it('a surrogate pair counts two units', () => {
    const key = '\u{1F600}'.repeat(MAX_KEY_LENGTH / 2);
    expect(E.isRight(decodeDatagram(JSON.stringify({ ...example('get'), key })))).toBe(true);
    expectRejected({ ...example('get'), key: `${key}x` }, 'invalid', ['key']);
  });
});

describe('[replica-udp: Datagrams] keep every datagram well below 64 KiB', () => {
  /** The example `get`, padded with an extra field to exactly `bytes` bytes of UTF-8. */
  const padded = (bytes: number, unit = 'x'): string => {
    const base = JSON.stringify({ ...example('get'), pad: '' });
    const units = (bytes - utf8ByteLength(base)) / utf8ByteLength(unit);
    return base.replace('"pad":""', `"pad":"${unit.repeat(units)}"`);
  };

  it(`exactly ${MAX_DATAGRAM_BYTES} bytes decode, as text and as bytes`, () => {
    const text = padded(MAX_DATAGRAM_BYTES);
    expect(new TextEncoder().encode(text).length).toBe(MAX_DATAGRAM_BYTES);
    expect(decodeDatagram(text)).toEqual(E.right(examples.get));
    expect(decodeDatagram(new TextEncoder().encode(text))).toEqual(E.right(examples.get));
  });

  it('one byte more is too-large, as text and as bytes', () => {
    const text = padded(MAX_DATAGRAM_BYTES + 1);
    expectRejected(text, 'too-large', []);
    expectRejected(new TextEncoder().encode(text), 'too-large', []);
  });

  it('the limit counts UTF-8 bytes, not UTF-16 units', () => {
    const text = padded(MAX_DATAGRAM_BYTES + 3, '\u20AC'); // 3 bytes per euro sign
    expect(text.length).toBeLessThan(MAX_DATAGRAM_BYTES);
    expectRejected(text, 'too-large', []);
    expect(E.isRight(decodeDatagram(padded(MAX_DATAGRAM_BYTES, '\u20AC')))).toBe(true);
  });

  it('bytes that are not even JSON are refused unread when too large', () => {
    expectRejected(new Uint8Array(MAX_DATAGRAM_BYTES + 1).fill(0xff), 'too-large', []);
  });

  it('a full batch of maximal entries does not fit one datagram: split batches by bytes', () => {
    const m = example('AppendEntriesRequest');
    const cmd = { kind: 'put', client: '001C', session: 0, seq: 1, key: 'k'.repeat(MAX_KEY_LENGTH),
      value: 'v'.repeat(MAX_VALUE_LENGTH) };
    m['entries'] = Array.from({ length: MAX_ENTRIES_PER_MESSAGE }, () => ({ term: 1, cmd }));
    expectRejected(m, 'too-large', []);
  });
});

describe('[replica-udp: Datagrams] extra fields are allowed and stripped', () => {
  it('at the top level, in an entry and in a command', () => {
    const m = example('AppendEntriesRequest');
    const entries = m['entries'] as Record<string, unknown>[];
    const extra = {
      ...m,
      candidateId: '0001',
      nested: { a: [1] },
      entries: entries.map((e) => ({ ...e, index: 4, cmd: { ...(e['cmd'] as object), x: null } })),
    };
    expect(decodeDatagram(JSON.stringify(extra))).toEqual(E.right(examples.AppendEntriesRequest));
  });

  it('in messages with optional fields', () => {
    for (const type of ['get', 'put', 'ok'] as const) {
      const extra = { ...example(type), extra: 1, Seq: 2 };
      expect(decodeDatagram(JSON.stringify(extra))).toEqual(E.right(examples[type]));
    }
  });

  it('__proto__ and constructor keys are stripped and pollute nothing', () => {
    const evil = '{"__proto__":{"polluted":1,"type":"hello"},"constructor":{"prototype":{"p":1}},';
    for (const type of ['get', 'AppendEntriesRequest'] as const) {
      const text = evil + JSON.stringify(example(type)).slice(1)
        .replace('{"kind":"noop"}', '{"kind":"noop","__proto__":{"polluted":2}}');
      const result = decodeDatagram(text);
      expect(result).toEqual(E.right(examples[type]));
      if (E.isRight(result)) {
        expect(Object.getPrototypeOf(result.right)).toBe(Object.prototype);
        expect(Object.keys(result.right)).not.toContain('__proto__');
      }
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    }
  });

  it('a __proto__ key does not supply a missing type', () => {
    expectRejected('{"__proto__":{"type":"hello"},"src":"0001","dst":"FFFF","leader":"FFFF"}',
      'invalid', ['type']);
  });
});

describe('errorKind', () => {
  it('is one of WIRE_ERROR_KINDS for every kind of rejection', () => {
    const tooLarge = 'x'.repeat(MAX_DATAGRAM_BYTES + 1);
    const inputs = ['x', '[]', '{"type":"x"}', '{"type":"hello"}', tooLarge, '['.repeat(17)];
    const kinds = inputs.map((i) => errorKind(rejection(i)));
    expect(kinds).toEqual(['not-json', 'not-object', 'unknown-type', 'invalid', 'too-large',
      'too-deep']);
    expect(new Set(kinds)).toEqual(new Set(WIRE_ERROR_KINDS));
  });
});
