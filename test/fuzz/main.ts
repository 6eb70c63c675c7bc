/**
 * `npm run fuzz`: a process-level fuzzer. It starts real replica processes on loopback and sends
 * them at least a million hostile datagrams (`support/hostile.ts`, then cheap byte mutations of
 * them), paced so the kernel keeps up, to three targets:
 *   direct         a 3-replica direct-mode cluster, datagrams to every member
 *   direct-secret  the same with a shared secret
 *   routed         3 simulator-routed replicas behind this process, which routes their datagrams
 *                  as the network simulator does and fuzzes replica 0001
 * Then it checks: no replica process ended; every datagram it sent was read and either accepted
 * or counted as a drop (received = sent + peer traffic, less the kernel's receive errors); and
 * the cluster still commits a put and reads it back. It prints the rate and the counts by kind.
 *   npm run fuzz [-- --datagrams N] [--targets direct,direct-secret,routed] [--cli dist/cli.js]
 *                [--seed S] [--json FILE]
 * `--cli` runs another build (an old `dist/cli.js`): the fuzzer stops at the first replica that
 * dies and prints how many datagrams it took. Never part of `npm test`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { hostileArb, type Hostile } from '../support/hostile.js';
import { freeBase, sleep } from '../support/processes.js';
import { queryStatus } from '../../src/client/status.js';
import { KvClient } from '../../src/client/client.js';
import { decodeDatagram } from '../../src/wire/codec.js';
import { Rng } from '../../src/fault/rng.js';
import { PEER_TYPES } from '../../src/replica/loop.js';
import type { Address } from '../../src/replica/address.js';
import type { StatusReply } from '../../src/wire/admin.js';


interface Options {
  readonly datagrams: number;
  readonly targets: readonly string[];
  readonly cli: string;
  readonly seed: number;
  readonly corpus: number;
  readonly json: string | undefined;
}

function options(): Options {
  const { values } = parseArgs({ options: {
    datagrams: { type: 'string', default: '1000000' },
    targets: { type: 'string', default: 'direct,direct-secret,routed' },
    cli: { type: 'string', default: 'dist/cli.js' },
    seed: { type: 'string', default: '1' },
    corpus: { type: 'string', default: '4000' },
    json: { type: 'string' },
  } });
  const int = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new Error(`--${name}: expected a positive integer, got ${text}`);
    }
    return n;
  };
  const targets = values.targets.split(',');
  for (const t of targets) {
    if (!['direct', 'direct-secret', 'routed'].includes(t)) {
      throw new Error(`--targets: unknown target ${t}`);
    }
  }
  return { datagrams: int('datagrams', values.datagrams), targets, cli: resolve(values.cli),
    seed: int('seed', values.seed), corpus: int('corpus', values.corpus), json: values.json };
}

/** The kernel's count of UDP datagrams dropped for a full receive buffer, machine-wide. */
function kernelRcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const [names, values] = lines.map((l) => l.split(/\s+/));
  const k = names?.indexOf('RcvbufErrors') ?? -1;
  return k < 0 ? 0 : Number(values?.[k] ?? 0);
}

/** Corpus entry k, mutated by the PRNG: a few bytes flipped, or cut short, or left whole. */
class Mutator {
  private readonly rng: Rng;
  constructor(seed: number) { this.rng = new Rng(seed); }
  private next(n: number): number { return this.rng.int(n); }
  mutate(h: Hostile): Buffer {
    const choice = this.next(4);
    if (choice === 0 || h.bytes.length === 0) return h.bytes;
    if (choice === 1) return h.bytes.subarray(0, this.next(h.bytes.length));
    const b = Buffer.from(h.bytes);
    for (let k = 0; k <= this.next(3); k++) b[this.next(b.length)] = this.next(256);
    return b;
  }
}

/**
 * Pacing without a status request (the simulator-routed protocol has none): whenever the kernel's
 * receive-buffer drops grew since the last look, wait twice as long; otherwise a little less.
 * The kernel's counter is machine-wide, so other traffic can slow the fuzzer, never speed it up.
 */
class Backoff {
  private errors = kernelRcvbufErrors();
  private delayMs = 8;
  async pace(): Promise<void> {
    const now = kernelRcvbufErrors();
    // AIMD, as TCP: back off at once, speed up slowly
    this.delayMs = now > this.errors ? Math.min(200, this.delayMs * 2)
      : Math.max(1, this.delayMs - 0.05);
    this.errors = now;
    await sleep(this.delayMs);
  }
}

interface Process {
  readonly id: string;
  readonly child: ChildProcess;
  stderr: string;
  exit?: string;
}

function start(cli: string, args: readonly string[], id: string): Process {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const p: Process = { id, child, stderr: '' };
  child.stderr?.on('data', (b: Buffer) => {
    p.stderr = (p.stderr + b.toString('utf8')).slice(-20_000);
  });
  child.on('exit', (code, signal) => { p.exit = `code ${code ?? '-'} signal ${signal ?? '-'}`; });
  return p;
}

async function stop(ps: readonly Process[]): Promise<void> {
  const running = (p: Process): boolean => p.exit === undefined && p.child.pid !== undefined;
  for (const p of ps) if (running(p)) p.child.kill('SIGTERM');
  for (let wait = 0; wait < 60 && ps.some((p) => p.exit === undefined); wait++) await sleep(50);
  for (const p of ps) if (running(p)) p.child.kill('SIGKILL');
}

interface Result {
  target: string;
  sent: number;
  seconds: number;
  perSecond: number;
  byShape: Record<string, number>;
  crashed?: string;
  received?: number;
  accountedFor?: number;
  dropped?: Record<string, number>;
  kernelDrops: number;
  answersAfter?: string;
}

/** Sends the corpus, mutated, to `send` until `total` datagrams; stops early if one died. */
async function pump(corpus: readonly Hostile[], total: number, seed: number, every: number,
  admit: (bytes: Buffer) => boolean,
  send: (b: Buffer) => void, died: () => string | undefined,
  catchUp: (sent: number) => Promise<void>):
  Promise<{ sent: number; byShape: Record<string, number>; crashed?: string }> {
  const mutator = new Mutator(seed);
  const byShape: Record<string, number> = {};
  let sent = 0;
  let skipped = 0;
  let drawn = 0;
  let caughtUp = 0;
  let lastProgress = Date.now();
  while (sent < total) {
    for (let k = 0; k < 100 && sent < total; k++) {
      if (skipped > total) return { sent, byShape, crashed: 'the corpus yields nothing to send' };
      const h = corpus[drawn++ % corpus.length] as Hostile;
      const bytes = mutator.mutate(h);
      if (!admit(bytes)) { skipped++; continue; }
      byShape[h.shape] = (byShape[h.shape] ?? 0) + 1;
      send(bytes);
      sent++;
    }
    await new Promise((r) => setImmediate(r));
    const dead = died();
    if (dead !== undefined) return { sent, byShape, crashed: dead };
    if (sent - caughtUp >= every) {
      caughtUp = sent;
      await catchUp(sent);
    }
    if (Date.now() - lastProgress > 5000) {
      lastProgress = Date.now();
      process.stderr.write(`  ${sent.toLocaleString('en')} datagrams sent\n`);
    }
  }
  return { sent, byShape };
}

async function directTarget(o: Options, corpus: readonly Hostile[], secret: string | undefined):
  Promise<Result> {
  const target = secret === undefined ? 'direct' : 'direct-secret';
  const dir = mkdtempSync(join(tmpdir(), 'raftkv-fuzz-'));
  const base = await freeBase(3);
  const ids = ['0000', '0001', '0002'];
  const addresses: Address[] = ids.map((_, k) => ({ host: '127.0.0.1', port: base + k }));
  let secretArgs: string[] = [];
  if (secret !== undefined) {
    writeFileSync(join(dir, 'secret'), secret);
    secretArgs = ['--secret-file', join(dir, 'secret')];
  }
  const replicas = ids.map((id, k) => start(o.cli, ['replica', '--id', id, '--listen',
    `127.0.0.1:${base + k}`,
    ...ids.flatMap((p, j) => (j === k ? [] : ['--peer', `${p}=127.0.0.1:${base + j}`])),
    '--data-dir', join(dir, id), ...secretArgs], id));
  const socket = createSocket({ type: 'udp4', sendBufferSize: 8 << 20 });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const status = (): Promise<(StatusReply | undefined)[]> => queryStatus(addresses, 1000, secret);
  try {
    await sleep(2500); // an election: the first timeout is a second or more
    const before = await status();
    const kernelBefore = kernelRcvbufErrors();
    const t0 = performance.now();
    let next = 0;
    let queries = 0; // status requests after \`before\`: they are read and accepted too
    const pumped = await pump(corpus, o.datagrams, o.seed, 500, () => true, (b) => {
      const a = addresses[next++ % 3] as Address;
      socket.send(b, a.port, a.host);
    }, () => replicas.find((p) => p.exit !== undefined)?.exit, async (sent) => {
      // wait (bounded) until each replica has read what was sent to it: no kernel drops
      for (let wait = 0; wait < 100; wait++) {
        const now = await status();
        queries++;
        // another build whose status this codec cannot read: pace by time alone
        if (now.every((r) => r === undefined)) return sleep(20);
        const read = now.reduce((n, r, k) => n + (r === undefined ? 0
          : r.received - r.acceptedFromPeers - (before[k]?.received ?? 0)
            + (before[k]?.acceptedFromPeers ?? 0)), 0);
        if (read >= sent - 300) return;
        await sleep(20);
      }
    });
    const seconds = (performance.now() - t0) / 1000;
    const result: Result = { target, sent: pumped.sent, seconds, perSecond: pumped.sent / seconds,
      byShape: pumped.byShape, kernelDrops: kernelRcvbufErrors() - kernelBefore };
    if (pumped.crashed !== undefined) {
      const dead = replicas.find((p) => p.exit !== undefined) as Process;
      result.crashed = `replica ${dead.id} ended (${pumped.crashed}) after ${pumped.sent} ` +
        'datagrams: ' +
        (dead.stderr.split('\n').find((l) => /Error|error/.test(l)) ?? dead.stderr.slice(-300));
      return result;
    }
    await sleep(500);
    const after = await status();
    queries++;
    if (after.some((r) => r === undefined)) {
      result.crashed = 'a replica did not answer status after the fuzz';
      return result;
    }
    // every datagram from anyone but the peers: the fuzz, and this fuzzer's status requests
    let received = 0;
    const dropped: Record<string, number> = {};
    let accountedFor = 0;
    after.forEach((r, k) => {
      const b = before[k];
      if (r === undefined || b === undefined) return;
      received += (r.received - r.acceptedFromPeers) - (b.received - b.acceptedFromPeers);
      let drops = 0;
      for (const [kind, n] of Object.entries(r.dropped)) {
        const d = n - (b.dropped[kind] ?? 0);
        dropped[kind] = (dropped[kind] ?? 0) + d;
        drops += d;
      }
      accountedFor += (r.accepted - r.acceptedFromPeers) - (b.accepted - b.acceptedFromPeers)
        + drops;
    });
    Object.assign(result, { received: received - queries * 3,
      accountedFor: accountedFor - queries * 3,
      dropped });
    const client = await KvClient.open({ cluster: addresses, timeoutMs: 10_000 });
    try {
      await client.put('after-fuzz', target);
      const value = await client.get('after-fuzz');
      result.answersAfter = value.found && value.value === target ? 'put and get ok'
        : 'wrong value';
    } catch (e) {
      result.answersAfter = `no answer: ${(e as Error).message}`;
    } finally {
      client.close();
    }
    return result;
  } finally {
    socket.close();
    await stop(replicas);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The network simulator's routing, reduced: by `dst`, broadcast to all but the sender. */
async function routedTarget(o: Options, corpus: readonly Hostile[]): Promise<Result> {
  const router = createSocket({ type: 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
  await new Promise<void>((r) => router.bind(0, '127.0.0.1', r));
  const port = router.address().port;
  const ids = ['0001', '0002', '0003'];
  const where = new Map<string, RemoteInfo>();
  const forwarded = new Map<string, number>(ids.map((id) => [id, 0]));
  const answers: Record<string, unknown>[] = [];
  const to = (id: string, bytes: Buffer): void => {
    const a = where.get(id);
    if (a === undefined) return;
    forwarded.set(id, (forwarded.get(id) ?? 0) + 1);
    router.send(bytes, a.port, a.address);
  };
  router.on('message', (bytes, from) => {
    const m = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    const src = String(m['src']);
    const dst = String(m['dst']);
    if (m['type'] === 'hello') { where.set(src, from); return; }
    if (dst === 'FFFF') { for (const id of ids) if (id !== src) to(id, bytes); }
    else if (ids.includes(dst)) to(dst, bytes);
    else answers.push(m);
  });
  const replicas = ids.map((id) => start(o.cli, ['replica', String(port), id,
    ...ids.filter((x) => x !== id)], id));
  // The simulator is trusted to carry the peers' messages faithfully (anything that can send a
  // replica a valid peer message can, for one, push its term to 2^53 - 1 and stall the cluster):
  // fuzz every other kind of datagram, mutated ones included.
  const notPeer = (bytes: Buffer): boolean => {
    const d = decodeDatagram(bytes);
    return d._tag === 'Left' || !PEER_TYPES.has(d.right.type);
  };
  try {
    for (let wait = 0; wait < 100 && where.size < 3; wait++) await sleep(50);
    await sleep(2500);
    const kernelBefore = kernelRcvbufErrors();
    const backoff = new Backoff();
    const t0 = performance.now();
    let fuzzSent = 0;
    const pumped = await pump(corpus, o.datagrams, o.seed, 100, notPeer, (b) => {
      const a = where.get('0001');
      if (a !== undefined) { router.send(b, a.port, a.address); fuzzSent++; }
    }, () => replicas.find((p) => p.exit !== undefined)?.exit, () => backoff.pace());
    const seconds = (performance.now() - t0) / 1000;
    const result: Result = { target: 'routed', sent: pumped.sent, seconds,
      perSecond: pumped.sent / seconds, byShape: pumped.byShape, kernelDrops: 0 };
    if (pumped.crashed !== undefined) {
      const dead = replicas.find((p) => p.exit !== undefined) as Process;
      result.crashed = `replica ${dead.id} ended (${pumped.crashed}) after ${pumped.sent} ` +
        'datagrams';
      return result;
    }
    // a client of the routed cluster: try each replica until one answers ok
    type Answer = Record<string, unknown> | undefined;
    const ask = async (m: Record<string, unknown>): Promise<Answer> => {
      for (let attempt = 0; attempt < 30; attempt++) {
        const dst = ids[attempt % 3] as string;
        const mid = `${String(m['MID'])}.${attempt}`;
        to(dst, Buffer.from(JSON.stringify({ ...m, src: 'C001', dst, leader: 'FFFF', MID: mid })));
        for (let w = 0; w < 20; w++) {
          const a = answers.find((x) => x['MID'] === mid);
          if (a?.['type'] === 'ok') return a;
          if (a !== undefined) break;
          await sleep(25);
        }
      }
      return undefined;
    };
    const put = await ask({ type: 'put', MID: 'p', key: 'after-fuzz', value: 'routed' });
    const get = await ask({ type: 'get', MID: 'g', key: 'after-fuzz' });
    result.answersAfter = put !== undefined && get?.['value'] === 'routed' ? 'put and get ok'
      : `no answer (put ${put === undefined ? 'unanswered' : 'ok'}, get ${JSON.stringify(get)})`;
    if (result.answersAfter !== 'put and get ok') {
      for (const p of replicas) {
        const tail = p.stderr.split('\n').slice(-8).join('\n');
        process.stderr.write(`--- ${p.id} stderr (tail)\n${tail}\n`);
      }
      process.stderr.write(`answers: ${JSON.stringify(answers.slice(-10))}\n`);
    }
    await stop(replicas);
    result.kernelDrops = kernelRcvbufErrors() - kernelBefore;
    const line = /received (\d+) datagrams, accepted (\d+), dropped (\{.*\})/.exec(
      replicas[0]?.stderr ?? '');
    if (line !== null) {
      const dropped = JSON.parse(line[3] as string) as Record<string, number>;
      const drops = Object.values(dropped).reduce((a, b) => a + b, 0);
      // what 0001 read: the fuzz, the peers' messages routed to it, and the client's requests
      const peerAndClient = (forwarded.get('0001') ?? 0);
      Object.assign(result, { received: Number(line[1]) - peerAndClient,
        accountedFor: Number(line[2]) + drops - peerAndClient, dropped });
      result.sent = fuzzSent;
    }
    return result;
  } finally {
    router.close();
    await stop(replicas);
  }
}

async function main(): Promise<number> {
  const o = options();
  process.stderr.write(`fuzz: a corpus of ${o.corpus} hostile datagrams (seed ${o.seed})\n`);
  const corpus = fc.sample(hostileArb(), { numRuns: o.corpus, seed: o.seed });
  const results: Result[] = [];
  for (const target of o.targets) {
    process.stderr.write(`fuzz: ${target}, ${o.datagrams.toLocaleString('en')} datagrams\n`);
    const r = target === 'routed' ? await routedTarget(o, corpus)
      : await directTarget(o, corpus, target === 'direct' ? undefined : 'fuzz secret');
    results.push(r);
    console.log(`${r.target}: ${r.sent.toLocaleString('en')} datagrams in ` +
      `${r.seconds.toFixed(1)} s ` +
      `(${Math.round(r.perSecond).toLocaleString('en')}/s)`);
    console.log(`  by shape: ${Object.entries(r.byShape).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    if (r.crashed !== undefined) { console.log(`  CRASH: ${r.crashed}`); continue; }
    console.log(`  read by the replicas ${r.received ?? '?'}, accepted + counted drops ` +
      `${r.accountedFor ?? '?'}, kernel receive-buffer drops ${r.kernelDrops}`);
    console.log(`  drops by kind: ${Object.entries(r.dropped ?? {}).filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`).join(', ')}`);
    console.log(`  afterwards: ${r.answersAfter ?? '-'}`);
  }
  if (o.json !== undefined) writeFileSync(o.json, `${JSON.stringify(results, null, 2)}\n`);
  const ok = results.every((r) => r.crashed === undefined && r.answersAfter === 'put and get ok'
    && r.received !== undefined && r.received + r.kernelDrops >= r.sent
    && r.accountedFor === r.received);
  console.log(ok ? 'PASS: no crash, every datagram accounted for, the cluster still answers'
    : 'FAIL');
  return ok ? 0 : 1;
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error(`fuzz: ${(e as Error).message}`);
  process.exit(2);
});
