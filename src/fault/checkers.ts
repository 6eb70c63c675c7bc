/**
 * Checks over a finished history. Each checker is a pure function from the history to its
 * violations (and what it could not decide); `checkHistory` runs a list of them, so a checker can
 * join or leave without touching the drivers.
 *
 * The time of an operation is the simulator's: invoked when its first request left, answered when
 * the answer arrived. The real operation happened inside that interval, so a check that is sound
 * for these intervals raises no false alarm.
 */
import type { HistoryData, ListAnswer, Operation } from './history.js';
import { checkRegisterHistory, describeOp, type CheckOptions, type KeyCheck,
  type RegisterOp } from './linearizability.js';
import type { KvMode } from './workload.js';

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

/** What a checker found, and what it could not decide (a search bound reached), in sentences. */
export interface Findings {
  readonly violations: readonly Violation[];
  readonly unknown: readonly string[];
}

export interface Checker {
  readonly name: string;
  /** Violations alone from a checker that always decides; Findings from one that may not. */
  check(history: HistoryData): readonly Violation[] | Findings;
}

export interface CheckEntry extends Findings {
  readonly name: string;
}

export interface CheckResult {
  /**
   * No violations and nothing undecided: a key the checker could not decide is a key unchecked,
   * so it fails the run (and the report names the key and the bound that stopped it).
   */
  readonly passed: boolean;
  readonly checks: readonly CheckEntry[];
}

/**
 * "Each MID gets exactly one response. A second response to a MID, or an ok after a
 * redirect/fail for the same MID, is an incorrect answer" (replica-udp.md). Also: an answer must
 * go to the client that sent the MID, a get's ok must carry a value (in `protocol` mode: in
 * `direct` mode an ok without one says the key is absent), and nobody may answer a MID that was
 * never sent.
 */
export function midAnswersChecker(mode: KvMode = 'protocol'): Checker {
  return {
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
          if (kind === 'get' && answer.type === 'ok' && answer.value === undefined
            && mode === 'protocol') {
            v('incorrect', a.mid, a.op, `${answer.from} answered a get ok without a value`);
          }
          if (kind === 'list' && answer.type === 'ok' && answer.page === undefined) {
            v('incorrect', a.mid, a.op, `${answer.from} answered a list ok without a page`);
          }
          // [replica-udp.md] a put's ok is the envelope alone: a value there is a wrong answer
          if (kind === 'put' && answer.value !== undefined) {
            v('incorrect', a.mid, a.op, `${answer.from} answered a put ${answer.type} with a value`);
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
}

export const midAnswers = midAnswersChecker();

/** Lines of a witness shown when shrinking ran out of steps before the witness got small. */
const MAX_WITNESS_LINES = 20;

/**
 * The client history as register operations. An operation retried with new MIDs after a
 * `redirect`/`fail` is still one operation that takes effect at most once: a write answered ok
 * spans [first invoke, ok]; one never answered ok may have taken effect at any time after its
 * first invoke, or never. A get answered ok must return what it read; any other get is dropped.
 * In `direct` mode an ok without a value says the key was absent (`null`); an answered del or
 * cas constrains by the value it found.
 */
export function registerOpsOf(h: HistoryData, mode: KvMode = 'protocol'): RegisterOp[] {
  const keys = [...new Set(h.operations.flatMap((o) => (o.kind === 'list' ? [] : [o.key])))];
  const refused = new Map<number, number>();
  for (const a of h.attempts) {
    const first = a.answers[0]?.type;
    if (first !== undefined && first !== 'ok') refused.set(a.op, (refused.get(a.op) ?? 0) + 1);
  }
  return h.operations.flatMap((o): RegisterOp[] => {
    const who = `(op ${o.id}, ${o.client})`;
    const ok = o.status === 'ok' && o.okMs !== undefined;
    const base = { id: o.id, key: o.key, call: o.invokedMs, ret: ok ? o.okMs as number : Infinity };
    const read = o.read ?? (mode === 'direct' ? null : undefined);
    if (o.kind === 'list') return ok && o.page !== undefined ? pageReads(o, o.page, keys) : [];
    if (o.kind === 'get') {
      // An ok without a value is mid-answers' to report; it says nothing about the register.
      return ok && read !== undefined ? [{ ...base, kind: 'get', read, note: who }] : [];
    }
    // A write that never left (no live replica to send it to) cannot take effect.
    if (o.mids.length === 0 || (o.kind !== 'del' && o.value === undefined)) return [];
    const n = refused.get(o.id) ?? 0;
    const status = ok ? 'ok' : `${o.status}${n > 0 ? ` after ${n} fail/redirect` : ''}`;
    const found = ok && read !== undefined ? { read } : {};
    const note = `${status} ${who}`;
    if (o.kind === 'del') return [{ ...base, kind: 'del', ...found, note }];
    if (o.kind === 'cas') {
      return [{ ...base, kind: 'cas', expected: o.expected ?? null, value: o.value as string,
        ...found, note }];
    }
    return [{ ...base, kind: 'put', value: o.value as string, note }];
  });
}

/**
 * A page of a listing as gets at its interval: every key the history touched that the page covers
 * (with the prefix, after `after`, up to `next` if keys remained) read what the page shows for it,
 * or nothing (absent). Necessary for the page to be one linearizable read; the replica answers a
 * page from one state of its state machine, which these per-key reads do not check as a whole.
 */
function pageReads(o: Operation, page: ListAnswer, keys: readonly string[]): RegisterOp[] {
  const shown = new Map(page.pairs);
  const covers = (k: string): boolean => k.startsWith(o.key)
    && (o.after === undefined || k > o.after) && (page.next === undefined || k <= page.next);
  const who = `(op ${o.id}, ${o.client}, list ${JSON.stringify(o.key)})`;
  return [...new Set([...keys, ...shown.keys()])].filter(covers).map((key) => ({ id: o.id, key,
    call: o.invokedMs, ret: o.okMs as number, kind: 'get', read: shown.get(key) ?? null,
    note: who }));
}

/**
 * A page's own shape: keys strictly ascending, each with the prefix and after `after`, at most
 * `limit` of them, and `next` (keys remain) only after a page that is not empty, naming its last
 * key. Wrong by itself, whatever the order of the history: an `incorrect` answer.
 */
export const pageShape: Checker = {
  name: 'page-shape',
  check(h) {
    return h.operations.flatMap((o): Violation[] => {
      if (o.kind !== 'list' || o.status !== 'ok' || o.page === undefined) return [];
      const { pairs, next } = o.page;
      const keys = pairs.map(([k]) => k);
      const wrong: string[] = [];
      if (keys.some((k, i) => i > 0 && k <= (keys[i - 1] as string))) wrong.push('keys out of order');
      if (keys.some((k) => !k.startsWith(o.key))) wrong.push(`a key without the prefix`);
      if (o.after !== undefined && keys.some((k) => k <= (o.after as string))) {
        wrong.push(`a key not after ${JSON.stringify(o.after)}`);
      }
      if (o.limit !== undefined && keys.length > o.limit) wrong.push(`more than ${o.limit} keys`);
      if (next !== undefined && next !== keys[keys.length - 1]) {
        wrong.push(`next ${JSON.stringify(next)} is not the page's last key`);
      }
      return wrong.length === 0 ? [] : [{ checker: 'page-shape', kind: 'incorrect', op: o.id,
        mid: o.mids[o.mids.length - 1] as string, detail: `list ${JSON.stringify(o.key)} (op ` +
        `${o.id}, ${o.client}) answered ${JSON.stringify(o.page)}: ${wrong.join('; ')}` }];
    });
  },
};

function violationOf(k: KeyCheck): Violation {
  const w = k.witness ?? [];
  const lines = w.slice(0, MAX_WITNESS_LINES).map(describeOp);
  if (w.length > lines.length) lines.push(`... ${w.length - lines.length} more`);
  const lastGet = [...w].reverse().find((o) => o.kind === 'get');
  return { checker: 'linearizable', kind: 'history',
    ...(typeof lastGet?.id === 'number' ? { op: lastGet.id } : {}),
    detail: `key ${k.key} is not linearizable: ${w.length} of its ${k.ops} operations admit ` +
      `no valid order:${lines.map((l) => `\n  ${l}`).join('')}` };
}

/**
 * A get answered ok with a value that no put of its key ever wrote is an answer wrong by itself,
 * whatever the order: an `incorrect` answer (the lying replica of the run tests), besides making
 * its key illegal.
 */
function unwrittenReads(h: HistoryData): Violation[] {
  const writer = new Map<string, string>();
  for (const o of h.operations) {
    if ((o.kind === 'put' || o.kind === 'cas') && o.value !== undefined && o.mids.length > 0) {
      writer.set(o.value, o.key);
    }
  }
  const reads = h.operations.flatMap((o) => (o.status !== 'ok' ? []
    : o.kind === 'get' && o.read !== undefined && o.read !== '' ? [{ o, key: o.key, read: o.read }]
      : o.kind === 'list' ? (o.page?.pairs ?? []).map(([key, read]) => ({ o, key, read })) : []));
  return reads.flatMap(({ o, key: k, read }): Violation[] => {
    const key = writer.get(read);
    if (key === k) return [];
    return [{ checker: 'linearizable', kind: 'incorrect', op: o.id,
      mid: o.mids[o.mids.length - 1] as string, detail: `${o.kind} ${o.key} (op ${o.id}, ` +
      `${o.client}) read ${JSON.stringify(read)}${o.kind === 'list' ? ` for ${k}` : ''}: ` +
      `${key === undefined ? 'no put ever wrote this value' : `the value was written to key ${key}`}` }];
  });
}

/** A checker that may leave part of the history undecided. */
export interface UndecidingChecker extends Checker {
  check(history: HistoryData): Findings;
}

/**
 * [H&W90] The history is linearizable: one `history` violation per key that is not, and an
 * `incorrect` one per read of a value never written to its key.
 */
export function linearizableChecker(opts: CheckOptions & { mode?: KvMode } = {}):
  UndecidingChecker {
  const mode = opts.mode ?? 'protocol';
  return {
    name: 'linearizable',
    check(h) {
      const r = checkRegisterHistory(registerOpsOf(h, mode),
        { ...opts, initial: mode === 'direct' ? null : '' });
      const byReason = new Map<string, string[]>();
      for (const k of r.keys) {
        if (k.result === 'unknown') {
          const reason = k.reason ?? '';
          byReason.set(reason, [...(byReason.get(reason) ?? []), k.key]);
        }
      }
      return {
        violations: [...unwrittenReads(h),
          ...r.keys.filter((k) => k.result === 'illegal').map(violationOf)],
        unknown: [...byReason].map(([reason, keys]) => `unknown for keys ${keys.join(' ')} ` +
          `(${reason})`),
      };
    },
  };
}

export const linearizable = linearizableChecker();

export const defaultCheckers: readonly Checker[] = [midAnswers, linearizable];

export function checkHistory(history: HistoryData,
  checkers: readonly Checker[] = defaultCheckers): CheckResult {
  const checks = checkers.map((c): CheckEntry => {
    const found = c.check(history);
    return 'violations' in found ? { name: c.name, ...found }
      : { name: c.name, violations: found, unknown: [] };
  });
  return { passed: checks.every((c) => c.violations.length === 0 && c.unknown.length === 0),
    checks };
}

/** Each check's undecided parts, as `name: sentence`. */
export const undecidedOf = (r: CheckResult): string[] =>
  r.checks.flatMap((c) => c.unknown.map((u) => `${c.name}: ${u}`));

export const violationsOf = (r: CheckResult, kind: ViolationKind): Violation[] =>
  r.checks.flatMap((c) => c.violations.filter((v) => v.kind === kind));
