/**
 * `npm run explore`: explore the Raft core with several statecharts in one process, checking every
 * safety property after every event.
 *   npm run explore -- [--seeds N] [--seed FIRST] [--profile random|steered] [--bug NAME]
 * Every run is a function of its seed; a violation prints the seed and the command to replay it.
 * Exit 0 when no seed violates a property (with --bug: when one does), 1 otherwise, 2 on a usage
 * error, which is reported before any seed runs.
 */
import { BUGS, type Bug } from '../mutants/catalog.js';
import { explore, randomProfile, steeredProfile, type ExploreOptions } from '../explorer/explorer.js';

const USAGE = 'usage: npm run explore -- [--seeds N] [--seed FIRST] ' +
  '[--profile random|steered] [--bug NAME]';

/**
 * The profiles exactly as the bug catalog (test/mutants/catalog.test.ts) runs them, so that a bug the
 * catalog catches within its seeds is caught here by the same seed. (This tool once cut the
 * steered profile to 1,000 events per seed; Figure 8 then escaped every seed up to 300.)
 */
const PROFILES: Record<string, Omit<ExploreOptions, 'seed'>> = {
  random: randomProfile, steered: steeredProfile,
};

interface ExploreArgs {
  readonly seeds: number;
  readonly first: number;
  readonly profileName: string;
  readonly bug: Bug | undefined;
}

/** The arguments, or one line saying which one is wrong. */
function parseArgs(args: readonly string[]): ExploreArgs | string {
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!['--seeds', '--seed', '--profile', '--bug'].includes(a)) {
      return `unknown argument ${a}; ${USAGE}`;
    }
    const v = args[++i];
    if (v === undefined) return `${a} needs a value; ${USAGE}`;
    values.set(a, v);
  }
  const bug = values.get('--bug');
  if (bug !== undefined && !(BUGS as readonly string[]).includes(bug)) {
    return `unknown bug ${bug}; known: ${BUGS.join(', ')}`;
  }
  const profileName = values.get('--profile') ?? 'steered';
  if (!Object.hasOwn(PROFILES, profileName)) {
    return `unknown profile ${profileName}; known: ${Object.keys(PROFILES).join(', ')}`;
  }
  const seeds = Number(values.get('--seeds') ?? '200');
  const first = Number(values.get('--seed') ?? '1');
  for (const [name, n] of [['--seeds', seeds], ['--seed', first]] as const) {
    if (!Number.isSafeInteger(n) || n < 1) return `bad ${name} ${values.get(name)}; ${USAGE}`;
  }
  return { seeds, first, profileName, bug: bug as Bug | undefined };
}

const parsed = parseArgs(process.argv.slice(2));
if (typeof parsed === 'string') {
  console.error(parsed);
  process.exit(2);
}
const { seeds, first, profileName, bug } = parsed;
const profile = PROFILES[profileName] as Omit<ExploreOptions, 'seed'>;
const bugs = bug === undefined ? [] : [bug];

console.log(`raftkv explorer: ${profile.servers} replicas, profile ${profileName}, ` +
  `${profile.steps} events per seed, seeds ${first}..${first + seeds - 1}` +
  (bug === undefined ? '' : `, deliberately broken: ${bug}`));
const t0 = Date.now();
let events = 0;
for (let seed = first; seed < first + seeds; seed++) {
  const r = explore({ ...profile, seed, bugs });
  events += r.events;
  if (process.stdout.isTTY) process.stdout.write(`\r  seed ${seed}  events ${events}`);
  if (r.violation !== undefined) {
    console.log(`\nVIOLATION ${r.violation.invariant} at seed ${seed}, step ${r.violation.step}: ` +
      `${r.violation.detail}`);
    console.log(`replay: npm run explore -- --profile ${profileName} --seed ${seed} --seeds 1` +
      (bug === undefined ? '' : ` --bug ${bug}`));
    process.exit(bug === undefined ? 1 : 0);
  }
}
const seconds = (Date.now() - t0) / 1000;
console.log(`\n${seeds} seeds, ${events} events, no violation ` +
  `(${Math.round(events / seconds).toLocaleString('en')} events/s, ${seconds.toFixed(1)} s)`);
if (bug !== undefined) {
  console.log(`the broken rule ${bug} was NOT caught in ${seeds} seeds`);
  process.exit(1);
}
