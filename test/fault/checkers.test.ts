/**
 * Every checker must reject a history built to break it [STYLE §7], and accept good histories,
 * unknown-outcome puts included.
 */
import { describe, expect, it } from 'vitest';
import { checkHistory, linearizable, midAnswers, type Violation }
  from '../../src/fault/checkers.js';
import { History, type AnswerType } from '../../src/fault/history.js';

const R = '0000';
const C = '00C0';

/** A small script language over History: one logical operation per call, one attempt each. */
class Script {
  readonly h = new History();
  private n = 0;

  /** Invoke at `t`; returns the op id. */
  put(key: string, value: string, t: number): number {
    const op = this.h.invoke(C, 'put', key, value, t).id;
    this.h.send(op, `m${this.n++}`, R, t);
    return op;
  }

  get(key: string, t: number): number {
    const op = this.h.invoke(C, 'get', key, undefined, t).id;
    this.h.send(op, `m${this.n++}`, R, t);
    return op;
  }

  /** Answer the op's latest attempt; an ok completes the operation. */
  answer(op: number, type: AnswerType, t: number, value?: string, to = C): void {
    const mid = this.h.operation(op)?.mids.at(-1) as string;
    this.h.answer(mid, { type, atMs: t, from: R, to, leader: R, value });
    if (type === 'ok') this.h.complete(op, t, value);
  }

  /** A new attempt of `op` (after a redirect or fail). */
  retry(op: number, t: number): void {
    this.h.send(op, `m${this.n++}`, R, t);
  }

  violations(): Violation[] {
    return checkHistory(this.h).checks.flatMap((c) => c.violations);
  }
}

describe('[checkers] mid-answers: each MID answered at most once', () => {
  it('flags a second answer as a duplicate', () => {
    const s = new Script();
    const p = s.put('x', '1', 0);
    s.answer(p, 'ok', 1);
    s.answer(p, 'ok', 2);
    expect(s.violations()).toMatchObject([{ checker: 'mid-answers', kind: 'duplicate',
      mid: 'm0' }]);
  });

  it('flags an ok after a redirect or a fail for the same MID as incorrect', () => {
    for (const first of ['redirect', 'fail'] as const) {
      const s = new Script();
      const p = s.put('x', '1', 0);
      s.answer(p, first, 1);
      s.h.answer('m0', { type: 'ok', atMs: 2, from: R, to: C, leader: R, value: undefined });
      expect(s.violations()).toMatchObject([{ kind: 'incorrect',
        detail: `${R} answered ok after ${first}` }]);
    }
  });

  it('flags an answer to a MID never sent, to the wrong client, a get ok with no value', () => {
    const s = new Script();
    s.h.answer('nope', { type: 'ok', atMs: 1, from: R, to: C, leader: R, value: undefined });
    const g = s.get('x', 2);
    s.answer(g, 'ok', 3, undefined, '00C1');
    expect(s.violations().map((v) => v.detail)).toEqual([
      `${R} answered ok to ${C} for MID nope, which no client sent`,
      `${R} sent ${C}'s answer to 00C1`,
      `${R} answered a get ok without a value`,
    ]);
  });

  it('accepts one answer per MID, retries included', () => {
    const s = new Script();
    const p = s.put('x', '1', 0);
    s.answer(p, 'redirect', 1);
    s.retry(p, 1);
    s.answer(p, 'fail', 2);
    s.retry(p, 2);
    s.answer(p, 'ok', 3);
    expect(midAnswers.check(s.h)).toEqual([]);
  });
});

/** The op the linearizable checker blames on each illegal key (the last get of its witness). */
const blamed = (s: Script): (number | undefined)[] =>
  linearizable.check(s.h).violations.filter((v) => v.kind === 'history').map((v) => v.op);

/**
 * These histories were the negative tests of the earlier `read-values` checker (necessary
 * conditions only); the linearizability checker must reject every one of them.
 */
describe('[H&W90] linearizable: gets consistent with real-time order per key', () => {
  it('flags a stale read: a value superseded by a put acked before the get', () => {
    const s = new Script();
    const p1 = s.put('x', '1', 0);
    s.answer(p1, 'ok', 1);
    const p2 = s.put('x', '2', 2);
    s.answer(p2, 'ok', 3);
    const g = s.get('x', 4);
    s.answer(g, 'ok', 5, '1');
    expect(s.violations()).toMatchObject([{ checker: 'linearizable', kind: 'history', op: g }]);
    expect(s.violations()[0]?.detail).toBe('key x is not linearizable: 3 of its 3 operations ' +
      'admit no valid order:\n' +
      '  put x "1" [0.0, 1.0] ok (op 0, 00C0)\n' +
      '  put x "2" [2.0, 3.0] ok (op 1, 00C0)\n' +
      '  get x -> "1" [4.0, 5.0] (op 2, 00C0)');
  });

  it('flags a value never written, and one written to another key: also incorrect answers', () => {
    const details: string[] = [];
    for (const read of ['made-up', '1']) {
      const s = new Script();
      const p = s.put('y', '1', 0);
      s.answer(p, 'ok', 1);
      const g = s.get('x', 2);
      s.answer(g, 'ok', 3, read);
      expect(blamed(s)).toEqual([g]);
      const found = linearizable.check(s.h).violations;
      expect(found.find((v) => v.kind === 'history')?.detail)
        .toMatch(/^key x .*: 1 of its 1 operations/);
      const wrong = found.filter((v) => v.kind === 'incorrect');
      expect(wrong).toMatchObject([{ checker: 'linearizable', op: g, mid: 'm1' }]);
      details.push(wrong[0]?.detail ?? '');
    }
    expect(details).toEqual([
      'get x (op 1, 00C0) read "made-up": no put ever wrote this value',
      'get x (op 1, 00C0) read "1": the value was written to key y',
    ]);
  });

  it('flags "" after an acked put, and a read of a put invoked after the get was answered', () => {
    const s = new Script();
    const p = s.put('x', '1', 0);
    s.answer(p, 'ok', 1);
    const g = s.get('x', 2);
    s.answer(g, 'ok', 3, '');
    const g2 = s.get('z', 4);
    s.answer(g2, 'ok', 5, '9');
    const late = s.put('z', '9', 6);
    s.answer(late, 'ok', 7);
    expect(blamed(s)).toEqual([g, g2]);
  });

  it('accepts the last acked value, a concurrent put, and "" before any ack', () => {
    const s = new Script();
    const g0 = s.get('x', 0);
    const p1 = s.put('x', '1', 1);
    s.answer(g0, 'ok', 2, '1'); // p1 concurrent with the get: it may have taken effect
    s.answer(p1, 'ok', 3);
    const p2 = s.put('x', '2', 4);
    const g1 = s.get('x', 5);
    s.answer(g1, 'ok', 6, '1'); // p2 not acked yet: the old value is still allowed
    s.answer(p2, 'ok', 7);
    const g2 = s.get('y', 8);
    s.answer(g2, 'ok', 9, '');
    expect(checkHistory(s.h)).toMatchObject({ passed: true, checks: [{ unknown: [] },
      { name: 'linearizable', unknown: [] }] });
  });

  it('accepts reads of unknown-outcome puts (failed, redirected or unanswered), at any later time',
    () => {
      const s = new Script();
      const p1 = s.put('x', '1', 0);
      s.answer(p1, 'ok', 1);
      const failed = s.put('x', 'f', 2);
      s.answer(failed, 'fail', 3);
      const silent = s.put('x', 's', 4);
      // an unknown-outcome put supersedes nothing until something shows it took effect
      const g1 = s.get('x', 10);
      s.answer(g1, 'ok', 11, '1');
      const g2 = s.get('x', 12);
      s.answer(g2, 'ok', 13, 'f');
      const g3 = s.get('x', 14);
      s.answer(g3, 'ok', 15, 's');
      expect(s.h.operation(silent)?.status).toBe('pending');
      expect(checkHistory(s.h).passed).toBe(true);
    });

  it('a read shows that an unknown-outcome put took effect: older values are gone after it', () => {
    const s = new Script();
    const p1 = s.put('x', '1', 0);
    s.answer(p1, 'ok', 1);
    s.put('x', 's', 4); // never answered
    const g1 = s.get('x', 10);
    s.answer(g1, 'ok', 11, 's');
    const g2 = s.get('x', 12);
    s.answer(g2, 'ok', 13, '1'); // 1 -> s -> 1: not linearizable
    expect(blamed(s)).toEqual([g2]);
    const g3 = s.get('y', 14);
    const p2 = s.put('y', 'y1', 15); // redirected, but read by g4 before g5 reads ""
    s.answer(p2, 'redirect', 16);
    s.answer(g3, 'ok', 17, '');
    const g4 = s.get('y', 18);
    s.answer(g4, 'ok', 19, 'y1');
    const g5 = s.get('y', 20);
    s.answer(g5, 'ok', 21, '');
    expect(blamed(s)).toEqual([g2, g5]);
    expect(linearizable.check(s.h).violations[1]?.detail).toContain(
      '  put y "y1" [15.0, ∞) pending after 1 fail/redirect (op 5, 00C0)\n');
  });

  it('a put acked before another put was invoked is superseded only once that one is acked', () => {
    const s = new Script();
    const p1 = s.put('x', '1', 0);
    s.answer(p1, 'ok', 1);
    const p2 = s.put('x', '2', 2);
    const g1 = s.get('x', 3);
    s.answer(g1, 'ok', 4, '1');
    s.answer(p2, 'ok', 5);
    const g2 = s.get('x', 6);
    s.answer(g2, 'ok', 7, '1');
    expect(blamed(s)).toEqual([g2]);
  });
});
