/**
 * The README's commands, run as a user types them (through npm, with CI=true) and checked against
 * what the README says they do; and a guard that every `npm run` / `npx raftkv` line in the
 * README's sh blocks is run here, or is named by a test elsewhere that checks it in another form.
 * Every command is bounded: one still running at its deadline is killed, with the processes npm
 * started for it, by the id of the process group it leads.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUGS } from '../../src/mutants/catalog.js';
import { MAX_KEY_LENGTH, MAX_VALUE_LENGTH } from '../../src/wire/messages.js';
import { requireBuiltDist } from '../support/dist.js';

const THIS_FILE = 'test/tools/readme.test.ts';

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  readonly timedOut: boolean;
}

/** Process groups (led by the npm we started) that have not exited yet. */
const running = new Set<number>();

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch { /* the group has already gone */ }
}

afterAll(() => { for (const pid of running) killGroup(pid); });

/** Runs a README line (no quoting in any of them) as a shell would split it. */
function runAsTyped(command: string, timeoutMs: number): Promise<Ran> {
  const [file, ...args] = command.split(/\s+/);
  return new Promise((done, fail) => {
    const t0 = performance.now();
    // detached: the child leads a process group of its own, so that a deadline ends the script
    // that npm runs under sh as well, not npm alone.
    const child = spawn(file as string, args, { env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); fail(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (pid !== undefined) running.delete(pid);
      const ms = Math.round(performance.now() - t0);
      console.log(`[readme] ${command}: exit ${code}${timedOut ? ', killed' : ''} in ${ms} ms`);
      done({ code, stdout, stderr, ms, timedOut });
    });
  });
}

/** What a run printed, for an assertion's message. */
const shown = (r: Ran): string => `stdout:\n${r.stdout.slice(-3000)}\nstderr:\n${r.stderr}`;

/** The lines a command itself wrote to stderr, without npm's own `npm error ...` lines. */
const ownLines = (stderr: string): string[] =>
  stderr.split('\n').filter((l) => l !== '' && !l.startsWith('npm '));

// The README lines run here, verbatim; the guard below checks that each is still in the README.
const EXPLORE_FIGURE_8 = 'npm run explore -- --bug commitEarlierTermByCount';
const SIMULATE_MIX = 'npm run detsim -- --mix --seed 42';
const SIMULATE_FILE = 'npm run detsim -- src/fault/scenarios/default.json --trace run.trace';
const SIMULATE_BUG = 'npm run detsim -- --mix --seed 2 --bug persistAfterSend';
const BENCH_SIM = 'npm run bench:sim';
const RUN_HERE = [EXPLORE_FIGURE_8, SIMULATE_MIX, SIMULATE_FILE, SIMULATE_BUG, BENCH_SIM];

describe('[README] npm run explore', () => {
  it('`--bug commitEarlierTermByCount` shows the Figure 8 bug caught, with the seed and a ' +
    'replay command that reproduces it [§5.4.2]', async () => {
    const r = await runAsTyped(EXPLORE_FIGURE_8, 120_000);
    expect(r.timedOut, shown(r)).toBe(false);
    expect(r.code, shown(r)).toBe(0); // with --bug, finding it is success
    // The checker the bug catalog names for this bug (test/mutants/catalog.test.ts).
    const caught = /^VIOLATION leaderCommit at seed (\d+), step \d+: .+$/m.exec(r.stdout);
    expect(caught, shown(r)).not.toBeNull();
    const seed = caught?.[1] ?? '';
    const replay = /^replay: (.+)$/m.exec(r.stdout)?.[1];
    expect(replay).toBe(`npm run explore -- --profile steered --seed ${seed} --seeds 1 ` +
      '--bug commitEarlierTermByCount');

    const again = await runAsTyped(replay ?? '', 60_000);
    expect(again.code, shown(again)).toBe(0);
    expect(again.stdout).toContain(caught?.[0]);
    // The same seed with the rule intact: the violation is the bug's.
    const intact = await runAsTyped((replay ?? '').replace(/ --bug \S+$/, ''), 60_000);
    expect(intact.code, shown(intact)).toBe(0);
    expect(intact.stdout).toMatch(/^1 seeds, 2000 events, no violation/m);
  }, 300_000);

  it('refuses an unknown bug name at once (exit 2), naming it and listing the known ones',
    async () => {
      const r = await runAsTyped('npm run explore -- --bug nonsense', 30_000);
      expect(r.code, shown(r)).toBe(2);
      expect(ownLines(r.stderr)).toEqual([`unknown bug "nonsense"; known: ${BUGS.join(', ')}`]);
      expect(r.stdout).not.toContain('raftkv explorer'); // no seed ran
      // npm and tsx start in about a second here; 200 seeds of the explorer take over ten.
      expect(r.ms).toBeLessThan(15_000);
    }, 60_000);
});

describe('[README] npm run detsim', () => {
  it('`--mix --seed 42` runs one seed of the CI/soak mix and prints its report', async () => {
    requireBuiltDist();
    const r = await runAsTyped(SIMULATE_MIX, 60_000);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toMatch(/^raftkv detsim: .+ seed 42$/m);
    expect(r.stdout).toMatch(/^history check +passed/m);
    expect(r.stdout).toMatch(/^simulation verdict: PASS/m);
  }, 90_000);

  it('a scenario file with `--trace run.trace` passes and writes every step', async () => {
    requireBuiltDist();
    // The README line writes run.trace in the checkout: keep whatever was there before.
    const before = existsSync('run.trace') ? readFileSync('run.trace') : undefined;
    try {
      const r = await runAsTyped(SIMULATE_FILE, 60_000);
      expect(r.code, shown(r)).toBe(0);
      expect(r.stdout).toMatch(/^simulation verdict: PASS/m);
      const lines = Number(/^trace: run\.trace \((\d+) lines\)$/m.exec(r.stdout)?.[1]);
      const [scenario, ...steps] = readFileSync('run.trace', 'utf8').trim().split('\n');
      expect((JSON.parse(scenario as string) as { name: string }).name).toBe('default');
      expect(steps.length).toBe(lines);
      expect(lines).toBeGreaterThan(1000);
    } finally {
      if (before === undefined) rmSync('run.trace', { force: true });
      else writeFileSync('run.trace', before);
    }
  }, 90_000);

  it('`--mix --seed 2 --bug persistAfterSend` is a broken core, caught: FAIL naming the ' +
    'checker, exit 1, and its replay command', async () => {
    requireBuiltDist();
    const r = await runAsTyped(SIMULATE_BUG, 60_000);
    expect(r.code, shown(r)).toBe(1);
    // The checker the bug catalog names for this bug (test/mutants/catalog.test.ts). The same seed
    // without the bug passes (test/detsim/seeds.test.ts).
    expect(r.stdout, shown(r))
      .toMatch(/^simulation verdict: FAIL \(seed 2\)\n {2}committedDurable violated at step \d+/m);
    expect(r.stdout).toMatch(
      /^replay: node dist\/cli\.js detsim --mix --seed 2 --bug persistAfterSend$/m);
  }, 90_000);
});

describe('[README] npm run bench:sim', () => {
  it('prints simulated seconds per wall second at three loads', async () => {
    const r = await runAsTyped(BENCH_SIM, 240_000);
    expect(r.timedOut, shown(r)).toBe(false);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toMatch(/^raftkv bench:sim on .+, 10 seeds per load/m);
    expect(r.stdout.match(/^.+ +\d+ simulated s per wall s, \d+ replica steps\/s/gm)?.length)
      .toBe(3);
  }, 300_000);
});

/**
 * README lines not run here, each with the test that checks what it does in another form; the
 * form is said, so that nobody takes it for a run as typed. The guard checks that the file still
 * holds the evidence. Run as typed, the cluster lines would take fixed ports (7100...) and
 * /tmp/kv from whatever else runs; the soak would take 13 minutes, and `npm run soak` rebuilds
 * dist/, which no test may do while others run it (test/support/dist.ts).
 */
const TESTED_ELSEWHERE: Record<string, { file: string; evidence: string; form: string }> = {
  'npx raftkv cluster up --replicas 5 --data-dir /tmp/kv': { file: 'test/cluster/cluster.test.ts',
    evidence: "['cluster', 'up', '--replicas', '3'", form: '3 replicas, free ports, a temp dir' },
  'npx raftkv put colour blue --data-dir /tmp/kv': { file: 'test/cluster/cluster.test.ts',
    evidence: "['put', 'k', 'v']", form: 'put k v, then get k prints v' },
  'npx raftkv put motd --value-file motd.txt --data-dir /tmp/kv': {
    file: 'test/cluster/cluster.test.ts', evidence: "['put', 'from-file', '--value-file', file]",
    form: 'a file\'s value read back byte for byte; `-` with standard input too' },
  'npx raftkv get colour --data-dir /tmp/kv': { file: 'test/cluster/cluster.test.ts',
    evidence: "['get', 'k']", form: 'get k after put k v' },
  'npx raftkv del colour --data-dir /tmp/kv': { file: 'test/cluster/cluster.test.ts',
    evidence: "run('del', 'c')", form: 'del c prints 1, then get c prints nothing and exits 3' },
  'npx raftkv put lock alice --if-absent --data-dir /tmp/kv': {
    file: 'test/cluster/cluster.test.ts', evidence: "run('put', 'c', 'two', '--if-absent')",
    form: 'a second put --if-absent prints the holder and exits 3' },
  'npx raftkv cas lock alice bob --data-dir /tmp/kv': { file: 'test/cluster/cluster.test.ts',
    evidence: "run('cas', 'c', 'one', 'two')", form: 'a cas from the value held swaps, exit 0' },
  'npx raftkv ls --data-dir /tmp/kv': { file: 'test/cluster/cluster.test.ts',
    evidence: "run(['ls'], 8000)", form: 'every key, in order, after the keys earlier tests wrote' },
  'npx raftkv ls user/ --limit 100 --data-dir /tmp/kv': { file: 'test/cluster/cluster.test.ts',
    evidence: "['ls', 'user/', '--limit', '2']", form: 'with --limit 2 of three: two keys, and ' +
      'standard error says where to go on' },
  'npx raftkv cluster kill leader --data-dir /tmp/kv': { file: 'test/cluster/cluster.test.ts',
    evidence: "['cluster', 'kill', 'leader']", form: 'the leader SIGKILLed, get still answers' },
  'npx raftkv cluster status --data-dir /tmp/kv': { file: 'test/cluster/cluster.test.ts',
    evidence: "['cluster', 'status']", form: 'a role, term and pid per replica' },
  'npx raftkv cluster up --data-dir /tmp/kv': { file: 'test/cluster/cluster.test.ts',
    evidence: "['cluster', 'up']", form: 'restarts only the killed replica' },
  'npx raftkv cluster down --data-dir /tmp/kv': { file: 'test/cluster/cluster.test.ts',
    evidence: "['cluster', 'down']", form: 'every replica of the directory ends' },
  'npm run fuzz -- --datagrams 1000000': { file: 'test/fuzz/fuzz.test.ts',
    evidence: "'test/fuzz/main.ts'", form: '20,000 datagrams per target, without the build step' },
  'npm run check:exhaustive -- --bound ci': { file: 'test/exhaustive/cli.test.ts',
    evidence: "['--bound', 'ci', '--json', json]", form: 'the compiled entry, the same bound' },
  'npm run check:exhaustive -- --bound ci --bug voteWithoutUpToDateCheck': {
    file: 'test/exhaustive/cli.test.ts',
    evidence: "['--bound', 'ci', '--bug', 'voteWithoutUpToDateCheck']",
    form: 'the compiled entry, then its replay command' },
  'npm run check:exhaustive -- --bound deep --bug commitEarlierTermByCount --spec off': {
    file: 'test/exhaustive/cli.test.ts',
    evidence: "['--bound', 'deep', '--bug', 'commitEarlierTermByCount', '--spec', 'off']",
    form: 'the compiled entry, the same bound and bug' },
  'npm run check:exhaustive -- --max-seconds 600': { file: 'test/exhaustive/cli.test.ts',
    evidence: "['--max-seconds', '5', ...extra]",
    form: 'the default bound for 5 s: stopped by the limit' },
  'npm run mutate': { file: 'test/mutate/mutate.test.ts',
    evidence: "['run', 'mutate', '--', '--mutate', LINE", form: 'one line of election.ts, one runner' },
  'npm run reach -- --seeds 8000 --write test/mutate/reach.json': {
    file: 'test/detsim/reach.test.ts',
    evidence: "['run', 'reach', '--', '--seeds', '2100', '--per', '1']",
    form: '2,100 seeds, one per path, printed rather than written over the corpus' },
  'npm run soak -- --seeds 100000': { file: 'test/detsim/seeds.test.ts',
    evidence: "'dist/tools/soak.js', '--seeds', String(CI_SEEDS)", form: '2,000 seeds' },
};

/** Every `npm run ...` / `npx raftkv ...` command in the README's sh blocks, comments cut. */
function readmeCommands(): string[] {
  const blocks = [...readFileSync('README.md', 'utf8').matchAll(/^```sh\n([\s\S]*?)^```$/gm)];
  return blocks.flatMap((b) => (b[1] ?? '').split('\n'))
    .map((line) => line.replace(/\s+#.*$/, ''))
    .flatMap((line) => line.split('&&'))
    .map((c) => c.trim().replace(/\s+/g, ' '))
    .filter((c) => c.startsWith('npm run ') || c.startsWith('npx raftkv '));
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return testFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

describe('[README] every command in an sh block is checked by a test', () => {
  const commands = readmeCommands();

  it('finds the README commands (the parser works)', () => {
    expect(commands).toContain(EXPLORE_FIGURE_8);
    expect(commands).toContain(SIMULATE_BUG);
    expect(commands.length).toBeGreaterThanOrEqual(12);
  });

  it('each is run here as typed, named verbatim by another test, or listed with its test', () => {
    const elsewhere = testFiles('test').filter((f) => f !== THIS_FILE)
      .map((f) => readFileSync(f, 'utf8'));
    const unchecked = commands.filter((c) => !RUN_HERE.includes(c)
      && !elsewhere.some((text) => text.includes(c))
      && TESTED_ELSEWHERE[c] === undefined);
    expect(unchecked, 'README commands that no test checks: run them in ' +
      `${THIS_FILE}, or name the test that does`).toEqual([]);
  });

  it('the commands run here and the lists above are all still in the README', () => {
    const listed = [...RUN_HERE, ...Object.keys(TESTED_ELSEWHERE)];
    expect(listed.filter((c) => !commands.includes(c))).toEqual([]);
  });

  it('each test named for a README command still holds its evidence', () => {
    for (const [command, { file, evidence }] of Object.entries(TESTED_ELSEWHERE)) {
      expect(readFileSync(file, 'utf8'), `${command}: ${file}`).toContain(evidence);
    }
  });
});

describe('[README] stands alone, and its counts are the code\'s', () => {
  const readme = readFileSync('README.md', 'utf8');
  const docs = readdirSync('docs').filter((f) => f.endsWith('.md'))
    .map((f) => [join('docs', f), readFileSync(join('docs', f), 'utf8')] as const);

  it('links nowhere outside the repository; the protocol page is in docs/; a LICENSE as ' +
    'package.json names', () => {
    for (const [file, text] of [['README.md', readme] as const, ...docs]) {
      // a markdown link or a path in backquotes that climbs out of the repository
      expect(text.match(/\]\(\.\.\/|`\.\.\/[^`]*`/g) ?? [], file).toEqual([]);
      for (const m of text.matchAll(/\]\(((?!https?:|#)[^)\s#]+)/g)) {
        const target = m[1] as string;
        const base = file === 'README.md' ? '.' : 'docs';
        expect(existsSync(join(base, target)), `${file} links ${target}`).toBe(true);
      }
    }
    expect(readme).toContain('(docs/protocol.md)');
    expect(readFileSync('docs/protocol.md', 'utf8'))
      .toMatch(/^# The replica wire protocol \(simulator-routed mode\)/);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { license: string };
    expect(readFileSync('LICENSE', 'utf8')).toMatch(new RegExp(`^${pkg.license} License\\n`));
  });

  it('the counts and limits it states are those of the code', () => {
    const counts = [...readme.matchAll(/(?:catalog has|each of the) (\d+) mutants/g)]
      .map((m) => Number(m[1]));
    expect(counts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(counts)).toEqual(new Set([BUGS.length]));
    const limits = /Keys are at most ([\d,]+) characters and values ([\d,]+)/.exec(readme);
    expect(limits?.slice(1).map((n) => Number(n.replace(/,/g, ''))))
      .toEqual([MAX_KEY_LENGTH, MAX_VALUE_LENGTH]);
  });
});
