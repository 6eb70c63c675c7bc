/**
 * Checks over a finished history. Each checker is a pure function from the history to its
 * violations; `checkHistory` runs a list of them, so a full linearizability checker (Wing & Gong,
 * Porcupine) can join or replace `readValues` without touching the drivers.
 *
 * The time of an operation is the simulator's: invoked when its first request left, answered when
 * the answer arrived. The real operation happened inside that interval, so a check that is sound
 * for these intervals raises no false alarm.
 */
import type { HistoryData, Operation } from './history.js';

/**
 * duplicate: a second answer to a MID; incorrect: an answer that is wrong by itself (a wrong value,
 * an `ok` after a `redirect`/`fail`); history: the history as a whole admits no valid order.
 */
export type ViolationKind = 'duplicate' | 'incorrect' | 'history';

export interface Violation {
  readonly checker: string;
  readonly kind: ViolationKind;
  readonly mid?: string;
  readonly op?: number;
  readonly detail: string;
}

export interface Checker {
  readonly name: string;
  check(history: HistoryData): Violation[];
}

export interface CheckResult {
  readonly passed: boolean;
  readonly checks: readonly { readonly name: string; readonly violations: readonly Violation[] }[];
}

/**
 * "Each MID gets exactly one response. A second response to a MID, or an ok after a
 * redirect/fail for the same MID, is an incorrect answer" (replica-udp.md). Also: an answer must
 * go to the client that sent the MID, a get's ok must carry a value, and nobody may answer a MID
 * that was never sent.
 */
export const midAnswers: Checker = {
  name: 'mid-answers',
  check(h) {
    const found: Violation[] = [];
    const v = (kind: Violation['kind'], mid: string, op: number | undefined, detail: string) =>
      found.push({ checker: 'mid-answers', kind, mid, ...(op === undefined ? {} : { op }),
        detail });
    for (const s of h.strays) v('incorrect', s.mid, undefined, `${s.from} answered ${s.type} ` +
      `to ${s.to} for MID ${s.mid}, which no client sent`);
    for (const a of h.attempts) {
      const kind = h.operations[a.op]?.kind;
      for (const [i, answer] of a.answers.entries()) {
        if (answer.to !== a.client) {
          v('incorrect', a.mid, a.op, `${answer.from} sent ${a.client}'s answer to ${answer.to}`);
        }
        if (kind === 'get' && answer.type === 'ok' && answer.value === undefined) {
          v('incorrect', a.mid, a.op, `${answer.from} answered a get ok without a value`);
        }
        if (i === 0) continue;
        const first = a.answers[0]?.type;
        if (answer.type === 'ok' && first !== 'ok') {
          v('incorrect', a.mid, a.op, `${answer.from} answered ok after ${first}`);
        } else {
          v('duplicate', a.mid, a.op, `answer ${i + 1} (${answer.type} from ${answer.from}) ` +
            `after ${first}`);
        }
      }
    }
    return found;
  },
};

/**
 * When a put is known to have taken effect: its `ok`, or the `ok` of the first get that read its
 * value (values are unique), whichever is earlier; undefined while neither happened.
 */
type EffectiveAt = ReadonlyMap<Operation, number>;

function effectiveTimes(ops: readonly Operation[], writerOf: ReadonlyMap<string, Operation>):
  EffectiveAt {
  const at = new Map<Operation, number>();
  const earliest = (p: Operation, t: number): void => {
    at.set(p, Math.min(at.get(p) ?? Infinity, t));
  };
  for (const op of ops) {
    if (op.status !== 'ok' || op.okMs === undefined) continue;
    if (op.kind === 'put') earliest(op, op.okMs);
    const writer = op.kind === 'get' && op.read !== undefined ? writerOf.get(op.read) : undefined;
    if (writer !== undefined && writer.key === op.key) earliest(writer, op.okMs);
  }
  return at;
}

/**
 * Every get answered ok reads a value that real-time order allows, per key:
 * - "" or the value of a put to that key invoked before the get was answered;
 * - not a superseded value: if put P2 was invoked after P took effect, and P2 took effect before
 *   the get was invoked, P's value is gone;
 * - not "" once some put to the key took effect before the get was invoked.
 * A put takes effect by its `ok`, or by the `ok` of a get that read its value. One answered
 * fail/redirect or never may take effect at any time after its invoke; once a get has read it,
 * it has. (This is a set of necessary conditions, not a full linearizability check.)
 */
export const readValues: Checker = {
  name: 'read-values',
  check(h) {
    const putsByKey = new Map<string, Operation[]>();
    const writerOf = new Map<string, Operation>();
    for (const op of h.operations) {
      if (op.kind !== 'put' || op.value === undefined) continue;
      putsByKey.set(op.key, [...(putsByKey.get(op.key) ?? []), op]);
      writerOf.set(op.value, op);
    }
    const effective = effectiveTimes(h.operations, writerOf);
    const found: Violation[] = [];
    for (const get of h.operations) {
      if (get.kind !== 'get' || get.status !== 'ok' || get.read === undefined) continue;
      const detail = readProblem(get, putsByKey.get(get.key) ?? [], writerOf, effective);
      if (detail !== undefined) {
        found.push({ checker: 'read-values', kind: 'incorrect', op: get.id,
          mid: get.mids[get.mids.length - 1] as string, detail: `get ${get.key} (op ${get.id}, ` +
          `${get.client}) read ${JSON.stringify(get.read)}: ${detail}` });
      }
    }
    return found;
  },
};

function readProblem(get: Operation, puts: readonly Operation[],
  writerOf: ReadonlyMap<string, Operation>, effective: EffectiveAt): string | undefined {
  const read = get.read as string;
  const getOkMs = get.okMs as number;
  const effectiveBefore = (p: Operation, t: number): boolean => (effective.get(p) ?? Infinity) < t;
  if (read === '') {
    const done = puts.find((p) => effectiveBefore(p, get.invokedMs));
    return done === undefined ? undefined
      : `put op ${done.id} of this key took effect before the get was invoked`;
  }
  const writer = writerOf.get(read);
  if (writer === undefined) return 'no put ever wrote this value';
  if (writer.key !== get.key) return `the value was written to key ${writer.key}`;
  if (writer.invokedMs >= getOkMs) return 'its put was invoked after the get was answered';
  const writerAt = effective.get(writer) ?? Infinity;
  const newer = puts.find((p) => p.invokedMs > writerAt && effectiveBefore(p, get.invokedMs));
  return newer === undefined ? undefined : `superseded by put op ${newer.id} ` +
    `(${JSON.stringify(newer.value)}), which took effect before the get was invoked`;
}

export const defaultCheckers: readonly Checker[] = [midAnswers, readValues];

export function checkHistory(history: HistoryData,
  checkers: readonly Checker[] = defaultCheckers): CheckResult {
  const checks = checkers.map((c) => ({ name: c.name, violations: c.check(history) }));
  return { passed: checks.every((c) => c.violations.length === 0), checks };
}

export const violationsOf = (r: CheckResult, kind: ViolationKind): Violation[] =>
  r.checks.flatMap((c) => c.violations.filter((v) => v.kind === kind));
