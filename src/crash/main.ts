/**
 * `raftkv crashtest [--seed N] [--rounds N] [--replicas N] [--clients N] [--keys N]
 *  [--torn P] [--flip P] [--all P] [--snapshot-entries N] [--bug NAME]`: one crash-test run (`harness.ts`); exit 1 if
 *  a check fails.
 */
import { describeOp } from '../fault/linearizability.js';
import { crashTest, DEFAULT_CRASH, type CrashOptions, type CrashReport } from './harness.js';

function option(args: readonly string[], name: string, fallback: number): number {
  const k = args.indexOf(name);
  const v = k >= 0 ? Number(args[k + 1]) : fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`bad ${name}`);
  return v;
}

export function crashOptions(args: readonly string[]): CrashOptions {
  const d = DEFAULT_CRASH;
  const known = ['--seed', '--rounds', '--replicas', '--clients', '--keys', '--torn', '--flip',
    '--all', '--bug', '--snapshot-entries'];
  for (let k = 0; k < args.length; k += 2) {
    if (!known.includes(args[k] as string)) throw new Error(`unknown option ${args[k]}`);
  }
  return { seed: option(args, '--seed', d.seed), rounds: option(args, '--rounds', d.rounds),
    replicas: option(args, '--replicas', d.replicas), clients: option(args, '--clients', d.clients),
    keys: option(args, '--keys', d.keys), tornChance: option(args, '--torn', d.tornChance),
    flipChance: option(args, '--flip', d.flipChance), allChance: option(args, '--all', d.allChance),
    snapshotEntries: option(args, '--snapshot-entries', d.snapshotEntries),
    bugs: args.flatMap((a, k) => (a === '--bug' && args[k + 1] !== undefined
      ? [args[k + 1] as string] : [])) };
}

/** Whether the run passed: a linearizable history (or undecided keys, said) and nothing lost. */
export function passed(r: CrashReport): boolean {
  return r.lost.length === 0 && r.history.result !== 'illegal';
}

export function summary(r: CrashReport): string[] {
  const undecided = r.history.keys.filter((k) => k.result === 'unknown').length;
  const lines = [
    `rounds ${r.rounds}: ${r.kills} kills (${r.leaderKills} of the leader alone, ` +
      `${r.allKilled} rounds killing all at once), ${r.torn} torn ` +
      `tails appended, ${r.flipsRefused} bit flips refused, ${r.wiped} data dirs emptied, ` +
      `${r.snapshotsInstalled} snapshots installed`,
    `ops ${r.ops}: ${r.putsAcknowledged} puts acknowledged, ${r.unanswered} unanswered`,
    `lost acknowledged puts: ${r.lost.length}${r.lost.length > 0
      ? ` (${r.lost.slice(0, 10).join(', ')}${r.lost.length > 10 ? ', ...' : ''})` : ''}`,
    `history: ${r.history.result} (${r.history.keysChecked} keys${undecided > 0
      ? `, ${undecided} undecided within the search bound` : ''})`,
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
  console.log(`crash test: seed ${opts.seed}, ${opts.replicas} replicas, ${opts.rounds} rounds, ` +
    `${opts.clients} clients`);
  const r = await crashTest({ ...opts, log: (line) => console.log(line) });
  for (const line of summary(r)) console.log(line);
  const ok = passed(r);
  console.log(ok ? 'PASS' : `FAIL (replay: raftkv crashtest ${args.join(' ')})`);
  return ok ? 0 : 1;
}
