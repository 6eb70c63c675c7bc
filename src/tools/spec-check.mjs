#!/usr/bin/env node
/**
 * spec-check: checks the Quint spec in spec/ end to end.
 *
 *   1. `quint typecheck` on every spec file (the full run only: in CI, the runs below typecheck);
 *   2. `quint test` on the scripted scenarios (spec/raftTest.qnt);
 *   3. `quint run` random simulation of `step` and of the steered `stepSteered`, checking every
 *      invariant together (`--invariants`, which names the one violated) and reporting how often
 *      the runs reached a leader, a commit, an answered get, a rejoin and a snapshot; the same
 *      for the five-server instance (`spec/instance5.qnt`), deeper, since it needs more steps;
 *   4. `quint run` on each witness, which must be VIOLATED (the behaviour is reachable).
 *
 * Two quint processes run at a time (one per core). Seeds are fixed and printed, so every run
 * replays exactly (as TigerBeetle's VOPR: "reproduce with seed=...").
 *
 * Usage: node src/tools/spec-check.mjs [--ci] [--jobs=N] [--spec-dir=DIR]
 *   --ci        the CI budget (about 3 minutes on 2 cores); without it a fuller run (< 5 minutes).
 *   --jobs=N    quint processes at a time (default 2).
 *   --spec-dir  check the spec files in DIR instead of spec/ (to see a broken copy caught).
 * Logs of every quint process go to .quint-out/spec-check/. Exit code 1 on any unexpected result.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const quintCli = join(root, 'node_modules', '@informalsystems', 'quint', 'dist', 'src', 'cli.js');
const logDir = join(root, '.quint-out', 'spec-check');

/** The spec directory: `--spec-dir` points the checks at a copy, e.g. a deliberately broken one. */
let specDir = 'spec';
const specFiles = () => ['raft.qnt', 'instance.qnt', 'instance5.qnt', 'raftTest.qnt']
  .map((f) => join(specDir, f));
const testFile = () => join(specDir, 'raftTest.qnt');
/** The instances: three servers (the default), and five (quorum 3). */
const INSTANCES = { 3: 'instance', 5: 'instance5' };
const instanceFile = (n) => join(specDir, `${INSTANCES[n]}.qnt`);
const INVARIANTS = [
  'electionSafety', 'logMatching', 'leaderCompleteness', 'stateMachineSafety', 'commitInLog',
  'committedDurable', 'snapshotSafety', 'kvLinearizable', 'electionSafetyHistory',
  'termMonotonic', 'commitMonotonic', 'ackedWriteCommitted', 'appliedAtMostOnce',
  'oneUncommittedChange', 'learnerNeverCounted', 'removedLeaderStepsDown',
];
const WITNESSES = ['witnessNoLeader', 'witnessNoCommit', 'witnessNoGetAnswered', 'witnessNoRejoin',
  'witnessNoSnapshotSent', 'witnessNoIndirectCommit', 'witnessNoTruncation', 'witnessNoDedupHit',
  'witnessNoRefusedStaleRead', 'witnessNoSnapshotInstalled', 'witnessNoCheckQuorumStepDown',
  'witnessNoDeposedAnswer', 'witnessNoLostRedirect', 'witnessNoOverloadFail', 'witnessNoSwap',
  'witnessNoDelete', 'witnessNoSessionWrite', 'witnessNoExpired', 'witnessNoLearnerAdded',
  'witnessNoPromotion', 'witnessNoRemoval', 'witnessNoLeaderRemoved'];
const COVERAGE = ['reachedLeader', 'reachedCommit', 'reachedGetAnswered', 'reachedRejoin',
  'reachedSnapshotSent', 'reachedSnapshotInstalled'];
const TEST_SEED = '0x7e57';

/**
 * Quint's generator is counter-based: the seed is the first counter and every draw adds one, so
 * seeds 1 and 3 replay the same stream shifted by two draws. Seeds here are 2^48 apart, far more
 * than the draws of any run (~10^6).
 */

/** Simulation budgets. Measured here: ~25 traces/s of 40 steps per core, ~7 s start-up per run. */
const BUDGETS = {
  ci: {
    invariants: [
      { step: 'step', seed: '0x2a01000000000000', samples: 1500, maxSteps: 40 },
      { step: 'stepSteered', seed: '0x2a02000000000000', samples: 1200, maxSteps: 50 },
      { step: 'stepSteered', seed: '0x2a05000000000000', samples: 100, maxSteps: 120,
        servers: 5 },
    ],
    witnessSamples: 3000,
    witnessSteps: ['stepSteered'],
    typecheck: false,
  },
  full: {
    invariants: [
      { step: 'step', seed: '0x2a01000000000000', samples: 2000, maxSteps: 40 },
      { step: 'stepSteered', seed: '0x2a02000000000000', samples: 1300, maxSteps: 60 },
      { step: 'step', seed: '0x2a03000000000000', samples: 2000, maxSteps: 40 },
      { step: 'stepSteered', seed: '0x2a04000000000000', samples: 1300, maxSteps: 60 },
      { step: 'stepSteered', seed: '0x2a05000000000000', samples: 500, maxSteps: 120,
        servers: 5 },
    ],
    witnessSamples: 5000,
    witnessSteps: ['stepSteered', 'step'],
    typecheck: true,
  },
};
/**
 * Witnesses that need a longer run: a put appended, its leader deposed, and the next leader's
 * commit reaching the deposed one takes two elections and a commit; an indirect commit (Figure 8)
 * takes two elections and a commit in a third term, which random `step` walks (a commit in 1 % of
 * 40-step samples) no longer reach in 40 steps now that clients may be refused as overloaded. A
 * write in a session takes a register committed and answered first, a dedup hit a retry of such
 * a write committed twice, and an expired session two registers and a write committed, in order.
 * A promotion takes three changes committed in order (a voter removed, added back as a learner,
 * promoted), each after the last one committed.
 */
const WITNESS_DEPTH = { witnessNoDeposedAnswer: 100, witnessNoLostRedirect: 100,
  witnessNoIndirectCommit: 100, witnessNoExpired: 100, witnessNoSessionWrite: 100,
  witnessNoDedupHit: 100, witnessNoPromotion: 100 };
/** Witness runs stop at the first violation; each gets its own seed, per step. */
const WITNESS_STEPS = [
  { step: 'stepSteered', seedBase: 0x31n, maxSteps: 40 },
  { step: 'step', seedBase: 0x32n, maxSteps: 40 },
];

function parseArgs(argv) {
  const opts = { ci: false, jobs: 2 };
  for (const a of argv) {
    if (a === '--ci') opts.ci = true;
    else if (a.startsWith('--jobs=')) opts.jobs = Math.max(1, Number(a.slice('--jobs='.length)));
    else if (a.startsWith('--spec-dir=')) specDir = a.slice('--spec-dir='.length);
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node src/tools/spec-check.mjs [--ci] [--jobs=N] '
        + '[--spec-dir=DIR]\n');
      process.exit(0);
    } else {
      process.stderr.write(`spec-check: unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  return opts;
}

/** Runs quint with args from the repository root; resolves with exit code, output and seconds. */
function runQuint(args) {
  return new Promise((done) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [quintCli, ...args], { cwd: root });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      done({ code: code ?? -1, out, seconds });
    });
  });
}

const simArgs = (step, seed, samples, maxSteps, servers = 3) => [
  'run', instanceFile(servers), '--backend=typescript', `--main=${INSTANCES[servers]}`,
  `--step=${step}`, `--seed=${seed}`, `--max-samples=${samples}`, `--max-steps=${maxSteps}`,
];

/** Traces explored, from "(1234ms at 25 traces/second)" (quint prints no count on violations). */
function tracesExplored(out, fallback) {
  const m = /\((\d+)ms at (\d+) traces\/second\)/.exec(out);
  if (!m) return fallback;
  return Math.max(1, Math.round((Number(m[1]) / 1000) * Number(m[2])));
}

function coverage(out) {
  const parts = [];
  for (const name of COVERAGE) {
    const m = new RegExp(`${name} was witnessed in .* explored \\(([\\d.]+)%\\)`).exec(out);
    const label = name.replace('reached', '').toLowerCase();
    parts.push(`${label} ${m ? `${Math.round(Number(m[1]))}%` : '?'}`);
  }
  return parts.join(', ');
}

function typecheckJob(file) {
  return {
    name: `typecheck ${file}`,
    args: ['typecheck', file],
    judge: (r) =>
      ({ ok: r.code === 0, samples: '-', steps: '-', result: r.code === 0 ? 'ok' : 'FAIL' }),
  };
}

function testJob() {
  return {
    name: `test ${testFile()} seed=${TEST_SEED}`,
    args: ['test', testFile(), '--backend=typescript', `--seed=${TEST_SEED}`],
    judge: (r) => {
      const passing = Number((/(\d+) passing/.exec(r.out) ?? [])[1] ?? 0);
      const failing = Number((/(\d+) failed/.exec(r.out) ?? [])[1] ?? 0);
      const ok = r.code === 0 && passing > 0 && failing === 0;
      const result = ok ? 'ok' : `FAIL (${failing} failed)`;
      return { ok, samples: `${passing} runs`, steps: '-', result };
    },
  };
}

function invariantJob({ step, seed, samples, maxSteps, servers = 3 }) {
  return {
    name: `invariants ${servers} servers ${step} depth ${maxSteps} seed=${seed}`,
    args: [...simArgs(step, seed, samples, maxSteps, servers), '--invariants', ...INVARIANTS,
      '--witnesses', ...COVERAGE],
    judge: (r) => {
      const ok = r.code === 0 && r.out.includes('[ok] No violation found');
      const stats = /average=([\d.]+)/.exec(r.out);
      const avg = stats ? Number(stats[1]) - 1 : maxSteps;
      const broken = [...r.out.matchAll(/❌ (\w+)/g)].map((m) => m[1]);
      return {
        ok,
        samples: ok ? samples : `~${tracesExplored(r.out, samples)}`,
        steps: ok ? Math.round(samples * avg) : '-',
        result: ok ? 'ok'
          : `FAIL ${broken.length ? `violated: ${broken.join(' ')}` : `exit ${r.code}`}`,
        note: ok ? `reached: ${coverage(r.out)}` : undefined,
      };
    },
  };
}

function witnessJob(witness, { step, seedBase, maxSteps }, index, samples) {
  const seed = `0x${((seedBase << 56n) + (BigInt(index) << 48n)).toString(16)}`;
  const depth = WITNESS_DEPTH[witness] ?? maxSteps;
  return {
    name: `${witness} ${step} depth ${depth} seed=${seed}`,
    args: [...simArgs(step, seed, samples, depth), `--invariant=${witness}`],
    judge: (r) => {
      // Reached means quint found a state violating the witness, not that it crashed.
      const ok = r.code === 1 && r.out.includes('[violation] Found an issue');
      return {
        ok,
        samples: ok ? `~${tracesExplored(r.out, samples)}` : samples,
        steps: '-',
        result: ok ? 'reached' : `FAIL (not reached, exit ${r.code})`,
      };
    },
  };
}

function allJobs(budget) {
  // CI skips the typecheck runs: every run and test below typechecks the same files first, and
  // fails with the same message (a separate typecheck of each file cost CI ~15 s).
  const jobs = budget.typecheck ? specFiles().map(typecheckJob) : [];
  // Longest first, so that the two workers finish together.
  jobs.push(...budget.invariants.map(invariantJob));
  jobs.push(testJob());
  for (const w of WITNESS_STEPS.filter((x) => budget.witnessSteps.includes(x.step))) {
    WITNESSES.forEach((name, i) => jobs.push(witnessJob(name, w, i, budget.witnessSamples)));
  }
  return jobs;
}

async function runPool(jobs, width) {
  const results = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const job = jobs[i];
      const r = await runQuint(job.args);
      const verdict = job.judge(r);
      const slug = job.name.replace(/[^\w.=-]+/g, '_');
      const log = join(logDir, `${String(i).padStart(2, '0')}-${slug}.log`);
      writeFileSync(log, `$ quint ${job.args.join(' ')}\n\n${r.out}`);
      results[i] = { job, r, verdict, log };
      const mark = verdict.ok ? '.' : 'x';
      process.stdout.write(`${mark} ${job.name} (${r.seconds.toFixed(1)} s)\n`);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

function printTable(results) {
  const rows = results.map(({ job, r, verdict }) =>
    [job.name, String(verdict.samples), String(verdict.steps), r.seconds.toFixed(1),
      verdict.result]);
  const head = ['check', 'samples', 'steps', 'seconds', 'result'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells) => cells.map((x, c) => x.padEnd(widths[c])).join('  ').trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w)))];
  results.forEach(({ verdict }, i) => {
    out.push(line(rows[i]));
    if (verdict.note) out.push(`    ${verdict.note}`);
  });
  process.stdout.write(`\n${out.join('\n')}\n`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const mode = opts.ci ? 'ci' : 'full';
  const budget = BUDGETS[mode];
  mkdirSync(logDir, { recursive: true });
  const jobs = allJobs(budget);
  const seeds = [TEST_SEED, ...budget.invariants.map((b) => b.seed)];
  process.stdout.write(`spec-check (${mode}): ${jobs.length} checks on ${opts.jobs} workers\n`);
  process.stdout.write(`invariants: ${INVARIANTS.join(' ')}\n`);
  process.stdout.write(`seeds: test ${seeds[0]}, simulation ${seeds.slice(1).join(' ')}, `
    + `witnesses ${WITNESS_STEPS.filter((w) => budget.witnessSteps.includes(w.step))
      .map((w) => `${w.step} 0x${w.seedBase.toString(16)}<<56 + i<<48`).join(', ')}\n\n`);
  const started = process.hrtime.bigint();
  const results = await runPool(jobs, opts.jobs);
  printTable(results);
  const total = Number(process.hrtime.bigint() - started) / 1e9;
  const failed = results.filter((x) => !x.verdict.ok);
  process.stdout.write(`\n${results.length - failed.length}/${results.length} as expected in `
    + `${total.toFixed(1)} s (logs in ${logDir})\n`);
  for (const f of failed) {
    process.stdout.write(`\nFAILED ${f.job.name}: see ${f.log}\n  reproduce: npx quint `
      + `${f.job.args.join(' ')}\n`);
  }
  process.exit(failed.length === 0 ? 0 : 1);
}

main().catch((e) => {
  process.stderr.write(`spec-check: ${e?.stack ?? e}\n`);
  process.exit(2);
});
