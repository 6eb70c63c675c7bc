/**
 * `raftkv detsim`: one run of the deterministic simulation, with its report.
 *   raftkv detsim <scenario.json> [--seed N] [--lifetime S] [--bug NAME] [--trace FILE]
 *   raftkv detsim --mix --seed N [--bug NAME] [--trace FILE]   (seed N of the CI/soak mix)
 * Exit 0 when the run passes, 1 when a checker fails, 2 on a usage error. The same arguments
 * replay the same run, step for step; `--trace` writes every step to a file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { formatReport } from '../fault/report.js';
import { parseScenario, SCENARIO_JSON, shortened, type Scenario } from '../fault/scenario.js';
import { scenarioFile } from '../shipped.js';
import { BUGS, type Bug } from '../mutants/catalog.js';
import { MIX_END_WAIT_S, mixRun, shippedScenarios } from './mix.js';
import { simulate, type SimResult } from './simulation.js';
import {
  intArg, oneLine, parseCommandArgs, readTextArg, secondsArg, shown, stringArg,
} from '../args.js';
import { commandHelp, usageOf, type CommandHelp } from '../usage.js';

const USAGE = usageOf(commandHelp('detsim') as CommandHelp);

export interface SimulateArgs {
  readonly file: string | undefined;
  readonly mix: boolean;
  readonly seed: number | undefined;
  readonly lifetime: number | undefined;
  readonly bugs: readonly Bug[];
  readonly trace: string | undefined;
}

const OPTIONS = {
  mix: { type: 'boolean' }, seed: { type: 'string' }, lifetime: { type: 'string' },
  bug: { type: 'string', multiple: true }, trace: { type: 'string' },
} as const;

/** The arguments, or why they are not usable. */
export function parseSimulateArgs(args: readonly string[]): SimulateArgs | string {
  const p = parseCommandArgs(args, OPTIONS);
  if (typeof p === 'string') return p;
  const mix = p.values['mix'] === true;
  if (mix === (p.positionals.length === 1) || p.positionals.length > 1) {
    return 'expected one scenario (a file or a shipped name), or --mix';
  }
  let file: string | undefined;
  if (!mix) {
    const found = scenarioFile(p.positionals[0] as string);
    if (typeof found !== 'string') return found.refused;
    file = found;
  }
  const seedText = stringArg(p, 'seed');
  const seed = seedText === undefined ? undefined
    : intArg('seed', seedText, 0, Number.MAX_SAFE_INTEGER);
  if (typeof seed === 'string') return seed;
  if (mix && seed === undefined) return '--mix needs --seed';
  const lifetime = secondsArg(p, 'lifetime');
  if (typeof lifetime === 'string') return lifetime;
  const bugs = (p.values['bug'] ?? []) as string[];
  const unknown = bugs.find((b) => !(BUGS as readonly string[]).includes(b));
  if (unknown !== undefined) return `unknown bug ${shown(unknown)}; known: ${BUGS.join(', ')}`;
  return { file, mix, seed, lifetime, bugs: bugs as Bug[], trace: stringArg(p, 'trace') };
}

/** The command that replays a run of the mix. */
export function replayCommand(seed: number, bugs: readonly Bug[], trace?: string): string {
  return ['node dist/cli.js detsim --mix --seed', String(seed),
    ...bugs.map((b) => `--bug ${b}`), ...(trace === undefined ? [] : [`--trace ${trace}`])]
    .join(' ');
}

function scenarioOf(a: SimulateArgs): Scenario | string {
  if (a.mix) return mixRun(a.seed as number, shippedScenarios()).scenario;
  const text = readTextArg('scenario file', a.file as string, SCENARIO_JSON.maxChars);
  if (typeof text !== 'string') return text.refused;
  const parsed = parseScenario(text);
  if (parsed._tag === 'Left') return `${shown(a.file as string)}: ${oneLine(parsed.left)}`;
  const seeded = a.seed === undefined ? parsed.right : { ...parsed.right, seed: a.seed };
  const sized = a.lifetime === undefined ? seeded : shortened(seeded, a.lifetime);
  // The simulation also checks that a leader commits its whole log after the faults end, and an
  // election under 30 % drops can take seconds longer than a file's end_wait, which is sized for
  // answering clients. A run stops a second after it converges, so the longer wait costs nothing.
  return { ...sized, end_wait: Math.max(sized.end_wait, MIX_END_WAIT_S) };
}

function rerunOf(a: SimulateArgs, s: Scenario): string {
  if (a.mix) return replayCommand(s.seed, a.bugs);
  return ['node dist/cli.js detsim', a.file as string, '--seed', String(s.seed),
    ...(a.lifetime === undefined ? [] : ['--lifetime', String(a.lifetime)]),
    ...a.bugs.map((b) => `--bug ${b}`)].join(' ');
}

/** The simulation's own lines under the shared report. */
export function formatSimulation(r: SimResult, wallMs: number): string {
  const ratio = wallMs > 0 ? (r.simulatedMs / wallMs).toFixed(0) : '-';
  const perSync = r.syncs > 0 ? (r.writesSynced / r.syncs).toFixed(2) : '-';
  return [
    `simulation     ${r.steps.toLocaleString('en')} replica steps, ` +
      `${(r.simulatedMs / 1000).toFixed(1)} s simulated in ${(wallMs / 1000).toFixed(2)} s ` +
      `(${ratio} simulated s per wall s)`,
    `disk           ${r.syncs.toLocaleString('en')} syncs, ${perSync} writes per sync; ` +
      `${r.powerLosses} power losses (${r.tornWrites} torn writes), ${r.diskFailures} disk ` +
      'failures',
    `snapshots      ${r.snapshotsTaken} taken, ${r.snapshotsInstalled} installed from chunks`,
    r.failures.length === 0 ? 'simulation verdict: PASS (safety after every step, history, ' +
      'applied once, recovery)' : `simulation verdict: FAIL (seed ${r.report.scenario.seed})\n` +
      `${r.failures.map((f) => `  ${f.replace(/\n/g, '\n  ')}`).join('\n')}\n` +
      `replay: ${r.report.rerun}`,
  ].join('\n');
}

/** The `simulate` command; returns the exit code. */
export function simulateMain(args: readonly string[]): number {
  const a = parseSimulateArgs(args);
  if (typeof a === 'string') {
    console.error(`${a}\n${USAGE}`);
    return 2;
  }
  const scenario = scenarioOf(a);
  if (typeof scenario === 'string') {
    console.error(scenario);
    return 2;
  }
  const lines: string[] = [];
  const t0 = performance.now();
  const { diskFailChance, kv, limits } = a.mix ? mixRun(a.seed as number, [])
    : { diskFailChance: 0, kv: 'protocol' as const, limits: undefined };
  const result = simulate({ scenario, bugs: a.bugs, rerun: rerunOf(a, scenario), diskFailChance,
    kv, ...(limits === undefined ? {} : { limits }), ...(a.trace === undefined ? {} : { trace: (line: string) => { lines.push(line); } }) });
  const wallMs = performance.now() - t0;
  if (a.trace !== undefined) {
    writeFileSync(a.trace, `${JSON.stringify(scenario)}\n${lines.join('\n')}\n`);
  }
  console.log(formatReport(result.report));
  console.log(formatSimulation(result, wallMs));
  if (a.trace !== undefined) console.log(`trace: ${a.trace} (${lines.length} lines)`);
  return result.failures.length === 0 ? 0 : 1;
}
