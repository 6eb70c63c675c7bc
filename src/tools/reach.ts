/**
 * `npm run reach -- [--seeds N] [--per K] [--write FILE]`: run seeds 1..N of the soak's mix and
 * name, for each of the core's rare paths (`detsim/reach.ts`), the first K seeds whose run takes
 * it. The mutation checks run these seeds (`test/mutate/reach.json`), so that a wrong answer on a
 * path the first seeds seldom take is still reached. Prints the corpus as JSON; `--write` also
 * saves it.
 */
import { writeFileSync } from 'node:fs';
import { mixRun, shippedScenarios } from '../detsim/mix.js';
import { RARE_PATHS, pathsOf, type RarePath } from '../detsim/reach.js';
import { simulate } from '../detsim/simulation.js';
import { intArg, parseCommandArgs, shown, stringArg } from '../args.js';

export type ReachCorpus = Record<RarePath, number[]>;

/** The first `per` seeds of `1..seeds` that reach each rare path, and how long the search took. */
export function findCorpus(seeds: number, per: number): { corpus: ReachCorpus; ms: number } {
  const shipped = shippedScenarios();
  const corpus = Object.fromEntries(RARE_PATHS.map((p) => [p, [] as number[]])) as ReachCorpus;
  const t0 = performance.now();
  for (let seed = 1; seed <= seeds; seed++) {
    if (RARE_PATHS.every((p) => corpus[p].length >= per)) break;
    const reached = new Set<RarePath>();
    simulate({ ...mixRun(seed, shipped), observe: (_id, step) => {
      for (const p of pathsOf(step)) reached.add(p);
    } });
    for (const p of reached) if (corpus[p].length < per) corpus[p].push(seed);
  }
  return { corpus, ms: performance.now() - t0 };
}

const USAGE = 'usage: npm run reach -- [--seeds N] [--per K] [--write FILE]';

function main(args: readonly string[]): number {
  const p = parseCommandArgs(args, { seeds: { type: 'string' }, per: { type: 'string' },
    write: { type: 'string' } });
  const fail = (m: string): number => {
    console.error(`${m}\n${USAGE}`);
    return 2;
  };
  if (typeof p === 'string') return fail(p);
  if (p.positionals[0] !== undefined) return fail(`unexpected argument ${shown(p.positionals[0])}`);
  const seeds = intArg('seeds', stringArg(p, 'seeds') ?? '2000', 1, 10_000_000);
  const per = intArg('per', stringArg(p, 'per') ?? '3', 1, 100);
  if (typeof seeds === 'string') return fail(seeds);
  if (typeof per === 'string') return fail(per);
  const { corpus, ms } = findCorpus(seeds, per);
  const text = `${JSON.stringify(corpus, null, 2)}\n`;
  process.stdout.write(text);
  console.error(`raftkv reach: ${RARE_PATHS.map((q) => `${q} ${corpus[q].length}`).join(', ')} ` +
    `of ${per} each, within seeds 1..${seeds}, in ${(ms / 1000).toFixed(1)} s`);
  const file = stringArg(p, 'write');
  if (file !== undefined) writeFileSync(file, text);
  return RARE_PATHS.every((q) => corpus[q].length > 0) ? 0 : 1;
}

if (process.argv[1]?.endsWith('reach.js')) process.exitCode = main(process.argv.slice(2));
