/**
 * Property tests of the codec. fast-check prints the seed and the shrunk counterexample of a
 * failure; replay it with `{ seed, path }` in the failing `fc.assert`.
 */
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  decodeDatagram,
  encodeMessage,
  Message,
  MESSAGE_TYPES,
  utf8ByteLength,
  WIRE_ERROR_KINDS,
  type WireError,
} from '../../src/wire/index.js';
import { messageArb, messageArbs, textArb } from './arbitraries.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** Every error is well-formed: a known kind, one line, and a path for each datagram-level fault. */
function checkError(e: WireError): void {
  expect(WIRE_ERROR_KINDS).toContain(e.kind);
  expect(e.detail).not.toMatch(/[\n\r]/);
  if (e.kind === 'invalid' || e.kind === 'unknown-type') {
    expect(e.paths.length).toBeGreaterThan(0);
    for (const p of e.paths) expect(p).not.toBe('');
  } else expect(e.paths).toEqual([]);
}

/** Decoding never throws; whatever decodes is a message that encodes back to itself. */
function checkDecode(input: Uint8Array | string): E.Either<WireError, Message> {
  const result = decodeDatagram(input);
  if (E.isLeft(result)) checkError(result.left);
  else {
    expect(Message.is(result.right)).toBe(true);
    expect(decodeDatagram(encodeMessage(result.right))).toEqual(result);
  }
  return result;
}

/** Every path into a JSON value (objects' keys and arrays' offsets), the root excluded. */
function pathsOf(v: Json, prefix: Path = []): Path[] {
  if (v === null || typeof v !== 'object') return [];
  const children: [string | number, Json][] = Array.isArray(v)
    ? v.map((x, i) => [i, x])
    : Object.entries(v);
  return children.flatMap(([k, x]) => [[...prefix, k], ...pathsOf(x, [...prefix, k])]);
}

/** Apply `f` to the container of `path`'s last step in a copy of `v`. */
type Container = Json[] | Record<string, Json>;

function edit(v: Json, path: Path, f: (parent: Container, key: string | number) => void): Json {
  const copy = JSON.parse(JSON.stringify(v)) as Json;
  let parent = copy as Container;
  for (const step of path.slice(0, -1)) {
    parent = (parent as Record<string, Json>)[step] as Container;
  }
  f(parent, path[path.length - 1] as string | number);
  return copy;
}

type Mutation =
  | { op: 'delete' }
  | { op: 'replace'; value: Json }
  | { op: 'retag'; tag: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ op: 'delete' as const }),
  fc.record({ op: fc.constant('replace' as const), value: fc.jsonValue() as fc.Arbitrary<Json> }),
  fc.record({
    op: fc.constant('retag' as const),
    tag: fc.oneof(
      fc.constantFrom(...MESSAGE_TYPES, 'noop', 'put', 'get', 'Hello', '', '__proto__', 'toString'),
      fc.string(),
    ),
  }),
);

function mutate(v: Json, path: Path, m: Mutation): Json {
  return edit(v, path, (parent, key) => {
    if (Array.isArray(parent)) {
      if (m.op === 'delete') parent.splice(key as number, 1);
      else parent[key as number] = m.op === 'replace' ? m.value : m.tag;
    } else if (m.op === 'delete') delete parent[key];
    else parent[key] = m.op === 'replace' ? m.value : m.tag;
  });
}

const dotted = (p: Path): string => p.join('.');
const within = (path: string, prefix: string): boolean =>
  prefix === '' || path === prefix || path.startsWith(`${prefix}.`);

describe('[STYLE §4] the codec round-trips every message', () => {
  it('decodeDatagram(encodeMessage(m)) equals m, for every message type', () => {
    for (const arb of Object.values(messageArbs) as fc.Arbitrary<Message>[]) {
      fc.assert(fc.property(arb, (m) => {
        expect(decodeDatagram(encodeMessage(m))).toEqual(E.right(m));
      }), { numRuns: 150 });
    }
  });

  it('the same holds for the UTF-8 bytes a socket carries (well-formed strings only)', () => {
    const encoder = new TextEncoder();
    fc.assert(fc.property(messageArb, (m) => {
      const text = encodeMessage(m);
      const bytes = encoder.encode(text);
      fc.pre(new TextDecoder().decode(bytes) === text); // a lone surrogate cannot travel as UTF-8
      expect(decodeDatagram(bytes)).toEqual(E.right(m));
    }), { numRuns: 300 });
  });

  it('utf8ByteLength agrees with TextEncoder', () => {
    const encoder = new TextEncoder();
    fc.assert(fc.property(textArb(0, 64), (s) => {
      expect(utf8ByteLength(s)).toBe(encoder.encode(s).length);
    }), { numRuns: 500 });
  });
});

describe('[STYLE §4] bad input never throws', () => {
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
      checkDecode(bytes);
    }), { numRuns: 500 });
  });

  it('random strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 128 }), (s) => {
      checkDecode(s);
    }), { numRuns: 500 });
  });

  it('random JSON values, and anything JSON.stringify makes of a random JS value', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      checkDecode(JSON.stringify(v));
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.anything(), (v) => {
      checkDecode(JSON.stringify(v) ?? 'undefined');
    }), { numRuns: 300 });
  });

  it('random objects with a known type and the protocol\'s field names', () => {
    const fields = ['src', 'dst', 'leader', 'MID', 'key', 'value', 'seq', 'term', 'lastLogIndex',
      'lastLogTerm', 'voteGranted', 'success', 'matchIndex', 'rejectHint', 'prevLogIndex', 'prevLogTerm',
      'entries', 'leaderCommit', 'readRound', '__proto__'];
    const objectArb = fc.record({
      type: fc.constantFrom(...MESSAGE_TYPES),
      rest: fc.dictionary(fc.constantFrom(...fields), fc.jsonValue()),
    }).map(({ type, rest }) => ({ ...rest, type }));
    fc.assert(fc.property(objectArb, (o) => {
      const result = checkDecode(JSON.stringify(o));
      if (E.isLeft(result)) expect(result.left.kind).toBe('invalid');
    }), { numRuns: 500 });
  });
});

describe('[STYLE §4] a mutated valid message decodes or names the field that was changed', () => {
  const caseArb = messageArb.chain((m) => {
    const json = JSON.parse(encodeMessage(m)) as Json;
    const paths = pathsOf(json);
    return fc.record({
      json: fc.constant(json),
      path: fc.constantFrom(...paths),
      mutation: mutationArb,
    });
  });

  it('delete a field, replace it with any JSON value, or change a type or kind tag', () => {
    const numRuns = 2000;
    let rejected = 0;
    fc.assert(fc.property(caseArb, ({ json, path, mutation }) => {
      const result = checkDecode(JSON.stringify(mutate(json, path, mutation)));
      if (E.isRight(result)) return;
      rejected++;
      // A changed tag makes the other fields of the object wrong; otherwise the errors lie within
      // the mutated field.
      const last = path[path.length - 1];
      // a pair of a snapshot's `kv` or `sessions`, or of a page's `pairs`, is a tuple: deleting one of its two items
      // moves the other, so the errors lie within the pair
      const inPair = path.length === 3
        && (path[0] === 'kv' || path[0] === 'sessions' || path[0] === 'pairs');
      const prefix = last === 'type' || last === 'kind' || inPair ? dotted(path.slice(0, -1))
        : dotted(path);
      for (const p of result.left.paths) expect(within(p, prefix), `${p} in ${prefix}`).toBe(true);
    }), { numRuns });
    expect(rejected).toBeGreaterThan(numRuns / 2); // the mutations do reach the error paths
  });

  it('extra fields anywhere are stripped', () => {
    const known = new Set(['src', 'dst', 'leader', 'type', 'MID', 'key', 'value', 'seq', 'term',
      'lastLogIndex', 'lastLogTerm', 'voteGranted', 'success', 'matchIndex', 'rejectHint', 'prevLogIndex',
      'prevLogTerm', 'entries', 'leaderCommit', 'readRound', 'cmd', 'kind', 'client']);
    const extraArb = messageArb.chain((m) => {
      const json = JSON.parse(encodeMessage(m)) as Json;
      // Objects only: the root, each entry, each command.
      const objects: Path[] = [[], ...pathsOf(json).filter((p) => {
        const x = p.reduce<Json>((v, k) => (v as Record<string, Json>)[k] as Json, json);
        return x !== null && typeof x === 'object' && !Array.isArray(x);
      })];
      return fc.record({
        m: fc.constant(m),
        json: fc.constant(json),
        at: fc.constantFrom(...objects),
        key: fc.string().filter((k) => !known.has(k)),
        value: fc.jsonValue() as fc.Arbitrary<Json>,
      });
    });
    fc.assert(fc.property(extraArb, ({ m, json, at, key, value }) => {
      const withExtra = edit({ root: json }, ['root', ...at, key], (parent, k) => {
        // defineProperty: a generated key "__proto__" must become a field, not a prototype.
        Object.defineProperty(parent, k, {
          value, enumerable: true, configurable: true, writable: true,
        });
      }) as { root: Json };
      expect(decodeDatagram(JSON.stringify(withExtra.root))).toEqual(E.right(m));
    }), { numRuns: 500 });
  });
});
