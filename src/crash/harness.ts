/**
 * Crash tests with real processes: a direct-mode cluster (`cluster/cluster.ts`) under client load,
 * whose replicas are killed with SIGKILL at random moments (the leader in half the rounds) and
 * restarted on the same data directory. Before some restarts the harness damages the killed
 * replica's log the way a crash or a bad disk would:
 *   - torn: bytes of a half-written record appended at the end, as a crash in the middle of an
 *     append leaves them. The replica must cut them off and start.
 *   - flip: one bit flipped inside a record that another follows. The replica must refuse to start,
 *     naming the file and offset. The harness then does what an operator would: it empties the
 *     data directory and starts the replica again, which must catch up from the others.
 * The clients put, get, delete and compare-and-swap (a cas expects what its client last saw the
 * key hold). At the end every replica runs again, one client reads every key, and the harness
 * checks
 *   - the client history, recorded in the simulators' own type (`fault/history.ts`), for
 *     linearizability (`fault/linearizability.ts`, registers that start absent);
 *   - that no acknowledged put was lost: every put answered `ok` is in the log on the disks of a
 *     majority of replicas (the processes are stopped and their logs read back).
 * Seeded: the seed picks victims, moments and damage; the processes' timing is the real clock's.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync,
  writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { entriesAfterSnapshot } from '../core/log.js';
import { KvClient, SessionExpiredError, TimeoutError, type Found } from '../client/client.js';
import { leaderOf, queryStatus } from '../client/status.js';
import { CLI_PATH, isRunning, newLayout, replicaArgs, startMember, waitForLeader, writeLayout,
  type Layout, type Member } from '../cluster/cluster.js';
import { openWal, WAL_FILE } from '../disk/wal.js';
import { Rng } from '../fault/rng.js';
import { registerOpsOf } from '../fault/checkers.js';
import { History, type Operation } from '../fault/history.js';
import { checkRegisterHistory, type RegisterCheck } from '../fault/linearizability.js';
import { keyName, type OpKind } from '../fault/workload.js';
import type { NodeId } from '../wire/messages.js';
import type { StatusReply } from '../wire/admin.js';

export interface CrashOptions {
  readonly seed: number;
  readonly replicas: number;
  readonly rounds: number;
  readonly clients: number;
  readonly keys: number;
  /** Chances, per round, of damage before the restart. */
  readonly tornChance: number;
  readonly flipChance: number;
  /**
   * Chance that a round kills every replica at once, then restarts them all. SIGKILL keeps the
   * page cache: what a process wrote survives it, synced or not. These rounds test recovery and
   * the group commit's holding of messages, not fdatasync (see `ackBeforeSync`).
   */
  readonly allChance: number;
  readonly dataDir?: string;
  /**
   * Every replica runs with these deliberately wrong rules (`--bug` of the harness's own replica
   * entry, `replica.ts`: a catalog bug, or the shell's `ackBeforeSync`).
   */
  readonly bugs?: readonly string[];
  /**
   * [§7] Every replica snapshots every this many entries: far more often than a deployment's
   * default, so that replicas restarted behind the leader catch up by InstallSnapshot.
   */
  readonly snapshotEntries: number;
  readonly log?: (line: string) => void;
}

export const DEFAULT_CRASH: CrashOptions = { seed: 1, replicas: 5, rounds: 10, clients: 4,
  keys: 5, tornChance: 0.3, flipChance: 0.1, allChance: 0.2, snapshotEntries: 200 };

export interface CrashReport {
  readonly rounds: number;
  readonly kills: number;
  readonly leaderKills: number;
  /** Rounds that killed every replica at once. */
  readonly allKilled: number;
  readonly torn: number;
  readonly flipsRefused: number;
  readonly wiped: number;
  readonly ops: number;
  readonly putsAcknowledged: number;
  /** Operations answered ok, by kind: gets, puts, dels, and cas that swapped or did not. */
  readonly answered: { readonly get: number; readonly put: number; readonly del: number;
    readonly swapped: number; readonly refused: number };
  readonly unanswered: number;
  readonly lost: readonly string[];
  readonly history: RegisterCheck;
  /** Refusals to start on a flipped bit: the replica's own message. */
  readonly refusals: readonly string[];
  readonly final: readonly (StatusReply | undefined)[];
  /** [§7] Snapshots installed from a leader's chunks, over every replica's lifetime. */
  readonly snapshotsInstalled: number;
  readonly seconds: number;
}

/** Snapshots a replica installed, as its log says (`replica/loop.ts`), over all its restarts. */
function installsLogged(dataDir: string): number {
  const file = join(dataDir, 'replica.log');
  return existsSync(file)
    ? readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('installed a snapshot'))
      .length : 0;
}

/**
 * The procedure that makes an emptied replica's return safe, as the harness follows it: the
 * replica forgot its vote and every entry it acknowledged, and the leader may still count those
 * acknowledgements. Before it starts again, every other live replica must have applied all that
 * any of them held when it was emptied (which includes all it ever acknowledged), so that each of
 * those entries is on a quorum without it. Returns false if that took more than 10 s.
 * (Without this wait, a committed entry can end up on a minority and be lost: Raft assumes that
 * disks are not lost; a general fix is a membership change or a non-voting catch-up.)
 */
async function othersHoldAll(layout: Layout, victim: Member): Promise<boolean> {
  const others = layout.members.filter((m) => m !== victim && isRunning(m));
  const addresses = others.map((m) => m.address);
  const target = Math.max(0, ...(await queryStatus(addresses, 300))
    .map((r) => r?.lastLogIndex ?? 0));
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    const replies = await queryStatus(addresses, 300);
    if (replies.every((r) => r !== undefined && r.appliedIndex >= target)) return true;
    await sleep(50);
  }
  return false;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A base port with `n` free UDP ports after it on 127.0.0.1. */
export async function freePorts(n: number, rng: Rng): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + rng.int(30_000);
    let ok = true;
    for (let k = 0; k < n && ok; k++) {
      const s = createSocket('udp4');
      ok = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.bind(base + k, '127.0.0.1', () => resolve(true));
      });
      s.close();
    }
    if (ok) return base;
  }
  throw new Error('no free ports found');
}

/**
 * Record an operation in the fault history (`fault/history.ts`) as one attempt: the client library
 * retries inside `put`/`get`, so the harness sees an operation, not its datagrams. Returns its id.
 */
function invokeOnce(history: History, client: string, kind: OpKind, key: string,
  value: string | undefined, atMs: number, expected?: string | null): number {
  const op = history.invoke(client, kind, key, value, atMs, expected).id;
  history.send(op, `op-${op}`, 'cluster', atMs);
  return op;
}

/** An acknowledged put's session and request number in it (see `finish`). */
interface PutSession { readonly session: number; readonly seq: number }

/** A round kills within this long after a put was acknowledged. */
const KILL_WITHIN_MS = 50;

/** When a put was last acknowledged (ms on `performance.now()`), across the workers. */
interface Load { lastAckMs: number }

async function worker(w: number, layout: Layout, opts: CrashOptions, rng: Rng,
  history: History, sessions: Map<string, PutSession>, stop: () => boolean, t0: number,
  load: Load): Promise<void> {
  const client = await KvClient.open({ cluster: layout.members.map((m) => m.address),
    clientId: (0x0100 + w).toString(16).toUpperCase().padStart(4, '0') as NodeId,
    timeoutMs: 4000, attemptMs: 250 });
  /** What this worker last saw each key hold: what its cas expects. */
  const seen = new Map<string, string | null>();
  for (let n = 0; !stop(); n++) {
    const key = keyName(rng.int(opts.keys));
    const call = performance.now() - t0;
    const r = rng.float();
    const kind: OpKind = r < 0.45 ? 'put' : r < 0.75 ? 'get' : r < 0.85 ? 'del' : 'cas';
    const value = kind === 'put' || kind === 'cas' ? `w${w}-${n}` : undefined;
    const expected = kind === 'cas' ? seen.get(key) ?? null : undefined;
    const op = invokeOnce(history, client.clientId, kind, key, value, call, expected);
    try {
      let found: Found | undefined;
      if (kind === 'put') {
        await client.put(key, value as string);
        load.lastAckMs = performance.now();
        sessions.set(value as string, { session: client.session, seq: client.lastSeq });
        seen.set(key, value as string);
      } else if (kind === 'get') {
        found = await client.get(key);
        seen.set(key, found.found ? found.value : null);
      } else if (kind === 'del') {
        found = await client.del(key);
        seen.set(key, null);
      } else {
        const c = await client.cas(key, expected as string | null, value as string);
        found = c.previous;
        seen.set(key, c.swapped ? value as string : found.found ? found.value : null);
      }
      // an absent key is an ok without a value, as direct mode answers it
      history.complete(op, performance.now() - t0, found?.found === true ? found.value : undefined);
    } catch (e) {
      // [§6.3] an expired session (here: a register a broken replica acknowledged and lost)
      // leaves the write's outcome unknown, as silence does
      if (!(e instanceof TimeoutError) && !(e instanceof SessionExpiredError)) throw e;
      // unanswered: a write may still take effect, at any time after its call
      history.giveUp(op, 'abandoned');
    }
  }
  client.close();
}

/** Bytes that look like the start of a record the crash cut short. */
function tornBytes(rng: Rng): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt32LE(40 + rng.int(200), 0);
  header.writeUInt32LE(rng.nextUint32(), 4);
  header.writeUInt32LE(rng.nextUint32(), 8);
  const body = Buffer.from('{"currentTerm":7,"votedFor":null,"log":{"fromIndex":'.slice(0,
    1 + rng.int(40)));
  return Buffer.concat([header, body]).subarray(0, 1 + rng.int(12 + body.length));
}

/** Flip one bit in the first half of the log, where a later record follows for sure. */
function flipBit(file: string, rng: Rng): boolean {
  const size = statSync(file).size;
  if (size < 200) return false;
  const bytes = readFileSync(file);
  const offset = 12 + rng.int(Math.floor(size / 2) - 12);
  bytes[offset] = (bytes[offset] as number) ^ (1 << rng.int(8));
  writeFileSync(file, bytes);
  return true;
}

/** The harness's replicas: its own entry point, which takes `--bug` (`replica.ts`). */
function replicaCommand(bugs: readonly string[]): string[] {
  return [join(dirname(CLI_PATH), 'crash', 'replica.js'), ...bugs.flatMap((b) => ['--bug', b])];
}

/** Start `m` in the foreground and expect it to refuse; return its message. */
function expectRefusal(command: readonly string[], layout: Layout, m: Member): string {
  const r = spawnSync(process.execPath, [...command, ...replicaArgs(layout, m)],
    { timeout: 10_000, encoding: 'utf8' });
  const line = (r.stderr ?? '').split('\n').find((l) => l.includes('corrupt')) ?? '';
  if (r.status !== 1 || !line.includes(WAL_FILE)) {
    throw new Error(`replica ${m.id} started on a flipped bit (exit ${r.status}): ${r.stderr}`);
  }
  return line.trim();
}

/** SIGKILL every replica at once, then restart them all. */
async function killAll(command: readonly string[], layout: Layout, rng: Rng): Promise<void> {
  for (const m of layout.members) if (isRunning(m)) process.kill(m.pid as number, 'SIGKILL');
  while (layout.members.some((m) => isRunning(m))) await sleep(5);
  await sleep(200 + rng.int(800));
  for (const m of layout.members) startMember(layout, m, command);
}

export async function crashTest(opts: CrashOptions): Promise<CrashReport> {
  const log = opts.log ?? ((): void => {});
  const rng = Rng.stream(opts.seed, 'crash');
  const dir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'raftkv-crash-'));
  const layout = { ...newLayout(dir, opts.replicas, await freePorts(opts.replicas, rng),
    undefined), snapshotEntries: opts.snapshotEntries };
  const command = replicaCommand(opts.bugs ?? []);
  const t0 = performance.now();
  const counts = { kills: 0, leaderKills: 0, allKilled: 0, torn: 0, flipsRefused: 0,
    wiped: 0 };
  const refusals: string[] = [];
  const history = new History();
  const sessions = new Map<string, PutSession>();
  let stopping = false;
  try {
    for (const m of layout.members) startMember(layout, m, command);
    writeLayout(dir, layout);
    if (await waitForLeader(layout, 15_000) === undefined) {
      throw new Error(`the cluster elected no leader in 15 s: see ${dir}/*/replica.log`);
    }
    const load: Load = { lastAckMs: -Infinity };
    const workers = Array.from({ length: opts.clients }, (_, w) =>
      worker(w, layout, opts, Rng.stream(opts.seed, `client-${w}`), history, sessions,
        () => stopping, t0, load));
    for (let round = 1; round <= opts.rounds; round++) {
      await sleep(300 + rng.int(1200));
      // Kill under load: right after a put was acknowledged (bounded wait, 5 s), so every round
      // catches writes in flight, and a write acknowledged before it was durable is exposed.
      for (let t = 0; t < 500 && performance.now() - load.lastAckMs > KILL_WITHIN_MS; t++) {
        await sleep(10);
      }
      if (rng.chance(opts.allChance)) {
        await killAll(command, layout, rng);
        counts.kills += opts.replicas;
        counts.allKilled++;
        writeLayout(dir, layout);
        log(`${((performance.now() - t0) / 1000).toFixed(1)} s, round ${round}: killed every ` +
          `replica at once, restarted all; ${history.operations.length} ops so far`);
        continue;
      }
      const live = layout.members.filter((m) => isRunning(m));
      const replies = await queryStatus(live.map((m) => m.address), 300);
      const leader = leaderOf(replies);
      const victim = leader !== undefined && rng.chance(0.5) ? live[leader] as Member
        : rng.pick(live) as Member;
      const hitLeader = leader !== undefined && victim === live[leader];
      process.kill(victim.pid as number, 'SIGKILL');
      counts.kills++;
      if (hitLeader) counts.leaderKills++;
      while (isRunning(victim)) await sleep(5);
      await sleep(200 + rng.int(1500));
      const file = join(victim.dataDir, WAL_FILE);
      let damage = 'none';
      if (existsSync(file) && rng.chance(opts.flipChance) && flipBit(file, rng)) {
        refusals.push(expectRefusal(command, layout, victim));
        counts.flipsRefused++;
        rmSync(victim.dataDir, { recursive: true, force: true });
        counts.wiped++;
        const held = await othersHoldAll(layout, victim);
        damage = `flip: refused, wiped, rejoined ${held ? 'once the others held everything'
          : 'WITHOUT the others holding everything (10 s passed)'}`;
      } else if (existsSync(file) && rng.chance(opts.tornChance)) {
        appendFileSync(file, tornBytes(rng));
        counts.torn++;
        damage = 'torn tail';
      }
      startMember(layout, victim, command);
      writeLayout(dir, layout);
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      log(`${seconds} s, round ${round}: killed ${victim.id}${hitLeader ? ' (leader)' : ''}, ` +
        `${damage}, ` +
        `restarted as pid ${victim.pid}; ${history.operations.length} ops so far`);
    }
    await sleep(1500);
    stopping = true;
    await Promise.all(workers);
    return await finish(opts, layout, { ...counts, refusals, history, sessions, t0 });
  } finally {
    for (const m of layout.members) if (isRunning(m)) process.kill(m.pid as number, 'SIGKILL');
    if (opts.dataDir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

function answeredByKind(ops: readonly Operation[]): CrashReport['answered'] {
  const ok = ops.filter((o) => o.status === 'ok');
  const count = (f: (o: Operation) => boolean): number => ok.filter(f).length;
  const swapped = (o: Operation): boolean => o.kind === 'cas' && (o.read ?? null) === o.expected;
  return { get: count((o) => o.kind === 'get'), put: count((o) => o.kind === 'put'),
    del: count((o) => o.kind === 'del'), swapped: count(swapped),
    refused: count((o) => o.kind === 'cas' && !swapped(o)) };
}

/** Read every key once more, stop the cluster, and check the history and the disks. */
async function finish(opts: CrashOptions, layout: Layout, run: {
  kills: number; leaderKills: number; allKilled: number; torn: number; flipsRefused: number;
  wiped: number;
  refusals: string[]; history: History; sessions: Map<string, PutSession>; t0: number }):
  Promise<CrashReport> {
  const { history, t0 } = run;
  const reader = await KvClient.open({ cluster: layout.members.map((m) => m.address),
    clientId: '00FF' as NodeId, timeoutMs: 10_000 });
  for (let k = 0; k < opts.keys; k++) {
    const key = keyName(k);
    const op = invokeOnce(history, reader.clientId, 'get', key, undefined, performance.now() - t0);
    const read = await reader.get(key);
    history.complete(op, performance.now() - t0, read.found ? read.value : undefined);
  }
  reader.close();
  const final = await queryStatus(layout.members.map((m) => m.address), 500);
  for (const m of layout.members) if (isRunning(m)) process.kill(m.pid as number, 'SIGTERM');
  for (let t = 0; t < 200 && layout.members.some((m) => isRunning(m)); t++) await sleep(25);
  // a replica that did not stop in 5 s must not write while its log is read back
  for (const m of layout.members) if (isRunning(m)) process.kill(m.pid as number, 'SIGKILL');
  while (layout.members.some((m) => isRunning(m))) await sleep(5);
  // A put is on a disk if its entry is in the log, or [§7] the snapshot's session of its client
  // has reached its request number (clients are sequential: the snapshot holds it applied).
  const disks = layout.members.map((m) => {
    const { wal, recovered } = openWal(m.dataDir);
    wal.close();
    const log = recovered.persisted.log;
    return { puts: new Set(entriesAfterSnapshot(log)
      .map((e) => (e.cmd.kind === 'put' ? `${e.cmd.key}=${e.cmd.value}` : ''))),
    sessions: new Map<number, { readonly seq: number }>(log.snapshot.sessions) };
  });
  const quorum = Math.floor(opts.replicas / 2) + 1;
  const acked = history.operations.filter((o) => o.kind === 'put' && o.status === 'ok');
  const holds = (d: (typeof disks)[number], o: Operation): boolean => {
    const value = o.value as string;
    const session = run.sessions.get(value);
    return d.puts.has(`${o.key}=${value}`)
      || (session !== undefined && (d.sessions.get(session.session)?.seq ?? 0) >= session.seq);
  };
  const lost = acked.filter((o) => disks.filter((d) => holds(d, o)).length < quorum)
    .map((o) => `${o.key}=${o.value as string}`);
  return { rounds: opts.rounds, kills: run.kills, leaderKills: run.leaderKills,
    allKilled: run.allKilled, torn: run.torn,
    flipsRefused: run.flipsRefused, wiped: run.wiped, ops: history.operations.length,
    putsAcknowledged: acked.length,
    answered: answeredByKind(history.operations),
    unanswered: history.operations.filter((o) => o.status !== 'ok').length, lost,
    history: checkRegisterHistory(registerOpsOf(history, 'direct'),
      { maxStepsPerKey: 2_000_000, initial: null }),
    refusals: run.refusals, final, seconds: (performance.now() - t0) / 1000,
    snapshotsInstalled: layout.members.reduce((n, m) => n + installsLogged(m.dataDir), 0) };
}
