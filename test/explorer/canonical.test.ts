/**
 * `canonical` is JSON with object keys sorted, whatever order the keys were built in: the same
 * text as the definition it replaced (`JSON.stringify` with a replacer that sorts each object's
 * keys), for any JSON-like value, and equal for objects that differ only in key order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonical } from '../../src/explorer/cluster.js';

/** The definition: a sorted copy of every object, by `JSON.stringify`'s replacer. */
const reference = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
});

const leaf = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.constant(undefined), fc.constant(-0), fc.constant(() => 1));
const value = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object'), tie('dated')),
  array: fc.array(tie('any'), { maxLength: 4 }),
  object: fc.dictionary(fc.oneof(fc.string({ maxLength: 4 }), fc.nat().map(String),
    fc.constantFrom('01', '4294967295', '4294967294')), tie('any'), { maxKeys: 5 }),
  dated: fc.date({ noInvalidDate: true }),
})).any;

describe('[explorer] canonical', () => {
  it('writes what JSON.stringify with sorted keys writes, for any JSON-like value', () => {
    fc.assert(fc.property(fc.oneof(fc.array(value), fc.dictionary(fc.string(), value)), (v) => {
      expect(canonical(v)).toBe(reference(v));
    }), { numRuns: 2000 });
  });

  it('is the same for objects built with their keys in different orders', () => {
    fc.assert(fc.property(fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 6 }),
      (o) => {
        const reversed = Object.fromEntries(Object.entries(o).reverse());
        expect(canonical({ x: [reversed] })).toBe(canonical({ x: [o] }));
      }));
  });
});
