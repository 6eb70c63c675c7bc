/**
 * `npm run explore`: explore the Raft core with several statecharts in one process, checking every
 * safety property after every event.
 *   npm run explore -- [--seeds N] [--profile random|steered] [--bug NAME]
 * Every run is a function of its seed; a violation prints the seed and the command to replay it.
 */
import type { Bug } from '../core/state.js';
import { explore, randomProfile, steeredProfile } from '../sim/explorer.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const seeds = Number(flag('seeds', '200'));
const first = Number(flag('seed', '1'));
const profileName = flag('profile', 'steered');
const bug = flag('bug', '');
const profile = profileName === 'random' ? randomProfile : { ...steeredProfile, steps: 1000 };
const bugs = bug === '' ? [] : [bug as Bug];

console.log(`raftkv explorer: ${profile.servers} replicas, profile ${profileName}, ` +
  `${profile.steps} events per seed, seeds ${first}..${first + seeds - 1}` +
  (bug === '' ? '' : `, deliberately broken: ${bug}`));
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
      (bug === '' ? '' : ` --bug ${bug}`));
    process.exit(bug === '' ? 1 : 0);
  }
}
const seconds = (Date.now() - t0) / 1000;
console.log(`\n${seeds} seeds, ${events} events, no violation ` +
  `(${Math.round(events / seconds).toLocaleString('en')} events/s, ${seconds.toFixed(1)} s)`);
if (bug !== '') {
  console.log(`the broken rule ${bug} was NOT caught in ${seeds} seeds`);
  process.exit(1);
}
