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

const answeredBefore = (p: Operation, t: number): boolean =>
  p.status === 'ok' && (p.okMs as number) < t;

/**
 * Every get answered ok reads a value that real-time order allows, per key:
 * - "" or the value of a put to that key invoked before the get was answered;
 * - not a superseded value: if put P2 was invoked after P was answered ok, and P2 was answered ok
 *   before the get was invoked, P's value is gone;
 * - not "" once some put to the key was answered ok before the get was invoked.
 * A put answered fail/redirect or never has an unknown outcome: it may take effect at any time
 * after its invoke, so it may be read, and it supersedes nothing.
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
    const found: Violation[] = [];
    for (const get of h.operations) {
      if (get.kind !== 'get' || get.status !== 'ok' || get.read === undefined) continue;
      const detail = readProblem(get, putsByKey.get(get.key) ?? [], writerOf);
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
  writerOf: ReadonlyMap<string, Operation>): string | undefined {
  const read = get.read as string;
  const getOkMs = get.okMs as number;
  if (read === '') {
    const acked = puts.find((p) => answeredBefore(p, get.invokedMs));
    return acked === undefined ? undefined
      : `put op ${acked.id} of this key was answered ok before the get was invoked`;
  }
  const writer = writerOf.get(read);
  if (writer === undefined) return 'no put ever wrote this value';
  if (writer.key !== get.key) return `the value was written to key ${writer.key}`;
  if (writer.invokedMs >= getOkMs) return 'its put was invoked after the get was answered';
  if (writer.status !== 'ok') return undefined;
  const newer = puts.find((p) => p.invokedMs > (writer.okMs as number)
    && answeredBefore(p, get.invokedMs));
  return newer === undefined ? undefined : `superseded by put op ${newer.id} ` +
    `(${JSON.stringify(newer.value)}), answered ok before the get was invoked`;
}

export const defaultCheckers: readonly Checker[] = [midAnswers, readValues];

export function checkHistory(history: HistoryData,
  checkers: readonly Checker[] = defaultCheckers): CheckResult {
  const checks = checkers.map((c) => ({ name: c.name, violations: c.check(history) }));
  return { passed: checks.every((c) => c.violations.length === 0), checks };
}

export const violationsOf = (r: CheckResult, kind: ViolationKind): Violation[] =>
  r.checks.flatMap((c) => c.violations.filter((v) => v.kind === kind));
