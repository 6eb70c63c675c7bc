/**
 * `raftkv netsim <scenario.json> [--replica <executable>] [--seed N] [--lifetime S] [--quiet]
 *   [--verbose] [--json <file>]`: run a scenario against real replica processes, print the report,
 * and exit 0 when the verdict is clean, 1 when it is not, 2 on a usage error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatReport, reportJson, verdict } from '../fault/report.js';
import { parseScenario, SCENARIO_JSON, shortened, type Scenario } from '../fault/scenario.js';
import { scenarioFile } from '../shipped.js';
import { runNetsim } from './netsim.js';
import type { ReplicaCommand } from './processes.js';
import {
  intArg, oneLine, parseCommandArgs, readTextArg, secondsArg, shown, stringArg,
} from '../args.js';
import { commandHelp, usageOf, type CommandHelp } from '../usage.js';

const USAGE = usageOf(commandHelp('netsim') as CommandHelp);

export interface SimArgs {
  readonly file: string;
  readonly replica: string | undefined;
  readonly seed: number | undefined;
  readonly lifetime: number | undefined;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly json: string | undefined;
}

const OPTIONS = {
  replica: { type: 'string' }, seed: { type: 'string' }, lifetime: { type: 'string' },
  json: { type: 'string' }, quiet: { type: 'boolean' }, verbose: { type: 'boolean' },
} as const;

/** The arguments, or the reason they are not usable. */
export function parseSimArgs(args: readonly string[]): SimArgs | string {
  const p = parseCommandArgs(args, OPTIONS);
  if (typeof p === 'string') return p;
  if (p.positionals.length !== 1) {
    return `expected one scenario (a file or a shipped name), got ${p.positionals.length}`;
  }
  const file = scenarioFile(p.positionals[0] as string);
  if (typeof file !== 'string') return file.refused;
  const seedText = stringArg(p, 'seed');
  const seed = seedText === undefined ? undefined
    : intArg('seed', seedText, 0, Number.MAX_SAFE_INTEGER);
  if (typeof seed === 'string') return seed;
  const lifetime = secondsArg(p, 'lifetime');
  if (typeof lifetime === 'string') return lifetime;
  return { file, replica: stringArg(p, 'replica'), seed, lifetime,
    quiet: p.values['quiet'] === true, verbose: p.values['verbose'] === true,
    json: stringArg(p, 'json') };
}

/** Our own replica: the compiled CLI next to this module (dist/cli.js). */
const ownCli = (): string => fileURLToPath(new URL('../cli.js', import.meta.url));

/** A shell word for the rerun line. */
const quote = (a: string): string =>
  (/^[\w./:=@-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

function rerunCommand(a: SimArgs, seed: number): string {
  const cli = relative(process.cwd(), ownCli()) || ownCli();
  return ['node', cli, 'netsim', a.file, '--seed', String(seed),
    ...(a.lifetime === undefined ? [] : ['--lifetime', String(a.lifetime)]),
    ...(a.replica === undefined ? [] : ['--replica', a.replica])].map(quote).join(' ');
}

function loadScenario(a: SimArgs): Scenario | string {
  const text = readTextArg('scenario file', a.file, SCENARIO_JSON.maxChars);
  if (typeof text !== 'string') return text.refused;
  const parsed = parseScenario(text);
  if (parsed._tag === 'Left') return `${shown(a.file)}: ${oneLine(parsed.left)}`;
  const restart = parsed.right.events.findIndex((e) => e.type === 'restart');
  if (restart >= 0) {
    return `${a.file}:\n  events.${restart}.type: restart needs replicas that keep a disk; ` +
      'replica processes do not yet (the deterministic simulation, raftkv detsim, does)';
  }
  const seeded = a.seed === undefined ? parsed.right : { ...parsed.right, seed: a.seed };
  return a.lifetime === undefined ? seeded : shortened(seeded, a.lifetime);
}

/** The `sim` command; resolves to the exit code. */
export async function simMain(args: readonly string[]): Promise<number> {
  const a = parseSimArgs(args);
  if (typeof a === 'string') {
    console.error(`${a}\n${USAGE}`);
    return 2;
  }
  const scenario = loadScenario(a);
  if (typeof scenario === 'string') {
    console.error(scenario);
    return 2;
  }
  const replica: ReplicaCommand = a.replica === undefined
    ? { command: process.execPath, args: [ownCli(), 'replica'] } : { command: a.replica, args: [] };
  try {
    const report = await runNetsim({ scenario, replica, rerun: rerunCommand(a, scenario.seed),
      quiet: a.quiet, verbose: a.verbose, handleSignals: true });
    const reasons = verdict(report, scenario);
    console.log(formatReport(report, reasons));
    if (a.json !== undefined) writeFileSync(a.json, reportJson(report, reasons));
    return reasons.length === 0 ? 0 : 1;
  } catch (e) {
    console.error(`raftkv netsim: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
