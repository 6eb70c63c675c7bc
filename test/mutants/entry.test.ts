/**
 * Where bugs may enter, and where they may not [issue 14: mutants outside the rules]. The bug
 * catalog's mutants are built by test and tool code only: the deployed replica (`raftkv replica`),
 * `raftkv cluster up` and the cluster layout refuse them, and no source in `src/core` names one.
 * The crash harness has its own replica entry point that takes them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUGS, machineWith, rulesWith } from '../../src/mutants/catalog.js';
import { raftMachine } from '../../src/core/raft.js';
import { raftRules } from '../../src/core/raftRules.js';
import { cli } from '../support/processes.js';

const tmp = mkdtempSync(join(tmpdir(), 'raftkv-mutants-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const REPLICA = ['--id', '0000', '--listen', '127.0.0.1:1', '--peer', '0001=127.0.0.1:2',
  '--data-dir', join(tmp, 'never')];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('[mutants] bugs enter only through test and tool builders', () => {
  it('no source in src/core names a catalog bug or a bug switch', () => {
    const names = [...BUGS, 'ackBeforeSync', 'hasBug', 'bugs'];
    const found = sources('src/core').flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return names.filter((n) => new RegExp(`\\b${n}\\b`).test(text)).map((n) => `${file}: ${n}`);
    });
    expect(found).toEqual([]);
  });

  it('the check is live: a catalog name in a core-like text is found', () => {
    expect(new RegExp(`\\b${BUGS[0]}\\b`).test(`if (config.${BUGS[0]}) {}`)).toBe(true);
  });

  it('without bugs the builders return the replica\'s own rules and machine', () => {
    expect(rulesWith([])).toBe(raftRules);
    // built afresh from those rules (so that a mutation run's mutant takes effect): the same
    // definition, guards and actions
    const fresh = machineWith([]);
    expect(fresh).not.toBe(raftMachine);
    expect(JSON.stringify(fresh.definition)).toBe(JSON.stringify(raftMachine.definition));
    expect(Object.keys(fresh.implementations.guards).sort())
      .toEqual(Object.keys(raftMachine.implementations.guards).sort());
    for (const bug of BUGS) expect(rulesWith([bug])).not.toEqual(raftRules);
  });

  it('`raftkv replica` refuses --bug (exit 2), before it binds or touches a disk', async () => {
    const r = await cli(['replica', ...REPLICA, '--bug', 'answerTwice'], 10_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--bug'");
    expect(() => statSync(join(tmp, 'never'))).toThrow();
  }, 15_000);

  it('`raftkv cluster up` refuses --bug (exit 2) and writes no layout', async () => {
    const dir = join(tmp, 'up');
    const r = await cli(['cluster', 'up', '--data-dir', dir, '--bug', 'answerTwice'], 10_000);
    expect(r.code).toBe(2);
    expect(() => statSync(join(dir, 'cluster.json'))).toThrow();
  }, 15_000);

  it('a cluster.json that asks for bugs is refused (exit 1), naming the file', async () => {
    const dir = join(tmp, 'layout');
    rmSync(dir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    const layout = { members: [{ id: '0000', address: { host: '127.0.0.1', port: 1 },
      dataDir: join(dir, '0000') }], secretFile: undefined, bugs: ['answerTwice'] };
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify(layout));
    const r = await cli(['cluster', 'up', '--data-dir', dir], 10_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(dir, 'cluster.json'));
    expect(r.stderr).toContain('refuses --bug');
  }, 15_000);

  it('the crash harness\'s own entry takes --bug, and refuses an unknown one (exit 2)', () => {
    const entry = resolve('dist/crash/replica.js');
    const bad = spawnSync(process.execPath, [entry, '--bug', 'nonsense', ...REPLICA],
      { encoding: 'utf8', timeout: 10_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown --bug nonsense; known: ');
    // a known bug passes through to the replica's own parsing: here a bad --listen stops it
    const known = spawnSync(process.execPath, [entry, '--bug', 'answerTwice', '--bug',
      'ackBeforeSync', ...REPLICA.slice(0, 2), '--listen', 'nowhere', ...REPLICA.slice(4)],
    { encoding: 'utf8', timeout: 10_000 });
    expect(known.status).toBe(2);
    expect(known.stderr).toContain('bad or missing --listen');
  });
});
