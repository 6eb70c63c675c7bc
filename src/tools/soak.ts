/**
 * `npm run soak -- --seeds N [--from S] [--workers W] [--bug NAME] [--traces DIR] [--json FILE]`:
 * seeds S..S+N-1 of the scenario mix (`src/detsim/mix.ts`), each one deterministic simulation, spread
 * over worker threads (one per core by default). A progress bar on a terminal, a line per 10 %
 * otherwise. Each failing seed is printed with its replay command and written as a trace file.
 * Exit 0 when no seed fails (or, with --bug, when some seed catches the bug), else 1.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { BUGS, type Bug } from '../mutants/catalog.js';
import { mixRun, shippedScenarios } from '../detsim/mix.js';
import { replayCommand } from '../detsim/main.js';
import { directCheckers, simulate, simulationCheckers } from '../detsim/simulation.js';
import { checkHistory } from '../fault/checkers.js';
import { intArg, parseCommandArgs, shown, stringArg } from '../args.js';

interface Job {
  readonly from: number;
  readonly count: number;
  readonly offset: number;
  readonly stride: number;
  readonly bugs: readonly Bug[];
  readonly traces: string;
}

interface Failure { readonly seed: number; readonly failures: readonly string[];
  readonly trace: string }

type FromWorker =
  | { readonly kind: 'progress'; readonly seeds: number; readonly simulatedMs: number;
      readonly steps: number; readonly undecided: number; readonly largest: CheckFigure }
  | { readonly kind: 'failure'; readonly failure: Failure };

const REPORT_EVERY = 20;

/** The history check of a seed: its operations, and the wall time the check takes alone. */
interface CheckFigure { readonly seed: number; readonly ops: number; readonly checkMs: number }
const NO_CHECK: CheckFigure = { seed: 0, ops: 0, checkMs: 0 };
/** The worker threads' young generation (`resourceLimits`): see where the workers start. */
const YOUNG_GENERATION_MB = 384;

function work(job: Job): void {
  const port = parentPort;
  if (port === null) throw new Error('not a worker');
  const shipped = shippedScenarios();
  let seeds = 0;
  let simulatedMs = 0;
  let steps = 0;
  let undecided = 0;
  let largest = NO_CHECK;
  const flush = (): void => {
    port.postMessage({ kind: 'progress', seeds, simulatedMs, steps, undecided, largest } as
      FromWorker);
    seeds = 0;
    simulatedMs = 0;
    steps = 0;
    undecided = 0;
  };
  for (let k = job.offset; k < job.count; k += job.stride) {
    const seed = job.from + k;
    const run = mixRun(seed, shipped);
    const r = simulate({ ...run, bugs: job.bugs });
    seeds++;
    simulatedMs += r.simulatedMs;
    steps += r.steps;
    if (r.report.check.checks.some((c) => c.unknown.length > 0)) undecided++;
    if (r.history.operations.length > largest.ops) {
      // the largest history yet: check it again alone, timed (the run's own check is untimed)
      const t0 = performance.now();
      checkHistory(r.history, run.kv === 'direct' ? directCheckers : simulationCheckers);
      largest = { seed, ops: r.history.operations.length, checkMs: performance.now() - t0 };
    }
    if (r.failures.length > 0) {
      // Run it again with the trace on: the same seed gives the same run, step for step.
      const lines: string[] = [];
      simulate({ ...run, bugs: job.bugs, trace: (l) => { lines.push(l); } });
      const trace = join(job.traces, `seed-${seed}.trace`);
      writeFileSync(trace, `${JSON.stringify(run.scenario)}\n${lines.join('\n')}\n`);
      port.postMessage({ kind: 'failure', failure: { seed, failures: r.failures, trace } });
    }
    if (seeds >= REPORT_EVERY) flush();
  }
  flush();
}

function bar(done: number, total: number): string {
  const width = 30;
  const full = Math.round((done / total) * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

const USAGE = 'usage: npm run soak -- --seeds N [--from S] [--workers W] [--bug NAME] ' +
  '[--traces DIR] [--json FILE]';
const OPTIONS = {
  seeds: { type: 'string' }, from: { type: 'string' }, workers: { type: 'string' },
  bug: { type: 'string' }, traces: { type: 'string' }, json: { type: 'string' },
} as const;

/** Exit 2 with one line naming what is wrong, and the usage. */
function usageError(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function main(args: readonly string[]): void {
  const p = parseCommandArgs(args, OPTIONS);
  if (typeof p === 'string') usageError(p);
  const [stray] = p.positionals;
  if (stray !== undefined) usageError(`unexpected argument ${shown(stray)}`);
  const whole = (name: string, dflt: string, max: number): number => {
    const n = intArg(name, stringArg(p, name) ?? dflt, 1, max);
    return typeof n === 'string' ? usageError(n) : n;
  };
  const count = whole('seeds', '1000', 100_000_000);
  const from = whole('from', '1', Number.MAX_SAFE_INTEGER);
  const workers = whole('workers', String(availableParallelism()), 64);
  const bug = stringArg(p, 'bug');
  if (bug !== undefined && !(BUGS as readonly string[]).includes(bug)) {
    usageError(`unknown bug ${shown(bug)}; known: ${BUGS.join(', ')}`);
  }
  const bugs = bug === undefined ? [] : [bug as Bug];
  const traces = stringArg(p, 'traces') ?? join(tmpdir(), 'raftkv-soak');
  mkdirSync(traces, { recursive: true });
  console.log(`raftkv soak: seeds ${from}..${from + count - 1} of the scenario mix on ${workers} ` +
    `worker threads${bug === undefined ? '' : `, deliberately broken: ${bug}`}`);
  const t0 = performance.now();
  const tty = process.stdout.isTTY;
  let done = 0;
  let simulatedMs = 0;
  let steps = 0;
  let undecided = 0;
  let largest = NO_CHECK;
  let nextLine = 0.1;
  const failures: Failure[] = [];
  const line = (): string => {
    const s = (performance.now() - t0) / 1000;
    const rate = done / Math.max(s, 0.001);
    const eta = rate > 0 ? Math.round((count - done) / rate) : 0;
    return `${bar(done, count)} ${done.toLocaleString('en')}/${count.toLocaleString('en')} ` +
      `seeds, ${rate.toFixed(0)}/s, ${failures.length} failing, ETA ${eta} s`;
  };
  const ticker = tty ? setInterval(() => process.stdout.write(`\r${line()}`), 250) : undefined;
  let running = workers;
  for (let w = 0; w < workers; w++) {
    const job: Job = { from, count, offset: w, stride: workers, bugs, traces };
    const worker = new Worker(new URL(import.meta.url), {
      workerData: job,
      // a simulation allocates short-lived objects at a high rate, and keeps each seed's cluster
      // alive for the whole seed: a young generation of 384 MB scavenges less often and promotes
      // less (measured: 96 MB 424-443 simulated s per wall s, 384 MB 466-478, 768 MB 492 at a
      // peak resident 1.7 GB instead of 0.9 GB)
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    worker.on('message', (m: FromWorker) => {
      if (m.kind === 'failure') {
        failures.push(m.failure);
        const f = m.failure;
        process.stdout.write(`${tty ? '\r' : ''}FAIL seed ${f.seed}: ${f.failures[0] ?? ''}\n` +
          `  replay: ${replayCommand(f.seed, bugs)}\n  trace: ${f.trace}\n`);
        return;
      }
      done += m.seeds;
      simulatedMs += m.simulatedMs;
      steps += m.steps;
      undecided += m.undecided;
      if (m.largest.ops > largest.ops) largest = m.largest;
      if (!tty && done / count >= nextLine) {
        console.log(line());
        nextLine += 0.1;
      }
    });
    worker.on('error', (e) => {
      console.error(`worker ${w}: ${e.stack ?? e.message}`);
      process.exitCode = 1;
    });
    worker.on('exit', () => {
      if (--running > 0) return;
      if (ticker !== undefined) clearInterval(ticker);
      finish();
    });
  }
  const finish = (): void => {
    const wallS = (performance.now() - t0) / 1000;
    if (tty) process.stdout.write(`\r${line()}\n`);
    const summary = { seeds: done, from, workers, wallS: Number(wallS.toFixed(1)),
      seedsPerS: Number((done / wallS).toFixed(1)), simulatedS: Math.round(simulatedMs / 1000),
      simulatedSPerWallS: Math.round(simulatedMs / 1000 / wallS), steps, undecided, largest,
      failing: failures.map((f) => f.seed).sort((a, b) => a - b), bug: bug ?? null };
    console.log(`${done.toLocaleString('en')} seeds in ${wallS.toFixed(1)} s ` +
      `(${summary.seedsPerS} seeds/s); ${summary.simulatedS.toLocaleString('en')} s simulated, ` +
      `${summary.simulatedSPerWallS} simulated s per wall s on ${workers} threads; ` +
      `${steps.toLocaleString('en')} replica steps; history check undecided in ${undecided} ` +
      `seeds; ${failures.length} failing${failures.length > 0
        ? `: seeds ${summary.failing.slice(0, 20).join(' ')}` : ''}`);
    console.log(`history check of the largest history: ${largest.ops.toLocaleString('en')} ` +
      `operations (seed ${largest.seed}) in ${largest.checkMs.toFixed(1)} ms`);
    const json = stringArg(p, 'json');
    if (json !== undefined) writeFileSync(json, `${JSON.stringify(summary, null, 2)}\n`);
    const ok = bug === undefined ? failures.length === 0 : failures.length > 0;
    process.exitCode = process.exitCode === 1 ? 1 : ok ? 0 : 1;
  };
}

if (isMainThread) main(process.argv.slice(2));
else work(workerData as Job);
