/**
 * raftkv as a library, imported the way a user would: `npm pack`, the tarball installed into a
 * fresh project (offline where npm's cache has the dependencies), then a script there that does
 * `import { KvClient } from 'raftkv'` against a real three-replica cluster, and the TypeScript
 * compiler checking a user's file against the package's own declarations. The processes are
 * ended by PID (`LocalCluster.end`); every command is bounded.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLayout } from '../../src/cluster/cluster.js';
import { MAX_KEY_LENGTH } from '../../src/wire/messages.js';
import { LocalCluster } from '../support/processes.js';

interface Ran { readonly code: number; readonly stdout: string; readonly stderr: string }

function run(file: string, args: readonly string[], cwd: string, timeoutMs: number):
  Promise<Ran> {
  return new Promise((done) => {
    execFile(file, args, { cwd, timeout: timeoutMs, encoding: 'utf8',
      env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } },
    (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      done({ code, stdout, stderr });
    });
  });
}

const TSC = resolve('node_modules/typescript/bin/tsc');
let project = '';
let cluster: LocalCluster;

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'raftkv-user-'));
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination',
    project], process.cwd(), 60_000);
  expect(packed.code, packed.stderr).toBe(0);
  const tarball = join(project, (JSON.parse(packed.stdout) as { filename: string }[])[0]
    ?.filename ?? '');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user', private: true,
    type: 'module' }));
  const installed = await run('npm', ['install', '--prefer-offline', '--ignore-scripts',
    '--no-package-lock', tarball], project, 120_000);
  expect(installed.code, installed.stderr).toBe(0);
  cluster = LocalCluster.create('raftkv-library-');
  // one session kept: a second client's first write expires the first client's session
  const up = await cluster.up(3, 20_000, ['--max-sessions', '1']);
  expect(up.code, up.stderr).toBe(0);
}, 200_000);

afterAll(async () => {
  await cluster?.end();
  rmSync(project, { recursive: true, force: true });
}, 20_000);

describe('[library] import { KvClient } from \'raftkv\', from the packed package', () => {
  it('a user\'s script reads, writes, deletes and compares-and-swaps; a missing key is a result, ' +
    'and the errors are typed, an expired session too', async () => {
    const addresses = readLayout(cluster.dir)?.members.map((m) =>
      `${m.address.host}:${m.address.port}`) ?? [];
    writeFileSync(join(project, 'use.mjs'), `
import { KvClient, parseAddress, TooLargeError, TimeoutError, NoLeaderError, MAX_KEY_LENGTH,
  SessionExpiredError } from 'raftkv';
const client = await KvClient.open({ cluster: ${JSON.stringify(addresses)} });
const out = [];
await client.put('colour', 'blue');
out.push(await client.get('colour'));
out.push(await client.get('nothing'));
out.push(await client.del('colour'));
out.push(await client.cas('lock', null, 'alice'));
out.push(await client.cas('lock', null, 'bob'));
for (const k of ['user/b', 'user/a', 'user/c', 'users']) await client.put(k, k.toUpperCase());
const page = await client.list('user/', { limit: 2 });
out.push(page, await client.list('user/', { after: page.next }));
const all = [];
for await (const { key } of client.listAll('user', { pageSize: 1 })) all.push(key);
out.push(all);
try { await client.get('k'.repeat(MAX_KEY_LENGTH + 1)); } catch (e) {
  out.push([e instanceof TooLargeError, e.message]);
}
const other = await KvClient.open({ cluster: ${JSON.stringify(addresses)} });
await other.put('other', 'x');
other.close();
try { await client.put('colour', 'green'); } catch (e) {
  out.push([e instanceof SessionExpiredError, e.name]);
}
await client.put('colour', 'red');
out.push(await client.get('colour'));
client.close();
const nobody = await KvClient.open({ cluster: [parseAddress('127.0.0.1:9')], timeoutMs: 300 });
try { await KvClient.open({ cluster: ['nowhere'] }); } catch (e) { out.push(e.message); }
try { await nobody.get('k'); } catch (e) {
  out.push([e instanceof TimeoutError, e instanceof NoLeaderError, e.name]);
}
nobody.close();
console.log(JSON.stringify(out));
`);
    const r = await run(process.execPath, ['use.mjs'], project, 30_000);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { found: true, value: 'blue' },
      { found: false },
      { found: true, value: 'blue' },
      { swapped: true, previous: { found: false } },
      { swapped: false, previous: { found: true, value: 'alice' } },
      { pairs: [{ key: 'user/a', value: 'USER/A' }, { key: 'user/b', value: 'USER/B' }],
        next: 'user/b' },
      { pairs: [{ key: 'user/c', value: 'USER/C' }] },
      ['user/a', 'user/b', 'user/c', 'users'],
      [true, `a key of ${MAX_KEY_LENGTH + 1} characters: the limit is ${MAX_KEY_LENGTH}`],
      [true, 'SessionExpiredError'],
      { found: true, value: 'red' },
      'bad cluster address "nowhere": expected HOST:PORT with an IPv4 host or localhost',
      [true, false, 'TimeoutError'],
    ]);
  }, 60_000);

  it('ships type declarations: a user\'s TypeScript compiles against them, and a misuse does not',
    async () => {
      const tsconfig = { compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext',
        target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: [] } };
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig));
      writeFileSync(join(project, 'good.ts'), `
import { KvClient, type Found } from 'raftkv';
export async function read(c: KvClient, key: string): Promise<string | undefined> {
  const r: Found = await c.get(key);
  return r.found ? r.value : undefined;
}
`);
      const good = await run(process.execPath, [TSC, '-p', '.'], project, 60_000);
      expect(good.code, good.stdout).toBe(0);
      writeFileSync(join(project, 'bad.ts'), `
import { KvClient } from 'raftkv';
export async function read(c: KvClient): Promise<string> {
  return c.get('k'); // a Found, not a string
}
`);
      const bad = await run(process.execPath, [TSC, '-p', '.'], project, 60_000);
      expect(bad.code).not.toBe(0);
      expect(bad.stdout).toMatch(/bad\.ts.*error TS2322/);
    }, 120_000);
});
