/**
 * `npm run check:exhaustive`: visit every state of the real replica statechart within named
 * bounds (`model.ts`, `search.ts`), checking every safety property after every step.
 *
 *   npm run check:exhaustive -- [--bound default|ci|deep|five] [--servers N] [--max-term T]
 *     [--max-log L] [--clients C] [--retries R] [--keys K] [--copies D] [--max-inflight M]
 *     [--crashes R]
 *     [--snapshots on|off] [--max-batch B] [--symmetry on|off] [--bug NAME]...
 *     [--workers W] [--max-states S] [--max-seconds T] [--json FILE] [--replay PATH]
 *     [--spec on|off]
 *
 * A preset (`--bound`, default `default`) sets every bound; a flag after it changes one. It prints
 * distinct states, transitions, depth and states/s per level. A violation prints its shortest
 * trace and the command that replays it (`--replay` takes the trace's move numbers, dotted), then
 * the spec's verdict on that trace (`specTrace.ts`: `quint test` names the first step the spec
 * refuses; `--spec off` skips it).
 * Exit 0 when the search finds no violation (with --bug: when it finds one), 1 otherwise, 2 on a
 * usage error.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { intArg, parseCommandArgs, stringArg, type Parsed } from '../args.js';
import { BUGS, isBug, machineWith, type Bug } from '../mutants/catalog.js';
import { Model, type Bounds } from './model.js';
import { BadPathError, replay, search, type SearchReport } from './search.js';
import { describeVerdict, specVerdict } from './specTrace.js';

/**
 * The presets. `default`: the bound the figures are for; `ci`: under 2 minutes; `deep`: narrow
 * (no clients, crashes or duplicates; two messages in flight), so that ten minutes reach traces
 * of 25-30 steps, where two leaders' logs diverge; `five`: 5 servers.
 */
export const BOUNDS: Readonly<Record<string, Bounds>> = {
  default: { servers: 3, maxTerm: 3, maxLog: 3, clients: 2, retries: 1, keys: 1, copies: 2,
    maxInFlight: 4, crashes: 1, snapshots: false, maxBatch: 1, symmetry: true },
  ci: { servers: 3, maxTerm: 2, maxLog: 1, clients: 0, retries: 0, keys: 1, copies: 1, maxInFlight: 2,
    crashes: 0, snapshots: false, maxBatch: 1, symmetry: true },
  deep: { servers: 3, maxTerm: 3, maxLog: 2, clients: 0, retries: 0, keys: 1, copies: 1,
    maxInFlight: 2, crashes: 0, snapshots: false, maxBatch: 1, symmetry: true },
  five: { servers: 5, maxTerm: 2, maxLog: 1, clients: 0, retries: 0, keys: 1, copies: 1, maxInFlight: 5,
    crashes: 0, snapshots: false, maxBatch: 1, symmetry: true },
};

const FLAGS: Record<string, keyof Bounds> = {
  'servers': 'servers', 'max-term': 'maxTerm', 'max-log': 'maxLog', 'clients': 'clients',
  'retries': 'retries',
  'keys': 'keys', 'copies': 'copies', 'max-inflight': 'maxInFlight', 'crashes': 'crashes',
  'max-batch': 'maxBatch',
};
const LIMITS: Record<string, readonly [number, number]> = {
  'servers': [1, 7], 'max-term': [1, 20], 'max-log': [1, 20], 'clients': [0, 15],
  'retries': [0, 10], 'keys': [1, 4],
  'copies': [1, 5], 'max-inflight': [0, 20], 'crashes': [0, 10], 'max-batch': [1, 8],
};

export interface ExhaustiveArgs {
  readonly bounds: Bounds;
  readonly bugs: Bug[];
  readonly workers: number;
  readonly maxStates: number;
  readonly maxSeconds: number;
  readonly json: string | undefined;
  readonly replay: number[] | undefined;
  /** Check a violation's trace against the spec with `quint test`. */
  readonly spec: boolean;
}

const USAGE = 'usage: npm run check:exhaustive -- [--bound default|ci|deep|five] [--servers N] ' +
  '[--max-term T] [--max-log L] [--clients C] [--retries R] [--keys K] [--copies D] ' +
  '[--max-inflight M] ' +
  '[--crashes R] [--snapshots on|off] [--max-batch B] [--symmetry on|off] [--bug NAME]... ' +
  '[--workers W] [--max-states S] [--max-seconds T] [--json FILE] [--replay PATH] [--spec on|off]';

const onOff = (name: string, v: string): boolean | string =>
  v === 'on' ? true : v === 'off' ? false : `bad --${name} ${v}: expected on or off`;

/** The arguments, or one line saying what is wrong. */
export function parseExhaustiveArgs(args: readonly string[]): ExhaustiveArgs | string {
  const p = parseCommandArgs(args, {
    'bound': { type: 'string' }, 'snapshots': { type: 'string' }, 'symmetry': { type: 'string' },
    'bug': { type: 'string', multiple: true }, 'workers': { type: 'string' },
    'max-states': { type: 'string' }, 'max-seconds': { type: 'string' },
    'json': { type: 'string' }, 'replay': { type: 'string' }, 'help': { type: 'boolean' },
    'spec': { type: 'string' },
    ...Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
  });
  if (typeof p === 'string') return `${p}; ${USAGE}`;
  if (p.positionals.length > 0) return `unexpected ${p.positionals[0]}; ${USAGE}`;
  if (p.values['help'] === true) return USAGE;
  const preset = stringArg(p, 'bound') ?? 'default';
  const base = BOUNDS[preset];
  if (base === undefined) return `unknown --bound ${preset}; known: ${Object.keys(BOUNDS).join(', ')}`;
  const bounds: Record<string, number | boolean> = { ...base };
  for (const [flag, field] of Object.entries(FLAGS)) {
    const text = stringArg(p, flag);
    if (text === undefined) continue;
    const [min, max] = LIMITS[flag] as readonly [number, number];
    const n = intArg(flag, text, min, max);
    if (typeof n === 'string') return n;
    bounds[field] = n;
  }
  for (const flag of ['snapshots', 'symmetry'] as const) {
    const text = stringArg(p, flag);
    if (text === undefined) continue;
    const v = onOff(flag, text);
    if (typeof v === 'string') return v;
    bounds[flag] = v;
  }
  // A step that sends more than the bound allows is not taken: a campaign's broadcast must fit.
  if ((bounds['maxInFlight'] as number) < (bounds['servers'] as number) - 1) {
    const peers = (bounds['servers'] as number) - 1;
    return `--max-inflight ${String(bounds['maxInFlight'])} is below the ${peers} ` +
      `message${peers === 1 ? '' : 's'} one campaign broadcasts to its peers: no election ` +
      'could happen within the bound';
  }
  const bugs = ((p.values['bug'] ?? []) as string[]);
  const unknown = bugs.find((b) => !isBug(b));
  if (unknown !== undefined) return `unknown bug ${unknown}; known: ${BUGS.join(', ')}`;
  const number = (name: string, dflt: number, min: number, max: number): number | string => {
    const text = stringArg(p, name);
    return text === undefined ? dflt : intArg(name, text, min, max);
  };
  const workers = number('workers', availableParallelism(), 0, 64);
  const maxStates = number('max-states', 20_000_000, 1, 200_000_000);
  const maxSeconds = number('max-seconds', 3600, 1, 86_400);
  for (const v of [workers, maxStates, maxSeconds]) if (typeof v === 'string') return v;
  const specText = stringArg(p, 'spec') ?? 'on';
  const spec = onOff('spec', specText);
  if (typeof spec === 'string') return spec;
  const replayText = stringArg(p, 'replay');
  let path: number[] | undefined;
  if (replayText !== undefined) {
    if (!/^(\d{1,5}(\.\d{1,5})*)?$/.test(replayText)) return `bad --replay ${replayText}`;
    path = replayText === '' ? [] : replayText.split('.').map(Number);
  }
  return { bounds: bounds as unknown as Bounds, bugs: bugs as Bug[], workers: workers as number,
    maxStates: maxStates as number, maxSeconds: maxSeconds as number,
    json: stringArg(p, 'json'), replay: path, spec };
}

/** The flags that name these bounds and bugs exactly, for a replay command. */
export function boundFlags(b: Bounds, bugs: readonly Bug[]): string {
  const parts = Object.entries(FLAGS).map(([flag, field]) => `--${flag} ${b[field] as number}`);
  parts.push(`--snapshots ${b.snapshots ? 'on' : 'off'}`, `--symmetry ${b.symmetry ? 'on' : 'off'}`);
  for (const bug of bugs) parts.push(`--bug ${bug}`);
  return parts.join(' ');
}

export function describeBounds(b: Bounds): string {
  return `${b.servers} servers, terms <= ${b.maxTerm}, logs <= ${b.maxLog} entries, ` +
    `${b.clients} client request(s) on ${b.keys} key(s) with ${b.retries} retr` +
    `${b.retries === 1 ? 'y' : 'ies'}, <= ${b.copies} copies of a message and ` +
    `<= ${b.maxInFlight} in flight, ${b.crashes} crash(es), snapshots ${b.snapshots ? 'on' : 'off'}, ` +
    `${b.maxBatch} entr${b.maxBatch === 1 ? 'y' : 'ies'} per AppendEntries, symmetry ` +
    `${b.symmetry ? 'on' : 'off'}`;
}

/** The report's closing lines. */
export function summary(r: SearchReport): string[] {
  const lines = [
    `${r.states.toLocaleString('en-US')} distinct states, ${r.transitions.toLocaleString('en-US')} ` +
    `transitions, depth ${r.depth}, ${r.seconds.toFixed(1)} s ` +
    `(${(r.states / Math.max(r.seconds, 1e-3)).toFixed(0)} states/s) on ${r.workers} worker(s), ` +
    `peak memory ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MB`,
  ];
  if (r.exhausted) lines.push(`the bound is exhausted: it has ${r.states.toLocaleString('en-US')} states`);
  else if (r.stoppedBy !== 'violation') {
    lines.push(`stopped by the ${r.stoppedBy === 'time' ? 'time' : 'state'} limit: the bound is ` +
      `not exhausted; every state to depth ${r.completeDepth} was visited` +
      `${r.completeDepth < r.depth ? `, and part of depth ${r.depth}` : ''}`);
  }
  return lines;
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseExhaustiveArgs(argv);
  if (typeof args === 'string') {
    const help = args === USAGE;
    (help ? console.log : console.error)(args);
    return help ? 0 : 2;
  }
  const flags = boundFlags(args.bounds, args.bugs);
  const machine = machineWith(args.bugs);
  const model = new Model(args.bounds, machine);
  const verdict = async (path: readonly number[]): Promise<void> => {
    if (!args.spec) return;
    for (const line of describeVerdict(await specVerdict(args.bounds, machine, path))) {
      console.log(line);
    }
  };
  if (args.replay !== undefined) {
    let r: ReturnType<typeof replay>;
    try {
      r = replay(model, args.replay);
    } catch (e) {
      if (!(e instanceof BadPathError)) throw e;
      console.error(`bad --replay: ${e.message}; a path is the move numbers a trace printed`);
      return 2;
    }
    for (const line of r.lines) console.log(line);
    console.log(r.violation === undefined ? 'no violation on this trace'
      : `VIOLATION ${r.violation.invariant}: ${r.violation.detail}`);
    if (r.violation !== undefined) await verdict(args.replay);
    return outcome(args.bugs, r.violation !== undefined);
  }
  console.log(`check:exhaustive: ${describeBounds(args.bounds)}` +
    `${args.bugs.length > 0 ? `; bugs ${args.bugs.join(', ')}` : ''}`);
  const report = await search({ bounds: args.bounds, bugs: args.bugs, workers: args.workers,
    maxStates: args.maxStates, maxSeconds: args.maxSeconds, log: (l) => console.log(l) });
  for (const line of summary(report)) console.log(line);
  const found = report.found;
  if (found !== undefined) {
    const trace = replay(model, found.path);
    console.log(`VIOLATION ${found.violation.invariant}: ${found.violation.detail}`);
    console.log(`shortest trace, ${found.path.length} steps:`);
    for (const line of trace.lines) console.log(line);
    console.log(`replay: npm run check:exhaustive -- ${flags} --replay ${found.path.join('.')}`);
    await verdict(found.path);
  }
  if (args.json !== undefined) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
  return outcome(args.bugs, found !== undefined);
}

/** Exit 0 when the search (or replay) finds no violation, or, with a bug switched in, finds one. */
const outcome = (bugs: readonly Bug[], violated: boolean): number =>
  (bugs.length > 0 ? (violated ? 0 : 1) : (violated ? 1 : 0));

const entry = process.argv[1] ?? '';
if (entry.endsWith('exhaustive/main.js') || entry.endsWith('exhaustive/main.ts')) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exitCode = 1;
  });
}
