/**
 * The linearizability checker against published register histories, hand-made corner cases, a
 * brute-force reading of the definition, and random executions that are linearizable by
 * construction (and mutations of them that provably are not) [STYLE §7].
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkHistory, linearizable, linearizableChecker, registerOpsOf }
  from '../../src/fault/checkers.js';
import { History } from '../../src/fault/history.js';
import { checkRegisterHistory, describeOp, type CheckOptions, type Linearizable,
  type RegisterOp, type RegisterValue } from '../../src/fault/linearizability.js';
import { formatReport, verdict, type Report } from '../../src/fault/report.js';
import { Rng } from '../../src/fault/rng.js';
import type { Scenario } from '../../src/fault/scenario.js';

let ids = 0;
const put = (key: string, value: string, call: number, ret = Infinity): RegisterOp =>
  ({ id: ids++, key, kind: 'put', value, call, ret });
const get = (key: string, read: RegisterValue, call: number, ret: number): RegisterOp =>
  ({ id: ids++, key, kind: 'get', read, call, ret });
const result = (ops: readonly RegisterOp[], opts?: CheckOptions): Linearizable =>
  checkRegisterHistory(ops, opts).result;
/** The published examples use integer registers that start at 0: 0 is our "". */
const v = (n: number): string => (n === 0 ? '' : String(n));

describe('[Wing & Gong 1993] published register histories', () => {
  // Porcupine porcupine_test.go TestRegisterModel, "examples taken from
  // http://nil.csail.mit.edu/6.824/2017/quizzes/q2-17-ans.pdf section VII".
  it('Porcupine TestRegisterModel: put 100 [0,100], get 100 [25,75], get 0 [30,60] is ok', () => {
    expect(result([put('x', v(100), 0, 100), get('x', v(100), 25, 75), get('x', v(0), 30, 60)]))
      .toBe('ok');
  });

  it('Porcupine TestRegisterModel: put 200 [0,100], get 200 [10,30], get 0 [40,90] is illegal',
    () => {
      expect(result([put('x', v(200), 0, 100), get('x', v(200), 10, 30),
        get('x', v(0), 40, 90)])).toBe('illegal');
    });

  // Knossos (jepsen-io/knossos) test/knossos/wgl_test.clj and linear_test.clj, register 0; event
  // i of a Knossos history is at time i here, as Porcupine's CheckEvents does.
  it('Knossos crash-test: a write that crashed (:info) is linearizable', () => {
    expect(result([put('x', v(1), 0)])).toBe('ok');
  });

  it('Knossos sequential-test: a read of the initial value is linearizable', () => {
    expect(result([get('x', v(0), 0, 1)])).toBe('ok');
  });

  it('Knossos read-wrong-initial-value-test: reading 1 from a fresh register is illegal', () => {
    expect(result([get('x', v(1), 0, 1)])).toBe('illegal');
  });

  it('Knossos preserves-indices-test: write 1 ok, then read 2, is illegal', () => {
    expect(result([put('x', v(1), 5, 7), get('x', v(2), 99, 100)])).toBe('illegal');
  });

  it('Knossos README: a crashed write of 3 concurrent with a read of 3 is linearizable', () => {
    // invoke read (0), invoke write 3 (1), info write 3 (2), ok read 3 (3)
    expect(result([get('x', v(3), 0, 3), put('x', v(3), 1)])).toBe('ok');
  });

  // Herlihy & Shavit, The Art of Multiprocessor Programming, ch. 3: a register history that is
  // sequentially consistent (reorder B's write first) but not linearizable.
  it('AMP ch. 3: A write(1), then B write(2), then A read() -> 1 is not linearizable', () => {
    expect(result([put('r', v(1), 0, 1), put('r', v(2), 2, 3), get('r', v(1), 4, 5)]))
      .toBe('illegal');
  });
});

describe('[Wing & Gong 1993] intervals, unanswered puts and equal times', () => {
  it('overlapping puts may take effect in either order', () => {
    const puts = [put('x', 'a', 0, 10), put('x', 'b', 5, 15)];
    expect(result([...puts, get('x', 'a', 20, 25)])).toBe('ok');
    expect(result([...puts, get('x', 'b', 20, 25)])).toBe('ok');
    expect(result([...puts, get('x', '', 20, 25)])).toBe('illegal');
  });

  it('reads that flip back (a, b, a) need two writes of a: illegal', () => {
    const puts = [put('x', 'a', 0, 100), put('x', 'b', 0, 100)];
    expect(result([...puts, get('x', 'a', 10, 20), get('x', 'b', 30, 40), get('x', 'a', 50, 60)]))
      .toBe('illegal');
    // overlapping reads may see the two values in any order
    expect(result([...puts, get('x', 'a', 10, 45), get('x', 'b', 30, 40), get('x', 'a', 35, 60)]))
      .toBe('ok');
  });

  it('at equal times a call comes before a return: the two ops count as concurrent', () => {
    expect(result([put('x', '1', 0, 10), get('x', '', 10, 12)])).toBe('ok');
    expect(result([put('x', '1', 0, 10), get('x', '', 11, 12)])).toBe('illegal');
    expect(result([put('x', '1', 5, 5), get('x', '', 5, 5)])).toBe('ok');
    expect(result([get('x', '1', 0, 10), put('x', '1', 10, 20)])).toBe('ok');
    expect(result([get('x', '1', 0, 9), put('x', '1', 10, 20)])).toBe('illegal');
  });

  it('a put never answered may have taken effect (read) or not (never read)', () => {
    const acked = put('x', '1', 0, 1);
    expect(result([acked, put('x', 's', 4), get('x', 's', 10, 11)])).toBe('ok');
    expect(result([acked, put('x', 's', 4), get('x', '1', 10, 11), get('x', '1', 12, 13)]))
      .toBe('ok');
    // taken effect after its read was answered, or after a later put that must supersede it
    expect(result([acked, put('x', 's', 4), get('x', 's', 10, 11), put('x', '2', 12, 13),
      get('x', '2', 14, 15)])).toBe('ok');
    expect(result([acked, put('x', 's', 4), get('x', 's', 10, 11), put('x', '2', 12, 13),
      get('x', 's', 14, 15)])).toBe('illegal');
    // but never before its invoke
    expect(result([get('x', 's', 0, 2), put('x', 's', 3)])).toBe('illegal');
  });

  it('a put answered only by redirect whose value is read: it may have taken effect', () => {
    const h = new History();
    const p = h.invoke('00C0', 'put', 'x', 'y1', 0);
    h.send(p.id, 'm0', '0001', 0);
    h.answer('m0', { type: 'redirect', atMs: 1, from: '0001', to: '00C0', leader: '0002',
      value: undefined });
    h.send(p.id, 'm1', '0002', 1);
    const g = h.invoke('00C1', 'get', 'x', undefined, 5);
    h.send(g.id, 'm2', '0002', 5);
    h.complete(g.id, 6, 'y1');
    expect(registerOpsOf(h).map(describeOp)).toEqual([
      'put x "y1" [0.0, ∞) pending after 1 fail/redirect (op 0, 00C0)',
      'get x -> "y1" [5.0, 6.0] (op 1, 00C1)',
    ]);
    expect(linearizable.check(h)).toEqual({ violations: [], unknown: [] });
  });

  it('a put that never left (no live replica) cannot take effect: reading it is wrong', () => {
    const h = new History();
    const p = h.invoke('00C0', 'put', 'x', 'lost', 0);
    h.giveUp(p.id, 'unsent');
    const g = h.invoke('00C1', 'get', 'x', undefined, 5);
    h.send(g.id, 'm0', '0002', 5);
    h.complete(g.id, 6, 'lost');
    expect(registerOpsOf(h).map(describeOp)).toEqual(['get x -> "lost" [5.0, 6.0] (op 1, 00C1)']);
    expect(linearizable.check(h).violations.map((x) => [x.kind, x.op])).toEqual([
      ['incorrect', g.id], ['history', g.id]]);
  });

  it('a stale read after a newer put completed is illegal; a value never written too', () => {
    expect(result([put('x', '1', 0, 1), put('x', '2', 2, 3), get('x', '1', 4, 5)]))
      .toBe('illegal');
    expect(result([put('x', '1', 0, 1), get('x', 'nobody', 2, 3)])).toBe('illegal');
  });

  it('a get never answered has no effect and is dropped, whatever it carries', () => {
    expect(result([put('x', '1', 0, 1), get('x', 'garbage', 2, Infinity)])).toBe('ok');
  });
});

describe('[H&W90 locality] each key is checked alone', () => {
  it('one illegal key fails the history; the others stay ok', () => {
    const r = checkRegisterHistory([put('a', '1', 0, 1), put('a', '2', 2, 3),
      get('a', '1', 4, 5), put('b', '3', 0, 1), get('b', '3', 4, 5), get('c', '', 0, 1)]);
    expect(r.result).toBe('illegal');
    expect(r.keysChecked).toBe(3);
    expect(r.keys.map((k) => [k.key, k.result, k.ops])).toEqual([['a', 'illegal', 3],
      ['b', 'ok', 2], ['c', 'ok', 1]]);
  });

  it('a value written to another key was never written to this one', () => {
    expect(result([put('a', '1', 0, 1), get('b', '1', 2, 3)])).toBe('illegal');
  });

  it('keys come in natural order, k2 before k10', () => {
    const r = checkRegisterHistory([get('k10', '', 0, 1), get('k2', '', 0, 1)]);
    expect(r.keys.map((k) => k.key)).toEqual(['k2', 'k10']);
  });
});

/**
 * n puts, all concurrent, each read once: Wing & Gong's exponential case (the key is ok, but the
 * search takes 56 steps for n = 3, 1,498 for n = 5 and 115,408 for n = 8).
 */
function busyKey(key: string, n: number): RegisterOp[] {
  return Array.from({ length: n }, (_, i) => [put(key, `${key}${i}`, 0, 100),
    get(key, `${key}${i}`, 1, 100)]).flat();
}

describe('[Lowe 2017] the search is bounded: unknown, never a guess', () => {
  // distinct values are decided by clusters, never bounded: `method: 'search'` forces the search
  const search = { method: 'search' } as const;
  it('a tiny step bound leaves the key unknown, and says which bound', () => {
    const r = checkRegisterHistory(busyKey('x', 5), { ...search, maxStepsPerKey: 3 });
    expect(r.result).toBe('unknown');
    expect(r.keys[0]).toMatchObject({ result: 'unknown', steps: 3,
      reason: 'search bound of 3 steps reached' });
    expect(result(busyKey('x', 5))).toBe('ok');
  });

  it('a step budget for the run leaves the keys it did not reach unknown', () => {
    // each key takes 56 steps alone
    const r = checkRegisterHistory([...busyKey('a', 3), ...busyKey('b', 3)],
      { ...search, stepBudget: 100 });
    expect(r.keys.map((k) => [k.key, k.result, k.steps, k.reason])).toEqual([
      ['a', 'ok', 56, undefined], ['b', 'unknown', 44, 'step budget of 100 steps used up']]);
  });

  it('an illegal key wins over an unknown one', () => {
    expect(result([...busyKey('a', 5), get('b', 'nobody', 0, 1)],
      { ...search, maxStepsPerKey: 3 })).toBe('illegal');
  });

  it('a key whose puts repeat a value goes to the search; distinct values never do', () => {
    const repeated = [put('x', 'a', 0, 10), put('x', 'a', 5, 15), get('x', 'a', 20, 21)];
    expect(checkRegisterHistory(repeated).keys[0]).toMatchObject({ result: 'ok',
      method: 'search' });
    // a put of "" repeats the initial value: a get of "" could have read either
    expect(checkRegisterHistory([put('x', '', 0, 1)]).keys[0]?.method).toBe('search');
    const r = checkRegisterHistory(busyKey('x', 200), { maxStepsPerKey: 3 });
    expect(r.keys[0]).toMatchObject({ result: 'ok', method: 'clusters' });
    expect(r.keys[0]?.steps).toBeLessThanOrEqual(400 + 201);
  });
});

/** What a report needs around a check result. */
function reportOf(check: Report['check']): Report {
  const scenario: Scenario = { name: 'unit', lifetime: 1, replicas: 3, requests: 1, mix: 0.5,
    drops: 0, seed: 1, start_wait: 1, end_wait: 1, events: [], clients: 1, keys: 1,
    thresholds: {}, network: {} };
  return { scenario, tool: 'detsim', replicaCommand: 'r', rerun: 'x', endMs: 1, leaders: [],
    network: { messages: 0, delivered: 0, dropped: 0, partitioned: 0, toDead: 0, beforeHello: 0,
      fromDead: 0, duplicated: 0 },
    clients: { planned: 1, ops: 1, gets: 1, puts: 1, attempts: 2, getsAnswered: 1,
      putsAnswered: 1, redirects: 0, failures: 0, duplicates: 0, incorrect: 0, unanswered: 0,
      abandoned: 0, unsent: 0 },
    latency: undefined, events: [], check, incorrect: [], killed: [], deaths: [], errors: [],
    errorCount: 0 };
}

describe('[report] linearizability in the history check and the verdict', () => {
  const history = (read: string): History => {
    const h = new History();
    for (const [i, [kind, value]] of [['put', 'a'], ['put', 'b'], ['get', read]].entries()) {
      const op = h.invoke('00C0', kind as 'get' | 'put', 'k3', kind === 'put' ? value : undefined,
        10 * i);
      h.send(op.id, `m${i}`, '0000', 10 * i);
      h.complete(op.id, 10 * i + 5, kind === 'get' ? read : undefined);
    }
    return h;
  };

  it('an undecided key fails the run, and the verdict names the key and the bound', () => {
    const check = checkHistory(history('b'), [linearizableChecker({ maxStepsPerKey: 1,
      method: 'search' })]);
    expect(check).toMatchObject({ passed: false, checks: [{ name: 'linearizable', violations: [],
      unknown: ['unknown for keys k3 (search bound of 1 step reached)'] }] });
    const r = reportOf(check);
    const text = formatReport(r, verdict(r, r.scenario));
    expect(text).toContain('\n               linearizable: unknown for keys k3 (search bound ' +
      'of 1 step reached)\n');
    expect(text.slice(text.indexOf('verdict:'))).toBe('verdict: FAIL\n  correctness: history ' +
      'check undecided: linearizable: unknown for keys k3 (search bound of 1 step reached)');
    // the same history, decided: it passes
    const decided = reportOf(checkHistory(history('b')));
    expect(verdict(decided, decided.scenario)).toEqual([]);
  });

  it('an illegal key fails the run with its small sub-history', () => {
    const r = reportOf(checkHistory(history('a')));
    const text = formatReport(r, verdict(r, r.scenario));
    expect(text.slice(text.indexOf('verdict:'))).toBe('verdict: FAIL\n' +
      '  correctness: history check failed:\n' +
      '    key k3 is not linearizable: 3 of its 3 operations admit no valid order:\n' +
      '      put k3 "a" [0.0, 5.0] ok (op 0, 00C0)\n' +
      '      put k3 "b" [10.0, 15.0] ok (op 1, 00C0)\n' +
      '      get k3 -> "a" [20.0, 25.0] (op 2, 00C0)');
  });
});

interface Planned { key: string; put: boolean; fate: 'ok' | 'applied' | 'lost' }

/**
 * A register execution that is linearizable by construction: op i takes effect at 10 i (a lost
 * put never does), and its interval is widened around that point by `before` and `after`.
 */
function sequential(plan: readonly (Planned & { before: number; after: number })[]):
  RegisterOp[] {
  const state = new Map<string, string>();
  return plan.map((p, i) => {
    const at = 10 * i;
    const call = at - p.before;
    if (!p.put) return get(p.key, state.get(p.key) ?? '', call, at + p.after);
    if (p.fate !== 'lost') state.set(p.key, `v${i}`);
    return put(p.key, `v${i}`, call, p.fate === 'ok' ? at + p.after : Infinity);
  });
}

const planArb = fc.array(fc.record({
  key: fc.constantFrom('a', 'b', 'c'),
  put: fc.boolean(),
  fate: fc.constantFrom('ok', 'ok', 'applied', 'lost') as fc.Arbitrary<Planned['fate']>,
  before: fc.nat(30),
  after: fc.nat(30),
}), { minLength: 1, maxLength: 40 });

describe('[property] random sequential executions, widened', () => {
  it('are linearizable', () => {
    fc.assert(fc.property(planArb, (plan) => {
      expect(result(sequential(plan))).toBe('ok');
    }), { numRuns: 300 });
  });

  it('become illegal when a get reads a value never written', () => {
    fc.assert(fc.property(planArb, fc.nat(), (plan, pick) => {
      const ops = sequential(plan);
      const gets = ops.flatMap((o, i) => (o.kind === 'get' ? [i] : []));
      fc.pre(gets.length > 0);
      const at = gets[pick % gets.length] as number;
      const mutated = ops.map((o, i) => (i === at ? { ...o, read: 'never written' } : o));
      expect(result(mutated)).toBe('illegal');
    }), { numRuns: 200 });
  });

  it('become illegal when a get reads "" after a put of its key was acked', () => {
    fc.assert(fc.property(planArb, (plan) => {
      const ops = sequential(plan);
      // every value written is non-empty, so nothing brings "" back once a put took effect
      const at = ops.findIndex((g) => g.kind === 'get' && ops.some((p) => p.kind === 'put'
        && p.key === g.key && p.ret < g.call));
      fc.pre(at >= 0);
      const mutated = ops.map((o, i) => (i === at ? { ...o, read: '' } : o));
      expect(result(mutated)).toBe('illegal');
    }), { numRuns: 200 });
  });
});

/**
 * The definition, searched by brute force: some order of all answered ops and any subset of the
 * unanswered puts, in which no op comes before one that returned before it was called.
 */
function bruteForce(ops: readonly RegisterOp[]): boolean {
  const live = ops.filter((o) => o.kind === 'put' || o.ret !== Infinity);
  const search = (left: readonly RegisterOp[], value: string): boolean => {
    if (left.every((o) => o.ret === Infinity)) return true;
    return left.some((o, i) => !left.some((y) => y.ret < o.call)
      && (o.kind === 'put' || o.read === value)
      && search(left.filter((_, j) => j !== i), o.kind === 'put' ? o.value : value));
  };
  return search(live, '');
}

describe('[H&W90] agrees with the definition searched by brute force', () => {
  const opArb = fc.record({
    put: fc.boolean(),
    value: fc.constantFrom('', 'a', 'b', 'c', 'z'),
    call: fc.nat(20),
    length: fc.nat(12),
    answered: fc.boolean(),
  });

  /** Histories of one key; `distinct`: each put value once (a, b, c), as in our runs. */
  const historyArb = (distinct: boolean): fc.Arbitrary<RegisterOp[]> =>
    fc.array(opArb, { minLength: 1, maxLength: 7 }).map((raw) => {
      const used = new Set<string>();
      return raw.flatMap((r): RegisterOp[] => {
        const ret = r.answered ? r.call + r.length : Infinity;
        if (!r.put) return [get('x', r.value, r.call, ret)];
        if (distinct && (r.value === '' || used.has(r.value))) return [];
        used.add(r.value);
        return [put('x', r.value, r.call, ret)];
      });
    });

  it('on random small histories of one key with distinct put values: both deciders', () => {
    fc.assert(fc.property(historyArb(true), (ops) => {
      const expected = bruteForce(ops) ? 'ok' : 'illegal';
      const clusters = checkRegisterHistory(ops);
      if (ops.some((o) => o.kind === 'put' || o.ret !== Infinity)) {
        expect(clusters.keys[0]?.method).toBe('clusters');
      }
      expect(clusters.result).toBe(expected);
      expect(result(ops, { method: 'search' })).toBe(expected);
    }), { numRuns: 3000 });
  });

  it('on random small histories of one key whose puts repeat values (the search)', () => {
    fc.assert(fc.property(historyArb(false), (ops) => {
      expect(result(ops)).toBe(bruteForce(ops) ? 'ok' : 'illegal');
    }), { numRuns: 2000 });
  });
});

const del = (key: string, call: number, ret = Infinity, read?: RegisterValue): RegisterOp =>
  ({ id: ids++, key, kind: 'del', call, ret, ...(read === undefined ? {} : { read }) });
const cas = (key: string, expected: RegisterValue, value: string, call: number, ret = Infinity,
  read?: RegisterValue): RegisterOp => ({ id: ids++, key, kind: 'cas', expected, value, call, ret,
  ...(read === undefined ? {} : { read }) });
const absent = (ops: readonly RegisterOp[]): Linearizable => result(ops, { initial: null });

/** The store's sequential register: `o` applied to `value`, or undefined if its answer rules it out. */
function apply(o: RegisterOp, value: RegisterValue): RegisterValue | undefined {
  const found = o.kind === 'put' || o.ret === Infinity ? undefined : o.read;
  if (found !== undefined && found !== value) return undefined;
  switch (o.kind) {
    case 'get': return value;
    case 'put': return o.value;
    case 'del': return null;
    case 'cas': return value === o.expected ? o.value : value;
  }
}

/** The definition by brute force, for every kind of op: as `bruteForce`, from `initial`. */
function bruteForceKv(ops: readonly RegisterOp[], initial: RegisterValue): boolean {
  const live = ops.filter((o) => o.kind !== 'get' || o.ret !== Infinity);
  const search = (left: readonly RegisterOp[], value: RegisterValue): boolean => {
    if (left.every((o) => o.ret === Infinity)) return true;
    return left.some((o, i) => {
      if (left.some((y) => y.ret < o.call)) return false;
      const next = apply(o, value);
      return next !== undefined && search(left.filter((_, j) => j !== i), next);
    });
  };
  return search(live, initial);
}

describe('[issue 16] deletes and compare-and-swap: a register that may be absent', () => {
  it('a del makes the key absent, which is not ""; a del and a cas answer with what they found',
    () => {
      expect(absent([put('x', 'a', 0, 1), del('x', 2, 3, 'a'), get('x', null, 4, 5)])).toBe('ok');
      expect(absent([put('x', 'a', 0, 1), del('x', 2, 3, 'a'), get('x', '', 4, 5)]))
        .toBe('illegal');
      expect(absent([put('x', 'a', 0, 1), del('x', 2, 3, 'a'), get('x', 'a', 4, 5)]))
        .toBe('illegal'); // read past a delete
      expect(absent([put('x', 'a', 0, 1), del('x', 2, 3, null)])).toBe('illegal'); // missed put
      expect(absent([get('x', null, 0, 1)])).toBe('ok');
      expect(result([get('x', null, 0, 1)])).toBe('illegal'); // the protocol's registers start at ""
    });

  it('a cas writes only when it finds what it expects; a failed one answers the current value',
    () => {
      expect(absent([cas('x', null, 'a', 0, 1, null), get('x', 'a', 2, 3)])).toBe('ok');
      expect(absent([put('x', 'b', 0, 1), cas('x', null, 'a', 2, 3, 'b'), get('x', 'b', 4, 5)]))
        .toBe('ok');
      expect(absent([put('x', 'b', 0, 1), cas('x', null, 'a', 2, 3, 'b'), get('x', 'a', 4, 5)]))
        .toBe('illegal'); // a failed cas wrote
      expect(absent([put('x', 'b', 0, 1), cas('x', 'b', 'a', 2, 3, 'b'), get('x', 'b', 4, 5)]))
        .toBe('illegal'); // a swap lost
      // two cas that both expect the key absent and both swap: one must have seen the other
      expect(absent([cas('x', null, 'a', 0, 10, null), cas('x', null, 'b', 1, 11, null)]))
        .toBe('illegal');
      expect(absent([cas('x', null, 'a', 0, 10, null), cas('x', null, 'b', 1, 11, 'a')]))
        .toBe('ok');
      // an unanswered cas may have swapped (its value is read) or not
      expect(absent([cas('x', null, 'a', 0), get('x', 'a', 5, 6)])).toBe('ok');
      expect(absent([put('x', 'b', 0, 1), cas('x', null, 'a', 2), get('x', 'a', 5, 6)]))
        .toBe('illegal'); // it could not have swapped: the key held b
      expect(checkRegisterHistory([cas('x', null, 'a', 0, 1, null)], { initial: null }).keys[0]
        ?.method).toBe('search');
    });

  it('describes each kind on one line', () => {
    expect([del('k', 1, 2, 'v'), del('k', 3, Infinity), cas('k', null, 'w', 4, 5, 'v')]
      .map(describeOp)).toEqual(['del k -> "v" [1.0, 2.0] ok', 'del k [3.0, ∞) no answer',
      'cas k absent "w" -> "v" [4.0, 5.0] ok']);
  });

  it('agrees with the definition searched by brute force, on random small histories of every ' +
    'kind, from an absent register and from ""', () => {
    const valueArb = fc.constantFrom<RegisterValue>(null, '', 'a', 'b');
    const opArb = fc.record({ kind: fc.constantFrom('put', 'get', 'del', 'cas'),
      value: fc.constantFrom('', 'a', 'b'), expected: valueArb, read: valueArb,
      call: fc.nat(16), length: fc.nat(10), answered: fc.boolean() });
    const historyArb = fc.array(opArb, { minLength: 1, maxLength: 6 }).map((raw) =>
      raw.map((r): RegisterOp => {
        const ret = r.answered ? r.call + r.length : Infinity;
        const read = r.answered ? r.read : undefined;
        switch (r.kind) {
          case 'put': return put('x', r.value, r.call, ret);
          case 'get': return get('x', r.read as string, r.call, r.call + r.length);
          case 'del': return del('x', r.call, ret, read);
          default: return cas('x', r.expected, r.value, r.call, ret, read);
        }
      }));
    fc.assert(fc.property(historyArb, fc.constantFrom<RegisterValue>(null, ''), (ops, initial) => {
      expect(result(ops, { initial })).toBe(bruteForceKv(ops, initial) ? 'ok' : 'illegal');
    }), { numRuns: 3000 });
  });
});

/**
 * A legal history of `n` ops by `clients` sequential clients over `keys` keys, times in whole
 * ms (so many ties): each op takes effect at a point inside its interval; some puts are never
 * answered (taking effect or not), some gets never answered.
 */
function randomHistory(rng: Rng, n: number, keys: number, clients: number): RegisterOp[] {
  const free = new Array<number>(clients).fill(0);
  const planned = Array.from({ length: n }, (_, i) => {
    const c = rng.int(clients);
    const call = (free[c] as number) + rng.float() * 4;
    const at = call + rng.float() * 4;
    const end = at + rng.float() * 4;
    free[c] = end;
    return { i, key: `k${rng.int(keys)}`, isPut: rng.chance(0.5), lost: rng.chance(0.05),
      call: Math.floor(call), at, ret: Math.ceil(end) };
  });
  const state = new Map<string, string>();
  return planned.sort((a, b) => a.at - b.at).flatMap((p): RegisterOp[] => {
    if (!p.isPut) {
      const read = state.get(p.key) ?? '';
      return p.lost ? [] : [get(p.key, read, p.call, p.ret)];
    }
    const value = `v${p.i}`;
    const unanswered = p.lost || rng.chance(0.05);
    if (!p.lost) state.set(p.key, value);
    return [put(p.key, value, p.call, unanswered ? Infinity : p.ret)];
  });
}

describe('[shrinking] an illegal key is reported as a small failing sub-history', () => {
  it('a stale read planted in a 200-op legal history shrinks to at most 4 ops', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const legal = randomHistory(new Rng(seed), 200, 2, 4);
      expect(result(legal)).toBe('ok');
      // Mid-run on k0: put P, then put Q invoked after P's ok; a get after Q's ok reads P.
      const acked = (o: RegisterOp): o is RegisterOp & { kind: 'put' } => o.kind === 'put'
        && o.key === 'k0' && o.ret !== Infinity;
      const p = legal.find((o) => acked(o) && o.call >= 150);
      const q = legal.find((o) => acked(o) && o.call > (p?.ret ?? Infinity));
      if (p?.kind !== 'put' || q === undefined) throw new Error(`seed ${seed}: no P and Q`);
      const stale = get('k0', p.value, q.ret + 1, q.ret + 2);
      const r = checkRegisterHistory([...legal, stale]);
      const k0 = r.keys.find((k) => k.key === 'k0');
      expect(k0?.result).toBe('illegal');
      expect(k0?.ops).toBeGreaterThan(50);
      expect(k0?.witness?.length).toBeLessThanOrEqual(4);
      expect(k0?.witness).toContain(stale);
      expect(r.keys.find((k) => k.key === 'k1')?.result).toBe('ok');
    }
  });

  it('a witness lists its ops in time order, one line each', () => {
    const r = checkRegisterHistory([put('k3', 'v12-7', 1203.4, 1207.9),
      get('k3', '', 1209, 1210.1), get('k3', 'v12-7', 1205, 1206.1)]);
    expect(r.keys[0]?.witness?.map(describeOp)).toEqual(['put k3 "v12-7" [1203.4, 1207.9] ok',
      'get k3 -> "" [1209.0, 1210.1]']);
  });
});

describe('[Gibbons & Korach 1997] distinct values: every history decided, in O(n log n)', () => {
  it('200,000 ops by 64 clients over 4 keys: decided in seconds, a planted stale read found', () => {
    const legal = randomHistory(new Rng(11), 200_000, 4, 64);
    const t0 = performance.now();
    const r = checkRegisterHistory(legal);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(r.keys.map((k) => [k.result, k.method])).toEqual(
      new Array(4).fill(['ok', 'clusters']));
    // the last acked put Q of k0, an acked put P that returned before Q was called, and a get
    // after Q that reads P
    const puts = legal.filter((o): o is RegisterOp & { kind: 'put' } => o.kind === 'put'
      && o.key === 'k0' && o.ret !== Infinity);
    const q = puts[puts.length - 1];
    const p = puts.findLast((o) => q !== undefined && o.ret < q.call);
    if (p === undefined || q === undefined) throw new Error('no puts on k0');
    const stale = get('k0', p.value, q.ret + 1, q.ret + 2);
    const k0 = checkRegisterHistory([...legal, stale]).keys.find((k) => k.key === 'k0');
    expect(k0).toMatchObject({ result: 'illegal', method: 'clusters' });
    expect(k0?.witness).toContain(stale);
    expect(k0?.witness?.length).toBeLessThanOrEqual(4);
  });
});

describe('[Wing & Gong 1993] performance sanity', () => {
  it('2,000 ops over 16 keys by 4 concurrent clients complete within the default bound', () => {
    const ops = randomHistory(new Rng(7), 2000, 16, 4);
    const r = checkRegisterHistory(ops);
    expect(r.result).toBe('ok');
    expect(r.keysChecked).toBe(16);
  });
});
