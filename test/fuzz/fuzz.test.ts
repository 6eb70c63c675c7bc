/**
 * `npm run fuzz` in CI, in the same form with a smaller count: the process-level fuzzer against
 * real replica processes (direct mode with and without a secret, and simulator-routed), which
 * must end with PASS: no replica died, every datagram was read and accepted or counted, and the
 * cluster still answers. (Run through tsx without the script's build step: `npm test` has built
 * `dist/` already, and two builds at once would rewrite it under running replicas.)
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { requireBuiltDist } from '../support/dist.js';

const DATAGRAMS = 20_000;

function fuzz(args: readonly string[], timeoutMs: number): Promise<{ code: number | null;
  out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'test/fuzz/main.ts',
      ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (b: Buffer) => { out += b.toString('utf8'); });
    child.stderr?.on('data', (b: Buffer) => { out += b.toString('utf8'); });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      fail(new Error(`fuzz still running after ${timeoutMs} ms:\n${out.slice(-2000)}`));
    }, timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); done({ code, out }); });
  });
}

describe('[STYLE §9] npm run fuzz, a smaller count', () => {
  it(`${DATAGRAMS} hostile datagrams to each target: no crash, all accounted for`, async () => {
    requireBuiltDist();
    const r = await fuzz(['--datagrams', String(DATAGRAMS), '--corpus', '500', '--seed', '3'],
      150_000);
    console.log(r.out.split('\n').filter((l) => !/^\s+[\d,]+ datagrams sent$/.test(l)).join('\n'));
    expect(r.code, r.out.slice(-3000)).toBe(0);
    expect(r.out).toMatch(/^PASS: no crash, every datagram accounted for/m);
    for (const target of ['direct', 'direct-secret', 'routed']) {
      expect(r.out).toMatch(new RegExp(`^${target}: ${DATAGRAMS.toLocaleString('en')} datagrams`,
        'm'));
    }
    expect(r.out.match(/afterwards: put and get ok/g)?.length).toBe(3);
  }, 180_000);
});
