/**
 * The key-value state machine (`core/kv.ts`) against its definition (`test/support/kvModel.ts`),
 * for any sequence of commands: every answer, the values and sessions held, the byte and size
 * counters a snapshot is decided by, a listing page, a snapshot (its content and its order), a
 * state machine restored from one, and an older view of a store that has moved on (rebuilt from
 * the log's snapshot and the entries after it).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Cmd, Entry, NodeId, Snapshot } from '../../src/wire/messages.js';
import {
  applyUpTo, cmdSize, emptyKv, EXPIRED, kvBytes, kvData, kvFromSnapshot, kvGet, kvList,
  kvSessions, kvSize, takeSnapshotOf, type Applied, type KvState, type PageQuery,
} from '../../src/core/kv.js';
import { compactTo, logOf, type RaftLog } from '../../src/core/log.js';
import {
  copyModel, emptyModel, MODEL_EXPIRED, modelApply, modelBytes, modelCmdSize, modelPage,
  pairBytes, type KvModel, type ModelAnswer,
} from '../support/kvModel.js';

const C = '00C1' as NodeId;
const text = (maxLength: number) =>
  fc.string({ unit: fc.constantFrom('a', 'b', '/', 'é', '\u{1F600}'), maxLength });
// few keys, so that writes meet values already there
const key = fc.constantFrom('a', 'b', 'a/', 'é', 'b\u{1F600}', '');
// values of one unit or more, so that what a session keeps has a size
const value = fc.string({ unit: fc.constantFrom('a', 'b', '/', 'é', '\u{1F600}'), minLength: 1,
  maxLength: 6 });
const seq = fc.integer({ min: 1, max: 4 });
/**
 * The session a write runs in: none (0), the k-th most recently opened one (so that writes in live
 * sessions, with values kept, are common), or one never opened (a gone session).
 */
type SessionPick = { none: true } | { latest: number } | { gone: true };
const session: fc.Arbitrary<SessionPick> = fc.oneof(
  { arbitrary: fc.constant({ none: true as const }), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: 3 }).map((latest) => ({ latest })), weight: 4 },
  { arbitrary: fc.constant({ gone: true as const }), weight: 1 });

type Op = { cmd: Cmd; pick?: SessionPick };
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('put' as const), client: fc.constant(C),
    session: fc.constant(0), seq, key, value }).chain((cmd) => session.map((pick) =>
    ({ cmd, pick }))), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('del' as const), client: fc.constant(C),
    session: fc.constant(0), seq, key }).chain((cmd) => session.map((pick) => ({ cmd, pick }))),
  weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('cas' as const), client: fc.constant(C),
    session: fc.constant(0), seq, key, expected: fc.option(value, { nil: null }), value })
    .chain((cmd) => session.map((pick) => ({ cmd, pick }))), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('get' as const), client: fc.constant(C), seq, key })
    .map((cmd) => ({ cmd })), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('register' as const), client: fc.constant(C), seq,
    keep: fc.integer({ min: 1, max: 3 }) }).map((cmd) => ({ cmd })), weight: 3 },
  { arbitrary: fc.constant({ cmd: { kind: 'noop' } as Cmd }), weight: 1 },
) as fc.Arbitrary<Op>;
const cmd: fc.Arbitrary<Cmd> = op.map((o) => o.cmd);

/**
 * A run of entries: each write's session resolved to the register it picks (by index: a session's
 * id); terms that never decrease, with runs of any length.
 */
const run = fc.array(fc.tuple(op, fc.boolean()), { minLength: 1, maxLength: 40, size: 'max' })
  .map((xs) => {
  let term = 1;
  const opened: number[] = [];
  return xs.map(([o, next], k) => {
    let c = o.cmd;
    if (c.kind === 'register') opened.push(k + 1);
    if (o.pick !== undefined && 'latest' in o.pick) {
      c = { ...c, session: opened[opened.length - 1 - o.pick.latest] ?? 0 } as Cmd;
    } else if (o.pick !== undefined && 'gone' in o.pick) c = { ...c, session: 1000 + k } as Cmd;
    return { term: next ? ++term : term, cmd: c } as Entry;
  });
});

const answerOf = (v: Applied['value']): ModelAnswer => (v === EXPIRED ? MODEL_EXPIRED : v);

/** Everything a reader of `kv` sees equals the model's state. */
function expectSame(kv: KvState, log: RaftLog, m: KvModel, queries: readonly PageQuery[]): void {
  expect(kvData(kv, log)).toEqual(m.data);
  expect([...kvSessions(kv, log)]).toEqual(m.sessions);
  expect(kvBytes(kv, log).held).toBe(modelBytes(m));
  expect(kvSize(kv, log)).toBe(m.data.size + m.sessions.length);
  for (const k of ['a', 'b', 'é', '']) expect(kvGet(kv, log, k)).toBe(m.data.get(k) ?? null);
  for (const q of queries) expect(kvList(kv, log, q)).toEqual(modelPage(m.data, q));
}

/** A snapshot holds the model's state, keys and session ids strictly ascending. */
function expectSnapshotOf(snap: Snapshot, m: KvModel, index: number): void {
  expect(snap.index).toBe(index);
  const ascending = (xs: readonly (readonly [string | number, unknown])[]) =>
    xs.every((x, i) => i === 0 || (xs[i - 1] as readonly [string | number, unknown])[0] < x[0]);
  expect(ascending(snap.kv)).toBe(true);
  expect(ascending(snap.sessions)).toBe(true);
  expect(new Map(snap.kv)).toEqual(m.data);
  expect(new Map(snap.sessions)).toEqual(new Map(m.sessions));
}

/** Pages of the model's keys: every prefix and `after`, and byte bounds at exact pair sizes. */
function queriesFor(m: KvModel): PageQuery[] {
  const pairs = [...m.data].sort(([a], [b]) => (a < b ? -1 : 1));
  const cut = pairs.slice(0, 3).reduce((n, p) => n + pairBytes(p), 0);
  const qs: PageQuery[] = [];
  for (const prefix of ['', 'a', 'b/', 'é']) {
    for (const after of [null, '', 'a', 'a/', 'b', 'é']) {
      qs.push({ prefix, after, limit: 100, maxBytes: 1 << 20 });
      qs.push({ prefix, after, limit: 2, maxBytes: cut });
      qs.push({ prefix, after, limit: 100, maxBytes: cut - 1 });
    }
  }
  return qs;
}

describe('core/kv.ts against the definition of the state machine', () => {
  it('a command\'s size is the lengths of the key and values it carries', () => {
    fc.assert(fc.property(cmd, (c) => { expect(cmdSize(c)).toBe(modelCmdSize(c)); }),
      { numRuns: 300 });
  });

  it('a snapshot of many keys and sessions holds them in ascending order', () => {
    fc.assert(fc.property(fc.array(fc.tuple(text(6), value), { minLength: 100, maxLength: 3000 }),
      (pairs) => {
        const entries = [...pairs.slice(0, 50).map(() => ({ term: 1, cmd: { kind: 'register',
          client: C, seq: 1, keep: 1000 } })), ...pairs.map(([k, v], i) => ({ term: 1,
          cmd: { kind: 'cas', client: C, session: 50 - (i % 50), seq: 1 + Math.floor(i / 50),
            key: k, expected: null, value: v } }))] as Entry[];
        const log = logOf(entries);
        const m = emptyModel();
        entries.forEach((e, i) => modelApply(m, e.cmd, i + 1));
        expectSnapshotOf(takeSnapshotOf(applyUpTo(emptyKv(), log, entries.length), log), m,
          entries.length);
      }), { numRuns: 20 });
  });

  it('answers, state, counters, pages and snapshots, applied in steps of any size', () => {
    fc.assert(fc.property(run, fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 40 }),
      fc.array(fc.boolean(), { minLength: 40 }), (entries, steps, snapshotAfter) => {
        const log = logOf(entries);
        const m = emptyModel();
        let kv = emptyKv();
        let since = 0;
        for (let k = 0; kv.appliedIndex < entries.length; k++) {
          const to = Math.min(entries.length, kv.appliedIndex + (steps[k] ?? 1));
          const answers: ModelAnswer[] = [];
          const want: ModelAnswer[] = [];
          for (let i = kv.appliedIndex + 1; i <= to; i++) {
            const c = (entries[i - 1] as Entry).cmd;
            want.push(modelApply(m, c, i));
            since += modelCmdSize(c);
          }
          const before = kv;
          kv = applyUpTo(kv, log, to, (a) => answers.push(answerOf(a.value)));
          expect(answers).toEqual(want);
          expect(kv.appliedIndex).toBe(to);
          // applying nothing more changes nothing: the same state
          expect(applyUpTo(kv, log, to)).toBe(kv);
          expect(applyUpTo(kv, log, before.appliedIndex)).toBe(kv);
          expectSame(kv, log, m, queriesFor(m));
          expect(kvBytes(kv, log).sinceSnapshot).toBe(since);
          if (snapshotAfter[k] === true) {
            expectSnapshotOf(takeSnapshotOf(kv, log), m, to);
            since = 0;
            expect(kvBytes(kv, log).sinceSnapshot).toBe(0);
          }
        }
        expect(() => applyUpTo(kv, log, entries.length + 1)).toThrow(/no entry/);
      }), { numRuns: 300 });
  });

  it('an older view, a compacted log and a state machine restored from a snapshot agree with the ' +
    'model at their index', () => {
    fc.assert(fc.property(run, fc.nat(), fc.nat(), (entries, a, b) => {
      const log = logOf(entries);
      const n = entries.length;
      // the model and a view after every index
      const models: KvModel[] = [emptyModel()];
      const views: KvState[] = [emptyKv()];
      for (let i = 1; i <= n; i++) {
        const m = copyModel(models[i - 1] as KvModel);
        modelApply(m, (entries[i - 1] as Entry).cmd, i);
        models.push(m);
        views.push(applyUpTo(views[i - 1] as KvState, log, i));
      }
      const c = a % (n + 1);
      const j = c + (b % (n + 1 - c));
      // an older view, read on the whole log and on the log compacted at an earlier index
      const snap = takeSnapshotOf(views[c] as KvState, log);
      expectSnapshotOf(snap, models[c] as KvModel, c);
      const compacted = compactTo(log, snap);
      for (const l of [log, compacted]) {
        expectSame(views[j] as KvState, l, models[j] as KvModel, queriesFor(models[j] as KvModel));
      }
      if (c > 0) {
        expect(() => kvData(views[c - 1] as KvState, compacted)).toThrow(/older than the snapshot/);
      }
      // restored from the snapshot, then the entries after it: the same answers and state
      const restored = kvFromSnapshot(snap);
      expectSame(restored, compacted, models[c] as KvModel, []);
      const m = copyModel(models[c] as KvModel);
      const want: ModelAnswer[] = [];
      let since = 0;
      for (let i = c + 1; i <= n; i++) {
        const cmdI = (entries[i - 1] as Entry).cmd;
        want.push(modelApply(m, cmdI, i));
        since += modelCmdSize(cmdI);
      }
      const answers: ModelAnswer[] = [];
      const end = applyUpTo(restored, compacted, n, (x) => answers.push(answerOf(x.value)));
      expect(answers).toEqual(want);
      expectSame(end, compacted, m, queriesFor(m));
      expect(kvBytes(end, compacted).sinceSnapshot).toBe(since);
    }), { numRuns: 300 });
  });
});
