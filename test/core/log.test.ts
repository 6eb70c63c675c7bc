/**
 * The log (`core/log.ts`) against its definition over a plain array of terms: every index keeps
 * its meaning, the snapshot covers a prefix whose terms are gone but for its own and the runs it
 * keeps, and each operation (truncate, replace, merge [Fig2:AE#3,#4], compact [§7 Figure 13],
 * the election restriction [§5.4.1], the change written to disk and its inverse) is what its
 * comment says, for any log and any arguments, including those below the snapshot and past the
 * end.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  TERM_RUNS_KEPT, type Entry, type LogIndex, type Snapshot, type Term, type TermRun,
} from '../../src/wire/messages.js';
import { chainOf } from '../../src/core/chain.js';
import {
  appendEntry, applyLogChange, compactTo, configAt, entriesAfterSnapshot, entriesBetween, entryAt,
  logOf,
  lastLogIndex, lastLogTerm, logChange, logUpToDate, mergeEntries, replaceFrom, termAt, termInRuns,
  termRunsUpTo, truncateAfter, type RaftLog,
} from '../../src/core/log.js';

/** The definition: every index's term from 1 (`terms[i - 1]`), the first `base` compacted. */
interface Model { readonly terms: readonly number[]; readonly base: number }

const entry = (term: number, i: number): Entry =>
  ({ term, cmd: { kind: 'put', client: '00C1', session: 0, seq: i, key: 'k', value: `${i}` } }) as
    Entry;

/** The runs of `terms[0..upTo)` (each starts a newer term), the newest `TERM_RUNS_KEPT`. */
function modelRuns(terms: readonly number[], upTo: number): TermRun[] {
  const runs: TermRun[] = [];
  for (let i = 1; i <= upTo; i++) {
    const term = terms[i - 1] as number;
    if (runs.length === 0 || (runs.at(-1) as TermRun).term !== term) {
      runs.push({ index: i as LogIndex, term: term as Term });
    }
  }
  return runs.slice(Math.max(0, runs.length - TERM_RUNS_KEPT));
}

const snapshotOf = (m: Model, base = m.base): Snapshot => ({ index: base as LogIndex,
  term: (base === 0 ? 0 : m.terms[base - 1]) as Term, kv: [], sessions: [],
  terms: modelRuns(m.terms, base) });

/** The log a model describes, built without the code under test. */
function logFrom(m: Model): RaftLog {
  // no configuration changes in these logs: the snapshot's (none) is the log's
  return { snapshot: snapshotOf(m),
    entries: chainOf(m.terms.slice(m.base).map((t, k) => entry(t, m.base + 1 + k))),
    config: undefined, configIndex: m.base };
}

/** A log's content as the model sees it: its base and the terms after it. */
const termsAfter = (log: RaftLog): number[] => entriesAfterSnapshot(log).map((e) => e.term);

/** Terms from 1 that never decrease; a run for every two entries on average. */
const terms = (maxLength: number) => fc.array(fc.boolean(), { maxLength, size: 'max' })
  .map((steps) => {
    let t = 1;
    return steps.map((d) => (t += d ? 1 : 0));
  });
// up to 100 runs: more than a snapshot keeps (`TERM_RUNS_KEPT`)
const model = fc.tuple(terms(200), fc.nat()).map(([ts, b]): Model =>
  ({ terms: ts, base: b % (ts.length + 1) }));

describe('core/log.ts against its definition', () => {
  it('terms, entries and slices at every index: the snapshot\'s own, below it, after it, past ' +
    'the end', () => {
    fc.assert(fc.property(model, (m) => {
      const log = logFrom(m);
      const n = m.terms.length;
      expect(lastLogIndex(log)).toBe(n);
      expect(lastLogTerm(log)).toBe(n === 0 ? 0 : m.terms[n - 1]);
      for (let i = 0; i <= n + 2; i++) {
        const want = i === m.base ? (i === 0 ? 0 : m.terms[i - 1]) : i < m.base || i > n ? 0
          : m.terms[i - 1];
        expect(termAt(log, i)).toBe(want);
        expect(entryAt(log, i)?.term).toBe(i <= m.base || i > n ? undefined : m.terms[i - 1]);
        for (const to of [i, i + 3, n + 1]) {
          const from = Math.max(i, m.base + 1);
          expect(entriesBetween(log, i, to).map((e) => e.term))
            .toEqual(m.terms.slice(from - 1, Math.min(to, n)));
        }
        expect(termRunsUpTo(log, Math.max(i, m.base) > n ? n : Math.max(i, m.base)))
          .toEqual(modelRuns(m.terms, Math.min(n, Math.max(i, m.base))));
        const runs = modelRuns(m.terms, i > n ? n : i);
        const first = runs[0]?.index ?? Infinity;
        expect(termInRuns(runs, i)).toBe(i < first || i > n ? (i > n && runs.length > 0
          ? (runs.at(-1) as TermRun).term : 0) : m.terms[i - 1]);
      }
    }), { numRuns: 300 });
  });

  it('[§5.4.1] a log is at least as up to date when its last term is newer, or the same with ' +
    'an index at least as large', () => {
    fc.assert(fc.property(model, fc.nat({ max: 200 }), fc.nat({ max: 90 }), (m, lli, llt) => {
      const n = m.terms.length;
      const myTerm = n === 0 ? 0 : m.terms[n - 1] as number;
      expect(logUpToDate(logFrom(m), lli, llt)).toBe(llt > myTerm || (llt === myTerm && lli >= n));
    }), { numRuns: 1000 });
  });

  it('truncating, replacing, appending and merging [Fig2:AE#3,#4] never touch the snapshot',
    () => {
      fc.assert(fc.property(model, fc.nat({ max: 170 }), terms(12), fc.integer({ min: 0, max: 3 }),
        (m, at, news, shift) => {
          const log = logFrom(m);
          const n = m.terms.length;
          const kept = Math.max(m.base, Math.min(at, n));
          const cut = truncateAfter(log, at);
          expect([cut.snapshot, termsAfter(cut)]).toEqual([log.snapshot,
            m.terms.slice(m.base, kept)]);
          // truncating nothing is no change at all
          if (kept === n) expect(cut).toBe(log);
          const withNews = news.map((t) => t + shift);
          const replaced = replaceFrom(log, at + 1, withNews.map(entry));
          expect(termsAfter(replaced)).toEqual([...m.terms.slice(m.base, kept), ...withNews]);
          expect(termsAfter(appendEntry(log, entry(9, 0)))).toEqual([...m.terms.slice(m.base), 9]);
          // merge: a matching entry stays, the first conflict cuts the rest, new ones follow
          const merged = mergeEntries(log, at, withNews.map(entry));
          const want = [...m.terms];
          for (let k = 0; k < withNews.length; k++) {
            const index = at + 1 + k;
            if (index <= m.base || want[index - 1] === withNews[k]) continue;
            want.length = Math.min(want.length, index - 1);
            // a gap before prevLogIndex + 1 is the caller's to refuse [Fig2:AE#2]
            if (want.length < index - 1) break;
            want.push(...withNews.slice(k));
            break;
          }
          if (want.length >= at || at <= m.base) {
            expect([merged.snapshot, termsAfter(merged)])
              .toEqual([log.snapshot, want.slice(m.base)]);
          }
        }), { numRuns: 1000 });
    });

  it('[§7 Figure 13] compacting to a newer snapshot keeps the entries after it only if the log ' +
    'holds its last entry; an older or the same snapshot changes nothing', () => {
    fc.assert(fc.property(model, fc.nat({ max: 170 }), fc.boolean(), (m, at, sameTerm) => {
      const log = logFrom(m);
      const n = m.terms.length;
      const term = at >= 1 && at <= n && sameTerm ? m.terms[at - 1] as number
        : (m.terms[Math.min(at, n) - 1] ?? 0) + 1;
      const snap = { ...snapshotOf(m, Math.min(at, n)), index: at as LogIndex, term: term as Term };
      const compacted = compactTo(log, snap);
      if (at <= m.base) {
        expect(compacted).toBe(log);
        return;
      }
      expect(compacted.snapshot).toBe(snap);
      const holds = at <= n && m.terms[at - 1] === term;
      expect(termsAfter(compacted)).toEqual(holds ? m.terms.slice(at) : []);
      expect(lastLogIndex(compacted)).toBe(holds ? n : at);
    }), { numRuns: 1000 });
  });

  it('the change from one log to the next, applied to the first, gives the second; none for the ' +
    'same log, and never an empty one', () => {
    const op = fc.oneof(
      fc.record({ op: fc.constant('merge' as const), at: fc.nat({ max: 60 }), news: terms(6) }),
      fc.record({ op: fc.constant('truncate' as const), at: fc.nat({ max: 60 }) }),
      fc.record({ op: fc.constant('append' as const), term: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ op: fc.constant('compact' as const), at: fc.nat({ max: 60 }) }),
      // the same entries written again from some index: a new log, no change
      fc.record({ op: fc.constant('rewrite' as const), at: fc.nat({ max: 60 }) }),
    );
    fc.assert(fc.property(model, fc.array(op, { maxLength: 8 }), (m, ops) => {
      let before = logFrom(m);
      for (const o of ops) {
        let after = before;
        const n = lastLogIndex(before);
        if (o.op === 'merge' && o.at <= n) after = mergeEntries(before, o.at, o.news.map(entry));
        if (o.op === 'truncate') after = truncateAfter(before, o.at);
        if (o.op === 'rewrite' && o.at > before.snapshot.index && o.at <= n) {
          after = replaceFrom(before, o.at, entriesBetween(before, o.at, n));
        }
        if (o.op === 'append') after = appendEntry(before, entry(o.term, n + 1));
        if (o.op === 'compact' && o.at <= n) {
          after = compactTo(before, { index: o.at as LogIndex, term: termAt(before, o.at) as Term,
            kv: [], sessions: [], terms: termRunsUpTo(before, Math.max(o.at, before.snapshot.index)) });
        }
        const change = logChange(before, after);
        if (before === after) expect(change).toBeUndefined();
        // a change written to disk changes something: a new base, entries, or a truncation
        if (change !== undefined) {
          expect(change.snapshot !== undefined || change.entries.length > 0
            || change.fromIndex <= lastLogIndex(before)).toBe(true);
        }
        const rebuilt = change === undefined ? before : applyLogChange(before, change);
        expect([rebuilt.snapshot, termsAfter(rebuilt)]).toEqual([after.snapshot, termsAfter(after)]);
        before = after;
      }
    }), { numRuns: 1000 });
  });
});

describe('[D§4.1] a log knows its configuration: its last change, else its snapshot\'s', () => {
  /** A change whose configuration names `k` as its only learner (enough to tell them apart). */
  const change = (term: number, k: number): Entry => ({ term, cmd: { kind: 'config',
    change: 'addLearner', id: `0${String(k).padStart(3, '0')}`, voters: ['0A00', '0A01'],
    learners: [`0${String(k).padStart(3, '0')}`] } }) as unknown as Entry;
  /** Entries of term 1..: a change where `isChange` says, a put elsewhere. */
  const entries = fc.array(fc.boolean(), { maxLength: 40 }).map((flags) =>
    flags.map((isChange, k) => (isChange ? change(1, k) : entry(1, k))));
  /** The definition: scan the entries up to `index` back for a change. */
  const defined = (all: readonly Entry[], index: number, snap: Snapshot): unknown => {
    for (let i = Math.min(index, all.length); i > snap.index; i--) {
      const cmd = (all[i - 1] as Entry).cmd;
      if (cmd.kind === 'config') return cmd;
    }
    return snap.config;
  };

  it('after appends, truncations, replacements, merges and compaction, at every index', () => {
    fc.assert(fc.property(entries, entries, fc.nat({ max: 45 }), fc.nat({ max: 45 }),
      (first, more, cut, base) => {
        const check = (log: RaftLog, all: readonly Entry[]): void => {
          expect(log.config).toBe(defined(all, all.length, log.snapshot));
          for (let i = log.snapshot.index; i <= all.length; i++) {
            expect(configAt(log, i)).toBe(defined(all, i, log.snapshot));
          }
          const at = log.configIndex;
          expect(at === log.snapshot.index || (all[at - 1] as Entry).cmd === log.config).toBe(true);
        };
        const log = logOf(first);
        check(log, first);
        const next = more[0] ?? change(1, 99);
        check(appendEntry(log, next), [...first, next]);
        const k = Math.min(cut, first.length);
        check(truncateAfter(log, k), first.slice(0, k));
        check(replaceFrom(log, k + 1, more), [...first.slice(0, k), ...more]);
        const conflicting = more.map((e) => ({ ...e, term: 2 as Term }));
        check(mergeEntries(log, k, conflicting),
          conflicting.length === 0 ? first : [...first.slice(0, k), ...conflicting]);
        // compaction: the snapshot names the configuration as of its index
        const b = Math.min(base, first.length);
        const cfg = configAt(log, b);
        const snap: Snapshot = { index: b as LogIndex, term: (b === 0 ? 0 : 1) as Term, kv: [],
          sessions: [], terms: [], ...(cfg === undefined ? {} : { config: cfg }) };
        const compacted = compactTo(log, snap);
        if (b > 0) check(compacted, first);
        // a truncation below the last change reverts to the one before it
        if (b > 0) check(truncateAfter(compacted, b), first.slice(0, b));
      }), { numRuns: 400 });
  });
});
