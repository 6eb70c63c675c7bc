/**
 * `raftkv crashtest [--seed N] [--rounds N] [--replicas N] [--clients N] [--keys N]
 *  [--torn P] [--flip P] [--all P] [--snapshot-entries N] [--bug NAME]`: one crash-test run (`harness.ts`); exit 1 if
 *  a check fails.
 */
import { describeOp } from '../fault/linearizability.js';
import { intArg, parseCommandArgs, shown, stringArg } from '../args.js';
import { crashTest, DEFAULT_CRASH, type CrashOptions, type CrashReport } from './harness.js';

const OPTIONS = {
  seed: { type: 'string' }, rounds: { type: 'string' }, replicas: { type: 'string' },
  clients: { type: 'string' }, keys: { type: 'string' }, torn: { type: 'string' },
  flip: { type: 'string' }, all: { type: 'string' }, 'snapshot-entries': { type: 'string' },
  bug: { type: 'string', multiple: true },
} as const;

/** A probability flag's value in [0, 1], or a message naming the flag. */
function chance(name: string, text: string | undefined, fallback: number): number | string {
  if (text === undefined) return fallback;
  const p = /^(0|1|0?\.\d{1,6}|1\.0*)$/.test(text) ? Number(text) : Number.NaN;
  return p >= 0 && p <= 1 ? p : `bad --${name} ${shown(text)}: expected a probability from 0 to 1`;
}

/** The options, or one line naming the argument that is wrong. */
export function crashOptions(args: readonly string[]): CrashOptions | string {
  const d = DEFAULT_CRASH;
  const p = parseCommandArgs(args, OPTIONS);
  if (typeof p === 'string') return p;
  if (p.positionals.length > 0) return `unexpected argument ${shown(p.positionals[0] as string)}`;
  const int = (name: string, fallback: number, min: number, max: number): number | string => {
    const text = stringArg(p, name);
    return text === undefined ? fallback : intArg(name, text, min, max);
  };
  const o = {
    seed: int('seed', d.seed, 0, 2 ** 32 - 1), rounds: int('rounds', d.rounds, 1, 100_000),
    replicas: int('replicas', d.replicas, 3, 15), clients: int('clients', d.clients, 1, 256),
    keys: int('keys', d.keys, 1, 100_000),
    tornChance: chance('torn', stringArg(p, 'torn'), d.tornChance),
    flipChance: chance('flip', stringArg(p, 'flip'), d.flipChance),
    allChance: chance('all', stringArg(p, 'all'), d.allChance),
    snapshotEntries: int('snapshot-entries', d.snapshotEntries, 1, Number.MAX_SAFE_INTEGER),
  };
  const wrong = Object.values(o).find((v) => typeof v === 'string');
  if (typeof wrong === 'string') return wrong;
  const bugs = (p.values['bug'] as string[] | undefined) ?? [];
  return { ...(o as { [K in keyof typeof o]: number }), bugs };
}

/** Whether the run passed: a history decided linearizable, and nothing lost. */
export function passed(r: CrashReport): boolean {
  return r.lost.length === 0 && r.history.result === 'ok';
}

export function summary(r: CrashReport): string[] {
  const undecided = r.history.keys.filter((k) => k.result === 'unknown');
  const lines = [
    `rounds ${r.rounds}: ${r.kills} kills (${r.leaderKills} of the leader alone, ` +
      `${r.allKilled} rounds killing all at once), ${r.torn} torn ` +
      `tails appended, ${r.flipsRefused} bit flips refused, ${r.wiped} data dirs emptied, ` +
      `${r.snapshotsInstalled} snapshots installed`,
    `ops ${r.ops}: ${r.putsAcknowledged} puts acknowledged, ${r.unanswered} unanswered`,
    `answered: ${r.answered.get} gets, ${r.answered.put} puts, ${r.answered.del} dels, ` +
      `${r.answered.swapped} cas that swapped and ${r.answered.refused} that did not`,
    `lost acknowledged puts: ${r.lost.length}${r.lost.length > 0
      ? ` (${r.lost.slice(0, 10).join(', ')}${r.lost.length > 10 ? ', ...' : ''})` : ''}`,
    `history: ${r.history.result} (${r.history.keysChecked} keys${undecided.length > 0
      ? `, ${undecided.length} undecided: ${undecided.map((k) => `${k.key} (${k.reason ?? ''})`)
        .join(', ')}` : ''})`,
    `took ${r.seconds.toFixed(1)} s`,
  ];
  for (const k of r.history.keys) {
    for (const o of k.witness ?? []) lines.push(`  not linearizable: ${describeOp(o)}`);
  }
  for (const line of r.refusals) lines.push(`  refused: ${line}`);
  return lines;
}

export async function crashMain(args: readonly string[]): Promise<number> {
  const opts = crashOptions(args);
  if (typeof opts === 'string') {
    console.error(`raftkv crashtest: ${opts}`);
    return 2;
  }
  console.log(`crash test: seed ${opts.seed}, ${opts.replicas} replicas, ${opts.rounds} rounds, ` +
    `${opts.clients} clients`);
  const r = await crashTest({ ...opts, log: (line) => console.log(line) });
  for (const line of summary(r)) console.log(line);
  const ok = passed(r);
  console.log(ok ? 'PASS' : `FAIL (replay: raftkv crashtest ${args.join(' ')})`);
  return ok ? 0 : 1;
}
