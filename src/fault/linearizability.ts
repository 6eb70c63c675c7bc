/**
 * A linearizability checker for the key-value store, seen as one register per key: the initial
 * value is "" (the simulator-routed protocol, where an absent key reads as "") or absent (`null`,
 * direct mode); a put writes its value, a get returns the current value, a del makes the key
 * absent, and a cas writes its value if the register holds the value it expects. A del and a cas
 * answer with the value they found.
 *
 * [H&W90 def.] A history is linearizable iff it can be completed (each pending operation either
 * took effect or is dropped) into a legal sequential history that keeps the real-time order of
 * operations that do not overlap. [H&W90 locality] Linearizability is local (P-compositionality
 * in Horn & Kroening 2015): the history passes iff each per-key sub-history does, so each key is
 * searched alone.
 *
 * Two deciders, chosen per key:
 * - `clusterOrder`, when every put of the key writes a distinct value (our workloads write
 *   `v<op>-<seed>`): each get then names the put it read, and the question is polynomial
 *   [Gibbons & Korach 1997, "Testing shared memories"; the zone conditions of Golab, Li & Shah,
 *   PODC 2011]. It always decides, in O(n log n).
 * - Wing & Gong's search (1993) with Lowe's memoisation ("Testing for linearizability", 2017), as
 *   Porcupine's `checkSingle` and Knossos's `wgl`, for a key whose puts repeat a value: call and
 *   return entries in one doubly linked list sorted by time, a stack of linearized calls, and a
 *   cache of (set of linearized operations, register value) pairs already explored. Exponential
 *   at worst: the caller's time bound arrives as a step budget, so that one history gives one
 *   answer everywhere, and past it the key is 'unknown', never a guess.
 */

/** What a register holds: a value, or `null` when the key is absent. */
export type RegisterValue = string | null;

/**
 * One operation on one register. `ret` is Infinity for an operation never answered ok: a write
 * that may have taken effect at any time after `call`, or never; a get that has no effect. An
 * answered del or cas has `read`: the value it found.
 */
export type RegisterOp = {
  /** The caller's name for the operation, echoed in descriptions. */
  readonly id: number | string;
  readonly key: string;
  readonly call: number;
  readonly ret: number;
  /** Replaces the default status text ("ok", "no answer") in descriptions. */
  readonly note?: string;
} & ({ readonly kind: 'put'; readonly value: string } |
  { readonly kind: 'get'; readonly read: RegisterValue } |
  { readonly kind: 'del'; readonly read?: RegisterValue } |
  { readonly kind: 'cas'; readonly expected: RegisterValue; readonly value: string;
    readonly read?: RegisterValue });

/** What `o` writes, if it takes effect (a cas: if its comparison holds); undefined for a get. */
function written(o: RegisterOp): RegisterValue | undefined {
  return o.kind === 'get' ? undefined : o.kind === 'del' ? null : o.value;
}

/** What an answered `o` found: a get's, del's or cas's answer; undefined if it says nothing. */
function readOf(o: RegisterOp): RegisterValue | undefined {
  return o.kind === 'put' || o.ret === Infinity ? undefined : o.read;
}

export type Linearizable = 'ok' | 'illegal' | 'unknown';

export interface KeyCheck {
  readonly key: string;
  readonly result: Linearizable;
  /** Which decider answered: `clusters` (distinct values, always decides) or `search` (WGL). */
  readonly method: 'clusters' | 'search';
  /** Operations searched: answered gets, and puts that were answered or read. */
  readonly ops: number;
  /** Search steps spent deciding the key (not counting shrinking). */
  readonly steps: number;
  /** unknown: which bound stopped the search. */
  readonly reason?: string;
  /** illegal: a small sub-history that is still not linearizable, in call order. */
  readonly witness?: readonly RegisterOp[];
}

export interface RegisterCheck {
  /** illegal if some key is; else unknown if some key is; else ok. */
  readonly result: Linearizable;
  readonly keysChecked: number;
  readonly keys: readonly KeyCheck[];
}

export interface CheckOptions {
  /** Search steps per key before the key is 'unknown'. */
  readonly maxStepsPerKey?: number;
  /** Steps for the whole check, shrinking included: a deadline the caller turned into steps. */
  readonly stepBudget?: number;
  /** Steps that shrinking an illegal key may spend. */
  readonly shrinkStepsPerKey?: number;
  /**
   * `auto` (the default): the cluster decider wherever a key's put values are distinct, the
   * search elsewhere. `search`: the search for every key (to compare the two, and to test it).
   */
  readonly method?: 'auto' | 'search';
  /** What every register holds first: "" (the default, the simulator-routed protocol) or absent. */
  readonly initial?: RegisterValue;
}

export const DEFAULT_MAX_STEPS_PER_KEY = 5_000_000;
export const DEFAULT_SHRINK_STEPS_PER_KEY = 1_000_000;

/** `blocker`, when illegal: the op whose return stopped the deepest linearization tried. */
type Outcome = { readonly result: Linearizable; readonly steps: number; readonly blocker?: number };

/**
 * The operations of one key worth searching, in call order. A get never answered ok has no
 * effect and constrains nothing. A write never answered ok whose value no answer read and no cas
 * expects is dropped too: in a linearization that places it, what comes between it and the next
 * write that takes effect is only unanswered cas that found another value than they expected (a
 * get, or an answered del or cas, would read its value). Removing it and those leaves a legal
 * sequence, so a search without it is complete.
 */
function prepareKey(ops: readonly RegisterOp[]): RegisterOp[] {
  const read = new Set<RegisterValue | undefined>(ops.map(readOf).filter((v) => v !== undefined));
  for (const o of ops) if (o.kind === 'cas') read.add(o.expected);
  return ops.filter((o) => (o.kind === 'get' ? o.ret !== Infinity
    : o.ret !== Infinity || read.has(written(o) as RegisterValue)))
    .map((o, offset) => ({ o, offset }))
    .sort((a, b) => a.o.call - b.o.call || a.o.ret - b.o.ret || a.offset - b.offset)
    .map(({ o }) => o);
}

const HEAD = 0;

/**
 * The entries as a doubly linked list over node numbers: 0 is the head, 1 + i the call of op i,
 * 1 + n + i its return (none when `ret` is Infinity: such an op never has to be linearized
 * before anything). Sorted by time; at equal times calls come first, so that an op invoked at
 * the ms another returned counts as concurrent with it: one clock, ms resolution, no false alarm.
 * `lift` unlinks an op's entries and `unlift` relinks them, in O(1) when undone in stack order
 * (Knuth's dancing links, as Porcupine's `lift`/`unlift`).
 */
function entryList(ops: readonly RegisterOp[]):
  { next: Int32Array; lift(i: number): void; unlift(i: number): void } {
  const n = ops.length;
  const entries: { node: number; time: number; isReturn: number; offset: number }[] = [];
  ops.forEach((o, i) => {
    entries.push({ node: 1 + i, time: o.call, isReturn: 0, offset: i });
    if (o.ret !== Infinity) entries.push({ node: 1 + n + i, time: o.ret, isReturn: 1, offset: i });
  });
  entries.sort((a, b) => a.time - b.time || a.isReturn - b.isReturn || a.offset - b.offset);
  const next = new Int32Array(2 * n + 1).fill(-1);
  const prev = new Int32Array(2 * n + 1).fill(-1);
  let last = HEAD;
  for (const e of entries) {
    next[last] = e.node;
    prev[e.node] = last;
    last = e.node;
  }
  const nodes = (i: number): number[] => (ops[i]?.ret === Infinity ? [1 + i] : [1 + i, 1 + n + i]);
  return {
    next,
    lift(i) {
      for (const node of nodes(i)) {
        next[prev[node] as number] = next[node] as number;
        if (next[node] !== -1) prev[next[node] as number] = prev[node] as number;
      }
    },
    unlift(i) {
      for (const node of nodes(i).reverse()) {
        next[prev[node] as number] = node;
        if (next[node] !== -1) prev[next[node] as number] = node;
      }
    },
  };
}

/** A cache key for (linearized set, value): the words between the all-ones prefix and zeros. */
function cacheKey(bits: Uint32Array, value: number): string {
  let lo = 0;
  while (lo < bits.length && bits[lo] === 0xffffffff) lo++;
  let hi = bits.length;
  while (hi > lo && bits[hi - 1] === 0) hi--;
  let key = `${value}:${lo}:`;
  for (let w = lo; w < hi; w++) {
    const word = bits[w] as number;
    key += String.fromCharCode(word & 0xffff, word >>> 16);
  }
  return key;
}

/** `reads[i]`: op i's answer says nothing (a put, or an unanswered del or cas). */
const ANY = -2;
/** `reads[i]`: op i read a value that no op writes and the register never held. */
const UNWRITTEN = -1;

/**
 * Register values as small numbers (the initial value is 0) and each op as a transition on them:
 * `step(i, v)` is the value after op i takes effect on v, or -1 if its answer rules that out.
 */
function encodeValues(ops: readonly RegisterOp[], initial: RegisterValue):
  { reads: Int32Array; step(i: number, v: number): number } {
  const ids = new Map<RegisterValue, number>([[initial, 0]]);
  const id = (v: RegisterValue): number => {
    if (!ids.has(v)) ids.set(v, ids.size);
    return ids.get(v) as number;
  };
  const n = ops.length;
  const writes = new Int32Array(n).fill(-1);
  const expected = new Int32Array(n).fill(-1);
  ops.forEach((o, i) => {
    const w = written(o);
    if (w !== undefined) writes[i] = id(w);
    if (o.kind === 'cas') expected[i] = id(o.expected);
  });
  const reads = new Int32Array(n).fill(ANY);
  ops.forEach((o, i) => {
    const r = readOf(o);
    if (r !== undefined) reads[i] = ids.get(r) ?? UNWRITTEN;
  });
  const kinds = ops.map((o) => o.kind);
  return {
    reads,
    step(i, v) {
      const r = reads[i] as number;
      if (r !== ANY && r !== v) return -1;
      switch (kinds[i]) {
        case 'get': return v;
        case 'cas': return v === expected[i] ? writes[i] as number : v;
        default: return writes[i] as number;
      }
    },
  };
}

/**
 * [W&G93, Lowe17] Is this one key's history (from `prepareKey`) linearizable? At most `limit`
 * steps (one step: one entry visited); 'unknown' past that, never a guess.
 */
function searchKey(ops: readonly RegisterOp[], limit: number, initial: RegisterValue): Outcome {
  const n = ops.length;
  const { reads, step } = encodeValues(ops, initial);
  // An answer with a value that no op of this key writes has no linearization at all.
  for (let i = 0; i < n; i++) {
    if (reads[i] === UNWRITTEN) return { result: 'illegal', steps: 0, blocker: i };
  }
  const { next, lift, unlift } = entryList(ops);
  const hasReturn = (i: number): boolean => ops[i]?.ret !== Infinity;
  const bits = new Uint32Array(Math.ceil(n / 32));
  const flip = (i: number): void => {
    bits[i >>> 5] = (bits[i >>> 5] as number) ^ (1 << (i & 31));
  };
  const cache = new Set<string>();
  const stackOp = new Int32Array(n);
  const stackValue = new Int32Array(n);
  let depth = 0;
  let value = 0;
  let deepest = -1;
  let blocker = -1;
  // Ops that must be linearized: those with a return. The rest may be left out (never applied).
  let mustLeft = ops.filter((o) => o.ret !== Infinity).length;
  let entry = next[HEAD] as number;
  let steps = 0;
  while (mustLeft > 0) {
    if (steps >= limit) return { result: 'unknown', steps };
    steps++;
    if (entry === -1) throw new Error('linearizability: ran off the entry list (a bug)');
    if (entry <= n) { // a call: try to linearize op i now
      const i = entry - 1;
      const after = step(i, value);
      if (after !== -1) {
        flip(i);
        const key = cacheKey(bits, after);
        if (!cache.has(key)) {
          cache.add(key);
          stackOp[depth] = i;
          stackValue[depth++] = value;
          value = after;
          lift(i);
          if (hasReturn(i)) mustLeft--;
          entry = next[HEAD] as number;
          continue;
        }
        flip(i);
      }
      entry = next[entry] as number;
    } else { // a return of an op not linearized: undo the last choice, try the next call
      if (depth > deepest) [deepest, blocker] = [depth, entry - 1 - n];
      if (depth === 0) return { result: 'illegal', steps, blocker };
      const i = stackOp[--depth] as number;
      value = stackValue[depth] as number;
      flip(i);
      unlift(i);
      if (hasReturn(i)) mustLeft++;
      entry = next[1 + i] as number;
    }
  }
  return { result: 'ok', steps };
}

/**
 * Whether `clusterOrder` applies: only puts and gets, no two puts write one value, and none writes
 * the initial value.
 */
function distinctValues(ops: readonly RegisterOp[], initial: RegisterValue): boolean {
  const seen = new Set<RegisterValue>([initial]);
  for (const o of ops) {
    if (o.kind === 'del' || o.kind === 'cas') return false;
    if (o.kind !== 'put') continue;
    if (seen.has(o.value)) return false;
    seen.add(o.value);
  }
  return true;
}

/**
 * [Gibbons & Korach 1997] Is this key's history (from `prepareKey`, every put value distinct and
 * not "") linearizable? Always decides, in O(n log n); `steps` counts the operations and clusters
 * handled.
 *
 * With distinct values each get names its put. A legal sequence is then a run of clusters: a put
 * followed by the gets that read it (the initial value "" is a virtual put before everything). So
 * the history is linearizable iff (1) every get reads a value some put wrote, (2) no get returns
 * before its put is called, and (3) the clusters can be ordered so that no operation comes after
 * one that follows it in real time. For (3), cluster A must precede B iff some op of A returned
 * before some op of B was called: iff `minRet(A) < maxCall(B)` (a returns strictly before b is
 * called, as in the search's entry order: one clock, ms resolution). Given (2), any order of
 * clusters free of such conflicts extends to a linearization: the put first, then its gets in
 * real-time order. So (3) holds iff that precedence graph is acyclic.
 *
 * Kahn's algorithm over it, without listing its O(n^2) edges: let X be the cluster with the least
 * minRet among those left, m1 its minRet and m2 the next least. A cluster B other than X has no
 * predecessor left iff maxCall(B) <= m1; X has none iff maxCall(X) <= m2. Remove such sources in
 * turn (clusters sorted by maxCall; a linked list in minRet order). If none is left to remove,
 * X and Y (the cluster with minRet m2) precede each other: maxCall(X) > m2 = minRet(Y), and
 * maxCall(Y) > m1 = minRet(X). The witness is those two clusters' puts and the ops that set
 * their minRet and maxCall: at most six operations, still a cycle on their own.
 */
function clusterOrder(ops: readonly RegisterOp[], initial: RegisterValue):
  Outcome & { witness?: number[] } {
  const n = ops.length;
  // cluster 0 is the initial value's; cluster 1 + p is put p's (p an index into ops)
  const clusterOf = new Map<RegisterValue, number>([[initial, 0]]);
  const put: number[] = [-1];
  ops.forEach((o, i) => {
    if (o.kind === 'put') {
      clusterOf.set(o.value, put.length);
      put.push(i);
    }
  });
  const k = put.length;
  const minRet = new Float64Array(k).fill(Infinity);
  const maxCall = new Float64Array(k).fill(-Infinity);
  const minRetOp = new Int32Array(k).fill(-1);
  const maxCallOp = new Int32Array(k).fill(-1);
  minRet[0] = -Infinity; // the virtual put of the initial value returned before any call
  const include = (c: number, i: number): void => {
    const o = ops[i] as RegisterOp;
    if (o.ret < (minRet[c] as number)) [minRet[c], minRetOp[c]] = [o.ret, i];
    if (o.call > (maxCall[c] as number)) [maxCall[c], maxCallOp[c]] = [o.call, i];
  };
  for (let c = 1; c < k; c++) include(c, put[c] as number);
  for (let i = 0; i < n; i++) {
    const o = ops[i] as RegisterOp;
    if (o.kind !== 'get') continue;
    const c = clusterOf.get(o.read);
    if (c === undefined) return { result: 'illegal', steps: i + 1, witness: [i] };
    const p = put[c] as number;
    if (c > 0 && o.ret < (ops[p] as RegisterOp).call) {
      return { result: 'illegal', steps: i + 1, witness: [p, i] };
    }
    include(c, i);
  }
  const byCall = Array.from({ length: k }, (_, c) => c)
    .sort((a, b) => (maxCall[a] as number) - (maxCall[b] as number) || a - b);
  const byRet = Array.from({ length: k }, (_, c) => c)
    .sort((a, b) => (minRet[a] as number) - (minRet[b] as number) || a - b);
  const next = new Int32Array(k).fill(-1);
  const prev = new Int32Array(k).fill(-1);
  for (let j = 0; j < k; j++) {
    if (j > 0) prev[byRet[j] as number] = byRet[j - 1] as number;
    if (j + 1 < k) next[byRet[j] as number] = byRet[j + 1] as number;
  }
  let head = byRet[0] as number;
  const removed = new Uint8Array(k);
  const remove = (c: number): void => {
    removed[c] = 1;
    if (prev[c] !== -1) next[prev[c] as number] = next[c] as number;
    else head = next[c] as number;
    if (next[c] !== -1) prev[next[c] as number] = prev[c] as number;
  };
  let q = 0;
  let steps = n;
  for (let left = k; left > 0; left--) {
    steps++;
    const x = head;
    const y = next[x] as number;
    const m1 = minRet[x] as number;
    const m2 = y === -1 ? Infinity : minRet[y] as number;
    while (removed[byCall[q] as number] === 1) q++;
    const b = byCall[q] as number;
    if ((maxCall[x] as number) <= m2) remove(x);
    // b may be x only if x was not removable: then maxCall(b) > m2 >= m1
    else if ((maxCall[b] as number) <= m1) remove(b);
    else {
      const witness = [put[x], put[y], minRetOp[x], maxCallOp[x], minRetOp[y], maxCallOp[y]]
        .filter((i): i is number => i !== undefined && i >= 0);
      return { result: 'illegal', steps, witness: [...new Set(witness)].sort((a, b) => a - b) };
    }
  }
  return { result: 'ok', steps };
}

/** How one key is decided: the method asked for, and the register's initial value. */
interface Decider { readonly method: CheckOptions['method']; readonly initial: RegisterValue }

/** Decide one prepared key: `clusterOrder` when its put values are distinct, else the search. */
function decideKey(ops: readonly RegisterOp[], limit: number, d: Decider):
  Outcome & { witness?: number[]; method: KeyCheck['method'] } {
  return d.method !== 'search' && distinctValues(ops, d.initial)
    ? { ...clusterOrder(ops, d.initial), method: 'clusters' }
    : { ...searchKey(ops, limit, d.initial), method: 'search' };
}

/**
 * Greedy shrinking (delta debugging, down to single ops): drop a run of ops if the rest is still
 * illegal; single ops are retried until none can go. Never drops a put whose value a kept get
 * read, so that every read in the witness is explained. Spends at most `budget` steps; what is
 * left is illegal either way.
 */
function shrink(ops: readonly RegisterOp[], blocker: number, budget: number, limit: number,
  d: Decider): { ops: readonly RegisterOp[]; steps: number } {
  const start = illegalWindow(ops, blocker, budget, limit, d);
  let current = start.ops;
  let spent = start.steps;
  let size = 1;
  while (size * 4 <= current.length) size *= 2;
  while (spent < budget) {
    let dropped = false;
    for (let start = 0; start < current.length && spent < budget;) {
      const candidate = [...current.slice(0, start), ...current.slice(start + size)];
      if (candidate.length > 0 && keepsReadsExplained(candidate, current.slice(start,
        start + size))) {
        const r = decideKey(candidate, Math.min(limit, budget - spent), d);
        spent += r.steps;
        if (r.result === 'illegal') {
          current = candidate;
          dropped = true;
          continue;
        }
      }
      start += size;
    }
    if (size > 1) size = Math.floor(size / 2);
    else if (!dropped) break;
  }
  return { ops: current, steps: spent };
}

/**
 * A violation is usually local in time: first try the ops from `span` before the blocker up to
 * its return (with the puts their gets read), for span 8, 16, 32...: short histories are cheap.
 */
function illegalWindow(ops: readonly RegisterOp[], blocker: number, budget: number,
  limit: number, d: Decider): { ops: readonly RegisterOp[]; steps: number } {
  const until = ops[blocker]?.ret ?? Infinity;
  let spent = 0;
  for (let span = 8; blocker >= 0 && spent < budget; span *= 2) {
    const inWindow = (o: RegisterOp, offset: number): boolean => offset >= blocker - span
      && o.call <= until;
    const read = new Set(ops.flatMap((o, offset) => (inWindow(o, offset) ? [readOf(o)] : [])));
    const candidate = ops.filter((o, offset) => inWindow(o, offset)
      || (o.kind !== 'get' && read.has(written(o))));
    const r = decideKey(candidate, Math.min(limit, budget - spent), d);
    spent += r.steps;
    if (r.result === 'illegal') return { ops: candidate, steps: spent };
    // This window reached back to the first op (it only trimmed the ops after the blocker).
    if (span >= blocker) break;
  }
  return { ops, steps: spent };
}

function keepsReadsExplained(kept: readonly RegisterOp[], dropped: readonly RegisterOp[]):
  boolean {
  const writes = new Set(kept.map(written));
  const read = new Set(kept.map(readOf));
  return dropped.every((o) => o.kind === 'get' || writes.has(written(o))
    || !read.has(written(o)));
}

const ms = (t: number): string => (t === Infinity ? '∞)' : `${t.toFixed(1)}]`);

/** A value as a witness shows it: a long one by its start and its length (ours are unique by it). */
const shownValue = (v: RegisterValue): string => (v === null ? 'absent' : v.length <= 64
  ? JSON.stringify(v) : `${JSON.stringify(v.slice(0, 24))}... (${v.length} characters)`);

/** What `o` found, as ` -> "v"`; nothing for a put or an unanswered op. */
const foundPart = (o: RegisterOp): string => {
  const r = readOf(o);
  return r === undefined ? '' : ` -> ${shownValue(r)}`;
};

/**
 * One line: `put k3 "v12-7" [1203.4, 1207.9] ok`, `get k3 -> "" [1205.0, 1206.1]`,
 * `del k3 -> "v1" [...]`, `cas k3 absent "v2" -> "v1" [...]`.
 */
export function describeOp(o: RegisterOp): string {
  const what = o.kind === 'put' ? `put ${o.key} ${shownValue(o.value)}`
    : o.kind === 'cas' ? `cas ${o.key} ${shownValue(o.expected)} ${shownValue(o.value)}`
      + foundPart(o)
      : `${o.kind} ${o.key}${foundPart(o)}`;
  const note = o.note ?? (o.kind === 'get' ? '' : o.ret === Infinity ? 'no answer' : 'ok');
  return `${what} [${o.call.toFixed(1)}, ${ms(o.ret)}${note === '' ? '' : ` ${note}`}`;
}

const stepCount = (n: number): string => `${n.toLocaleString('en')} step${n === 1 ? '' : 's'}`;

/** [W&G93, H&W90 locality] Check every key of the history alone; see `CheckOptions` for bounds. */
export function checkRegisterHistory(ops: readonly RegisterOp[], opts: CheckOptions = {}):
  RegisterCheck {
  const maxSteps = opts.maxStepsPerKey ?? DEFAULT_MAX_STEPS_PER_KEY;
  const shrinkSteps = opts.shrinkStepsPerKey ?? DEFAULT_SHRINK_STEPS_PER_KEY;
  const decider: Decider = { method: opts.method, initial: opts.initial === undefined ? ''
    : opts.initial };
  let left = opts.stepBudget ?? Infinity;
  const byKey = new Map<string, RegisterOp[]>();
  for (const o of ops) {
    const list = byKey.get(o.key);
    if (list === undefined) byKey.set(o.key, [o]);
    else list.push(o);
  }
  const keys: KeyCheck[] = [];
  for (const key of [...byKey.keys()].sort((a, b) => a.localeCompare(b, 'en',
    { numeric: true }))) {
    const prepared = prepareKey(byKey.get(key) ?? []);
    const limit = Math.min(maxSteps, left);
    const r = decideKey(prepared, limit, decider);
    left -= r.steps;
    const base = { key, result: r.result, method: r.method, ops: prepared.length, steps: r.steps };
    if (r.result === 'unknown') {
      keys.push({ ...base, reason: limit < maxSteps ? `step budget of ${stepCount(opts.stepBudget
        ?? 0)} used up` : `search bound of ${stepCount(maxSteps)} reached` });
    } else if (r.result === 'illegal') {
      // the cluster decider names a cycle of at most six ops; the search, its deepest blocker
      const small = r.witness === undefined
        ? shrink(prepared, r.blocker ?? -1, Math.min(shrinkSteps, left), maxSteps, decider)
        : shrink(r.witness.map((i) => prepared[i] as RegisterOp), -1, Math.min(shrinkSteps, left),
          maxSteps, decider);
      left -= small.steps;
      keys.push({ ...base, witness: small.ops });
    } else keys.push(base);
  }
  const some = (x: Linearizable): boolean => keys.some((k) => k.result === x);
  return { result: some('illegal') ? 'illegal' : some('unknown') ? 'unknown' : 'ok',
    keysChecked: keys.length, keys };
}
