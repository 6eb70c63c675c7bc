/**
 * Breadth-first search of every state within the bounds (`model.ts`), level by level, so the
 * first violation found has a shortest trace. The first levels run in the calling thread; then
 * the frontier is shared out to worker threads, which rebuild their states by replaying each one's
 * moves from the initial state and go on expanding in step: every worker finishes a level before
 * any starts the next. States are claimed in a fingerprint set in shared memory (`store.ts`);
 * a state belongs to the worker that stored it first, and levels are rebalanced when one worker
 * holds much more of the frontier than another.
 */
import { deserialize, serialize } from 'node:v8';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { machineWith, type Bug } from '../mutants/catalog.js';
import type { Violation } from '../check/safety.js';
import { Model, type Bounds, type Move, type World, type WorldData } from './model.js';
import { fingerprint, StateStore, type StoreBuffers } from './store.js';

export interface SearchOptions {
  readonly bounds: Bounds;
  readonly bugs: readonly Bug[];
  /** Worker threads; 0 searches in the calling thread. */
  readonly workers: number;
  /** Stop (the bound not exhausted) after this many distinct states. */
  readonly maxStates: number;
  readonly maxSeconds: number;
  readonly log?: (line: string) => void;
}

export interface Found {
  readonly violation: Violation;
  /** Move numbers from the initial state (each an index into `Model.moves`). */
  readonly path: readonly number[];
}

export interface LevelFigures { readonly depth: number; readonly states: number;
  readonly transitions: number; readonly seconds: number }

export interface SearchReport {
  readonly bounds: Bounds;
  readonly bugs: readonly Bug[];
  readonly workers: number;
  /** Distinct states stored (after symmetry, if on). */
  readonly states: number;
  /** Moves taken, into new states or known ones (not counting those out of bounds). */
  readonly transitions: number;
  /**
   * The deepest level reached: the length of the longest shortest trace. A search stopped part
   * way through a level has reached that level without visiting all of it.
   */
  readonly depth: number;
  /** Every state whose shortest trace has at most this many steps was visited. */
  readonly completeDepth: number;
  readonly seconds: number;
  /** Every state within the bounds was visited. */
  readonly exhausted: boolean;
  readonly stoppedBy?: 'violation' | 'states' | 'time';
  readonly found?: Found;
  readonly peakRssBytes: number;
  readonly levels: readonly LevelFigures[];
}

/**
 * A state of the frontier, serialized and compressed: a frontier holds millions of states, and a
 * live world (statecharts, maps, the checker's ghost) costs several times its bytes. Deflate
 * shrinks the serialized world about four times (its three servers repeat each field name) for
 * some 20 us per state.
 */
interface Node { readonly id: number; readonly data: Buffer }

const pack = (model: Model, id: number, w: World): Node =>
  // copied out: zlib's result is a view of a 16 KiB output chunk, which it would keep alive
  ({ id, data: Buffer.from(deflateRawSync(serialize(model.toData(w)), { level: 3 })) });
const unpack = (model: Model, n: Node): World =>
  model.fromData(deserialize(inflateRawSync(n.data)) as WorldData);

interface LevelResult {
  readonly next: Node[];
  readonly transitions: number;
  readonly found?: Found;
  readonly stopped: boolean;
}

/** Expand every state of a level; stop early on a violation or when `stop()` says so. */
function expandLevel(model: Model, store: StateStore, level: (Node | undefined)[],
  stop: () => boolean): LevelResult {
  const next: Node[] = [];
  let transitions = 0;
  for (let n = 0; n < level.length; n++) {
    const node = level[n] as Node;
    level[n] = undefined; // let the level go as it is expanded
    if ((n & 63) === 0 && stop()) return { next, transitions, stopped: true };
    const world = unpack(model, node);
    const moves = model.moves(world);
    for (let k = 0; k < moves.length; k++) {
      const out = model.apply(world, moves[k] as Move);
      if (out === undefined) continue;
      transitions++;
      if (out.violation !== undefined) {
        return { next, transitions, stopped: true,
          found: { violation: out.violation, path: [...store.path(node.id), k] } };
      }
      const id = store.add(fingerprint(model.key(out.world)), node.id, k);
      if (id >= 0) next.push(pack(model, id, out.world));
      else if (store.full) return { next, transitions, stopped: true };
    }
  }
  return { next, transitions, stopped: false };
}

/** The world at the end of `path`, stepping from the initial state. */
export function worldAt(model: Model, path: readonly number[]): World {
  let w = model.initial();
  for (const k of path) {
    const move = model.moves(w)[k];
    const out = move === undefined ? undefined : model.apply(w, move);
    if (out?.world === undefined) throw new Error(`path ${path.join('.')} leaves the model`);
    w = out.world;
  }
  return w;
}

/** A replay path that does not fit the model: a move number past the moves a state has. */
export class BadPathError extends Error {}

/**
 * Replay a path, describing each move: the trace a violation prints. Returns the lines and the
 * violation the last move finds, if any; throws `BadPathError` for a path the model cannot take.
 */
export function replay(model: Model, path: readonly number[]):
  { lines: string[]; violation?: Violation } {
  let w = model.initial();
  const lines: string[] = [];
  for (const [step, k] of path.entries()) {
    const move = model.moves(w)[k];
    if (move === undefined) {
      throw new BadPathError(`step ${step + 1} has no move ${k} (${model.moves(w).length} there)`);
    }
    lines.push(`${String(step + 1).padStart(3)}. ${model.describe(w, move)}`);
    const out = model.apply(w, move);
    if (out === undefined) throw new BadPathError(`step ${step + 1} leaves the bounds`);
    if (out.violation !== undefined) return { lines, violation: out.violation };
    w = out.world as World;
  }
  return { lines };
}

// -------------------------------------------------------------------------------------------------
// Worker threads
// -------------------------------------------------------------------------------------------------

interface WorkerInput {
  readonly bounds: Bounds;
  readonly bugs: readonly Bug[];
  readonly store: StoreBuffers;
  readonly control: SharedArrayBuffer;
  readonly ids: readonly number[];
}

type ToWorker =
  | { readonly kind: 'go'; readonly take: readonly number[]; readonly give: number }
  | { readonly kind: 'stop' };

type FromWorker =
  | { readonly kind: 'level'; readonly states: number; readonly transitions: number;
      readonly frontier: number; readonly found?: Found; readonly stopped: boolean }
  | { readonly kind: 'gave'; readonly ids: readonly number[] };

function runWorker(input: WorkerInput): void {
  const port = parentPort;
  if (port === null) throw new Error('not a worker');
  const model = new Model(input.bounds, machineWith(input.bugs));
  const store = new StateStore(input.store);
  const control = new Int32Array(input.control);
  const stop = (): boolean => Atomics.load(control, 0) !== 0;
  const rebuild = (ids: readonly number[]): Node[] =>
    ids.map((id) => pack(model, id, worldAt(model, store.path(id))));
  let level: (Node | undefined)[] = rebuild(input.ids);
  const expand = (): void => {
    const before = store.size;
    const r = expandLevel(model, store, level, stop);
    level = r.next;
    const msg: FromWorker = { kind: 'level', states: store.size - before,
      transitions: r.transitions, frontier: r.next.length, stopped: r.stopped,
      ...(r.found !== undefined ? { found: r.found } : {}) };
    port.postMessage(msg);
  };
  port.on('message', (m: ToWorker) => {
    if (m.kind === 'stop') {
      port.close();
      return;
    }
    if (m.give > 0) {
      const given = level.splice(level.length - m.give, m.give) as Node[];
      port.postMessage({ kind: 'gave', ids: given.map((n) => n.id) } satisfies FromWorker);
      return;
    }
    level.push(...rebuild(m.take));
    expand();
  });
  expand();
}

if (!isMainThread && (workerData as { exhaustive?: WorkerInput } | null)?.exhaustive) {
  runWorker((workerData as { exhaustive: WorkerInput }).exhaustive);
}

// -------------------------------------------------------------------------------------------------
// The search
// -------------------------------------------------------------------------------------------------

/** Levels run in the calling thread until the frontier has this many states per worker. */
const SPLIT_PER_WORKER = 200;

export async function search(opts: SearchOptions): Promise<SearchReport> {
  const log = opts.log ?? ((): void => {});
  const t0 = performance.now();
  const seconds = (): number => (performance.now() - t0) / 1000;
  const model = new Model(opts.bounds, machineWith(opts.bugs));
  const store = StateStore.create(opts.maxStates);
  const control = new Int32Array(new SharedArrayBuffer(4));
  // The deadline is read from the clock as well as set by a timer: with no workers, the levels
  // run in this thread, and a timer would not fire until they were done.
  const deadline = t0 + opts.maxSeconds * 1000;
  const stop = (): boolean => {
    if (Atomics.load(control, 0) === 0 && performance.now() >= deadline) Atomics.store(control, 0, 1);
    return Atomics.load(control, 0) !== 0;
  };
  const timer = setTimeout(() => { Atomics.store(control, 0, 1); }, opts.maxSeconds * 1000);
  let peakRss = process.memoryUsage.rss();
  const levels: LevelFigures[] = [];
  let transitions = 0;
  let depth = 0;
  let found: Found | undefined;
  let stopped = false;

  const root = model.initial();
  const rootId = store.add(fingerprint(model.key(root)), -1, 0);
  let level: (Node | undefined)[] = [pack(model, rootId, root)];
  let frontier = 1;
  const finishLevel = (t: number): void => {
    transitions += t;
    if (frontier > 0) depth++;
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    levels.push({ depth, states: store.size, transitions, seconds: seconds() });
    log(`depth ${String(depth).padStart(3)}: ${store.size.toLocaleString('en-US')} states, ` +
      `${transitions.toLocaleString('en-US')} transitions, frontier ${frontier.toLocaleString('en-US')}, ` +
      `${(store.size / Math.max(seconds(), 1e-3)).toFixed(0)} states/s, ` +
      `${(peakRss / 2 ** 20).toFixed(0)} MB`);
  };

  // The first levels, here.
  while (frontier > 0 && (opts.workers === 0 || frontier < SPLIT_PER_WORKER * opts.workers)) {
    const r = expandLevel(model, store, level, stop);
    level = r.next;
    frontier = r.next.length;
    found = r.found;
    stopped = r.stopped;
    finishLevel(r.transitions);
    if (stopped) break;
  }

  if (!stopped && frontier > 0) {
    // The rest, on the workers: deal the frontier out round-robin.
    const ids = (level as Node[]).map((n) => n.id);
    level = [];
    const workers = Array.from({ length: opts.workers }, (_, k) => new Worker(
      new URL(import.meta.url), {
        workerData: { exhaustive: { bounds: opts.bounds, bugs: opts.bugs, store: store.buffers,
          control: control.buffer as SharedArrayBuffer,
          ids: ids.filter((_, n) => n % opts.workers === k) } satisfies WorkerInput },
        // a young generation of 96 MB, as the soak's workers: states are short-lived garbage
        resourceLimits: { maxOldGenerationSizeMb: 3072, maxYoungGenerationSizeMb: 96 },
      }));
    const inbox = workers.map(() => [] as FromWorker[]);
    const waiting = workers.map(() => undefined as ((m: FromWorker) => void) | undefined);
    const errors: Error[] = [];
    workers.forEach((w, k) => {
      w.on('message', (m: FromWorker) => {
        const wake = waiting[k];
        if (wake !== undefined) {
          waiting[k] = undefined;
          wake(m);
        } else inbox[k]?.push(m);
      });
      w.on('error', (e) => {
        errors.push(e);
        Atomics.store(control, 0, 1);
        waiting[k]?.({ kind: 'level', states: 0, transitions: 0, frontier: 0, stopped: true });
      });
    });
    const receive = (k: number): Promise<FromWorker> => {
      const queued = inbox[k]?.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      return new Promise((resolve) => { waiting[k] = resolve; });
    };
    try {
      for (;;) {
        const reports = await Promise.all(workers.map((_, k) => receive(k))) as
          Extract<FromWorker, { kind: 'level' }>[];
        if (errors.length > 0) throw errors[0];
        frontier = reports.reduce((n, r) => n + r.frontier, 0);
        finishLevel(reports.reduce((n, r) => n + r.transitions, 0));
        found = reports.find((r) => r.found !== undefined)?.found;
        stopped = reports.some((r) => r.stopped);
        if (stopped || frontier === 0) break;
        // rebalance: the largest frontier gives part of its surplus to the smallest
        const sizes = reports.map((r) => r.frontier);
        const big = sizes.indexOf(Math.max(...sizes));
        const small = sizes.indexOf(Math.min(...sizes));
        let take: readonly number[] = [];
        const surplus = Math.floor(((sizes[big] as number) - (sizes[small] as number)) / 2);
        if (big !== small && surplus > 100 && surplus > (sizes[big] as number) / 5) {
          (workers[big] as Worker).postMessage({ kind: 'go', take: [], give: surplus } satisfies
            ToWorker);
          take = ((await receive(big)) as Extract<FromWorker, { kind: 'gave' }>).ids;
        }
        workers.forEach((w, k) => {
          w.postMessage({ kind: 'go', take: k === small ? take : [], give: 0 } satisfies ToWorker);
        });
      }
    } finally {
      for (const w of workers) w.postMessage({ kind: 'stop' } satisfies ToWorker);
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }
  clearTimeout(timer);
  // From how the search ended, not from the clock: a last level that ends past the deadline
  // with nothing after it has still exhausted the bound.
  const timedOut = stopped && found === undefined && !store.full;
  const stoppedBy = found !== undefined ? 'violation' : store.full ? 'states'
    : timedOut ? 'time' : undefined;
  return {
    bounds: opts.bounds, bugs: opts.bugs, workers: opts.workers, states: store.size, transitions,
    depth, completeDepth: stopped && frontier > 0 ? depth - 1 : depth, seconds: seconds(),
    exhausted: stoppedBy === undefined,
    ...(stoppedBy !== undefined ? { stoppedBy } : {}),
    ...(found !== undefined ? { found } : {}),
    peakRssBytes: peakRss, levels,
  };
}
