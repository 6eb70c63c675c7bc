/**
 * A local direct-mode cluster for people and for the crash harness:
 *   raftkv cluster up [--replicas 5] [--data-dir DIR] [--base-port 7100] [--secret-file FILE]
 *   raftkv cluster status | down | kill ID|leader [--data-dir DIR]
 * `up` starts every replica of the layout in `DIR/cluster.json` that is not running (creating the
 * layout the first time), each in the background on its own data directory `DIR/<id>`, logging to
 * `DIR/<id>/replica.log`; run again after a crash, it restarts what died on the same data. Every
 * process is found again by the PID the layout records, never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import {
  closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import type { Address } from '../replica/direct.js';
import { MAX_SESSIONS_BOUND, NodeId } from '../wire/messages.js';
import { invalid } from '../wire/codec.js';
import { parseBoundedJson, type JsonLimits } from '../wire/json.js';
import { leaderOf, queryStatus } from '../client/status.js';
import { intArg, parseCommandArgs, readTextArg, shown, stringArg, type Parsed } from '../args.js';
import { MAX_SECRET_BYTES } from '../replica/auth.js';
import { CLUSTER_USAGE } from '../usage.js';
import type { StatusReply } from '../wire/admin.js';
import { processAlive } from '../disk/fs.js';

export interface Member {
  readonly id: string;
  readonly address: Address;
  readonly dataDir: string;
  pid: number | undefined;
}

export interface Layout {
  readonly members: Member[];
  readonly secretFile: string | undefined;
  /** [§7] `--snapshot-entries` for every replica; unset: the replicas' default. */
  readonly snapshotEntries?: number;
  /** [§6.3] `--max-sessions` for every replica; unset: the replicas' default. */
  readonly maxSessions?: number;
  /** The member last seen leading (by `up`, or a client): where a one-shot command goes first. */
  readonly leader?: string;
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** The compiled CLI: beside this module's directory in `dist/`, or in `dist/` seen from `src/`. */
export const CLI_PATH = basename(dirname(HERE)) === 'src'
  ? join(HERE, '..', '..', 'dist', 'cli.js') : join(HERE, '..', 'cli.js');
export const DEFAULT_DATA_DIR = 'raftkv-data';

const layoutFile = (dir: string): string => join(dir, 'cluster.json');

const Port = t.refinement(t.number, (n) => Number.isInteger(n) && n > 0 && n < 65536, 'Port');
const Pid = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n > 0, 'Pid');
/** `cluster.json`: written by `cluster up`, but a file anyone may edit, so it is decoded. */
const LayoutCodec = t.intersection([
  t.type({
    members: t.array(t.intersection([
      t.type({ id: NodeId, address: t.type({ host: t.string, port: Port }), dataDir: t.string }),
      t.partial({ pid: Pid }),
    ])),
  }),
  t.partial({ secretFile: t.string, leader: NodeId,
    snapshotEntries: t.refinement(t.number, (n) => Number.isSafeInteger(n) && n > 0),
    maxSessions: t.refinement(t.number, (n) => Number.isSafeInteger(n) && n > 0
      && n <= MAX_SESSIONS_BOUND) }),
]);
const LAYOUT_JSON: JsonLimits = { maxChars: 1 << 20, maxDepth: 8, maxMembers: 1000 };

/** A layout file that cannot be read as one: its path and what is wrong, on one line. */
export class LayoutError extends Error {}

export function readLayout(dir: string): Layout | undefined {
  const file = layoutFile(dir);
  if (!existsSync(file)) return undefined;
  const text = readTextArg('cluster layout', file, LAYOUT_JSON.maxChars);
  if (typeof text !== 'string') throw new LayoutError(text.refused);
  const parsed = parseBoundedJson(text, LAYOUT_JSON);
  if (E.isLeft(parsed)) throw new LayoutError(`${file}: ${parsed.left.detail}`);
  // a deployed replica runs no test bugs: a layout that asks for one is not a layout
  if (typeof parsed.right === 'object' && parsed.right !== null && 'bugs' in parsed.right) {
    throw new LayoutError(`${file}: a layout has no "bugs": \`raftkv replica\` refuses --bug`);
  }
  const decoded = LayoutCodec.decode(parsed.right);
  if (E.isLeft(decoded)) {
    const why = invalid('layout', decoded.left).detail;
    throw new LayoutError(`${file}: not a cluster layout (${why})`);
  }
  const { members, secretFile, snapshotEntries, maxSessions, leader } = decoded.right;
  return { secretFile, ...(snapshotEntries === undefined ? {} : { snapshotEntries }),
    ...(maxSessions === undefined ? {} : { maxSessions }),
    ...(leader === undefined ? {} : { leader }),
    members: members.map((m) => ({ pid: undefined, ...m })) };
}

/** Write the layout whole or not at all (a temporary file renamed over it): clients write too. */
export function writeLayout(dir: string, layout: Layout): void {
  const tmp = `${layoutFile(dir)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(layout, null, 2)}\n`);
  renameSync(tmp, layoutFile(dir));
}

/** Note in `dir`'s layout that `id` leads, if the layout still reads and has that member. */
export function recordLeader(dir: string, id: string): void {
  try {
    const layout = readLayout(dir);
    if (layout === undefined || !layout.members.some((m) => m.id === id)) return;
    writeLayout(dir, { ...layout, leader: id });
  } catch {
    // a hint only: a layout that cannot be read or written now is `cluster up`'s to report
  }
}

export function newLayout(dir: string, replicas: number, basePort: number,
  secretFile: string | undefined): Layout {
  const members = Array.from({ length: replicas }, (_, k) => {
    const id = k.toString(16).toUpperCase().padStart(4, '0');
    return { id, address: { host: '127.0.0.1', port: basePort + k },
      dataDir: resolve(dir, id), pid: undefined };
  });
  return { members, secretFile: secretFile === undefined ? undefined : resolve(secretFile) };
}

/**
 * Is member `m` running under the PID the layout recorded? A PID is reused once its process ends,
 * so where `/proc` can tell, the process must also be a replica of `m`'s data directory: `down`
 * and `kill` must never signal an unrelated process, and `up` must restart a dead member.
 */
export function isRunning(m: Member): boolean {
  if (m.pid === undefined || !processAlive(m.pid)) return false;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${m.pid}/cmdline`, 'utf8');
  } catch {
    return true; // no /proc here: the signal check is all there is
  }
  return cmdline.split('\0').includes(m.dataDir);
}

/** How a member starts: `raftkv replica` (the crash harness starts its own broken ones). */
export const REPLICA_COMMAND: readonly string[] = [CLI_PATH, 'replica'];

/** The arguments of one member: its address, its peers' addresses, its data directory. */
export function replicaArgs(layout: Layout, m: Member): string[] {
  const peers = layout.members.filter((p) => p.id !== m.id)
    .flatMap((p) => ['--peer', `${p.id}=${p.address.host}:${p.address.port}`]);
  const secret = layout.secretFile === undefined ? [] : ['--secret-file', layout.secretFile];
  const snap = layout.snapshotEntries === undefined ? []
    : ['--snapshot-entries', String(layout.snapshotEntries)];
  const sessions = layout.maxSessions === undefined ? []
    : ['--max-sessions', String(layout.maxSessions)];
  return ['--id', m.id, '--listen', `${m.address.host}:${m.address.port}`, ...peers,
    '--data-dir', m.dataDir, ...secret, ...snap, ...sessions];
}

/** A member `up` started: its process, and where its log stood before it started. */
interface Started {
  readonly child: ChildProcess;
  readonly logFrom: number;
  exit?: { readonly code: number | null; readonly signal: NodeJS.Signals | null };
}

const logOf = (m: Member): string => join(m.dataDir, 'replica.log');

/** Start member `m` in the background, logging to its `replica.log`; its PID goes in the layout. */
function spawnMember(layout: Layout, m: Member, command: readonly string[]): Started {
  mkdirSync(m.dataDir, { recursive: true });
  const log = openSync(logOf(m), 'a');
  const logFrom = statSync(logOf(m)).size;
  const child = spawn(process.execPath, [...command, ...replicaArgs(layout, m)],
    { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  m.pid = child.pid;
  const started: Started = { child, logFrom };
  child.once('exit', (code, signal) => { started.exit = { code, signal }; });
  return started;
}

/** Start member `m` in the background; its PID goes into the layout. */
export function startMember(layout: Layout, m: Member,
  command: readonly string[] = REPLICA_COMMAND): number {
  return spawnMember(layout, m, command).child.pid as number;
}

/** Why `a` cannot be bound now (`EADDRINUSE`: another process holds it), or undefined. */
export function portHeld(a: Address): Promise<string | undefined> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', (e: NodeJS.ErrnoException) => {
      socket.close();
      resolve(e.code ?? e.message);
    });
    socket.bind(a.port, a.host, () => { socket.close(); resolve(undefined); });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The cluster's shared secret, read from the file the layout names; none if it names none. */
export function layoutSecret(layout: Layout): string | undefined {
  if (layout.secretFile === undefined) return undefined;
  const text = readTextArg('secret file', layout.secretFile, MAX_SECRET_BYTES);
  if (typeof text !== 'string') throw new LayoutError(text.refused);
  return text.trim();
}

/** Every member's status reply (signed with the cluster's secret, which it needs then). */
export function layoutStatus(layout: Layout, waitMs: number): Promise<(StatusReply | undefined)[]> {
  return queryStatus(layout.members.map((m) => m.address), waitMs, layoutSecret(layout));
}

/** Poll until some replica says it leads, for at most `waitMs`. */
export async function waitForLeader(layout: Layout, waitMs: number): Promise<Member | undefined> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const replies = await layoutStatus(layout, 300);
    const k = leaderOf(replies);
    if (k !== undefined) return layout.members[k];
    await sleep(100);
  }
  return undefined;
}

const UP_OPTIONS = {
  'replicas': { type: 'string' }, 'base-port': { type: 'string' },
  'secret-file': { type: 'string' }, 'snapshot-entries': { type: 'string' },
  'max-sessions': { type: 'string' }, 'data-dir': { type: 'string' },
} as const;

interface UpArgs {
  readonly replicas: number;
  readonly basePort: number;
  readonly secretFile: string | undefined;
  readonly snapshotEntries: number | undefined;
  readonly maxSessions: number | undefined;
}

function upArgs(p: Parsed): UpArgs | string {
  // a replica needs at least one peer (`raftkv replica`): one alone is refused here, not at start
  const replicas = intArg('replicas', stringArg(p, 'replicas') ?? '5', 2, 15);
  if (typeof replicas === 'string') return replicas;
  const basePort = intArg('base-port', stringArg(p, 'base-port') ?? '7100', 1, 65535 - replicas);
  if (typeof basePort === 'string') return basePort;
  const every = stringArg(p, 'snapshot-entries');
  const snapshotEntries = every === undefined ? undefined
    : intArg('snapshot-entries', every, 1, Number.MAX_SAFE_INTEGER);
  if (typeof snapshotEntries === 'string') return snapshotEntries;
  const sessionsText = stringArg(p, 'max-sessions');
  const maxSessions = sessionsText === undefined ? undefined
    : intArg('max-sessions', sessionsText, 1, MAX_SESSIONS_BOUND);
  if (typeof maxSessions === 'string') return maxSessions;
  const secretFile = stringArg(p, 'secret-file');
  if (secretFile !== undefined) {
    // read now: replicas that cannot read it would each exit, after `up` said they started
    const text = readTextArg('secret file', secretFile, MAX_SECRET_BYTES);
    if (typeof text !== 'string') return text.refused;
    if (text.trim() === '') return `the secret file ${shown(secretFile)} is empty`;
  }
  return { replicas, basePort, secretFile, snapshotEntries, maxSessions };
}

/** The last lines `m` wrote to its log since `from`: its own account of why it stopped. */
function logTail(m: Member, from: number, lines = 3): string {
  try {
    const text = readFileSync(logOf(m), 'utf8').slice(from);
    return text.split('\n').filter((l) => l.trim() !== '').slice(-lines)
      .map((l) => (l.length > 300 ? `${l.slice(0, 300)}...` : l)).join(' | ');
  } catch {
    return '(no replica.log)';
  }
}

/** How long `up` waits for every replica to answer and follow one leader. */
export const UP_WAIT_MS = 15_000;

/**
 * Whether every member answers as the process the layout records and follows one leader in one
 * term: the leader's index, or each member's reason why not.
 */
function allFollow(layout: Layout, replies: readonly (StatusReply | undefined)[]):
  { leader: number } | { problems: string[] } {
  const k = leaderOf(replies);
  const leader = k === undefined ? undefined : replies[k];
  const problems: string[] = [];
  layout.members.forEach((m, i) => {
    const r = replies[i];
    const at = `${m.address.host}:${m.address.port}`;
    if (r === undefined) problems.push(`${m.id} does not answer at ${at} (see ${logOf(m)})`);
    else if (r.src !== m.id || (m.pid !== undefined && r.pid !== m.pid)) {
      problems.push(`${m.id}: ${at} is answered by replica ${r.src}, pid ${r.pid}, not by the ` +
        `replica started here (pid ${m.pid ?? '?'}): another cluster or process holds the port`);
    } else if (leader === undefined) {
      problems.push(`${m.id} is ${r.role} in term ${r.currentTerm} and knows no leader`);
    } else if (r.leader !== leader.src || r.currentTerm !== leader.currentTerm) {
      problems.push(`${m.id} is ${r.role} in term ${r.currentTerm}, following ` +
        `${r.leader === 'FFFF' ? 'no one' : r.leader}, not ${leader.src} ` +
        `(term ${leader.currentTerm})`);
    }
  });
  return problems.length === 0 && k !== undefined ? { leader: k } : { problems };
}

/**
 * The options given that would change an existing cluster: `up` keeps a cluster's layout, so
 * each is refused with what it does instead.
 */
function clashes(layout: Layout, a: UpArgs, given: readonly string[], dir: string):
  string | undefined {
  const first = layout.members[0]?.address.port;
  const n = layout.members.length;
  if (given.includes('replicas') && a.replicas !== n) {
    return `the cluster in ${shown(dir)} has ${n} replicas: --replicas sizes a new cluster only ` +
      '(another --data-dir starts a new one; membership changes are not supported yet)';
  }
  if (given.includes('base-port') && a.basePort !== first) {
    return `the cluster in ${shown(dir)} listens from port ${first}: --base-port places a new ` +
      'cluster only';
  }
  if (given.includes('secret-file') && resolve(a.secretFile ?? '') !== layout.secretFile) {
    return `the cluster in ${shown(dir)} ${layout.secretFile === undefined ? 'has no secret'
      : `uses the secret file ${shown(layout.secretFile)}`}: --secret-file applies to a new ` +
      'cluster only';
  }
  if (given.includes('snapshot-entries') && a.snapshotEntries !== layout.snapshotEntries) {
    return `the cluster in ${shown(dir)} was created with ${layout.snapshotEntries === undefined
      ? 'the default --snapshot-entries' : `--snapshot-entries ${layout.snapshotEntries}`}: ` +
      'it applies to a new cluster only';
  }
  if (given.includes('max-sessions') && a.maxSessions !== layout.maxSessions) {
    return `the cluster in ${shown(dir)} was created with ${layout.maxSessions === undefined
      ? 'the default --max-sessions' : `--max-sessions ${layout.maxSessions}`}: ` +
      'it applies to a new cluster only';
  }
  return undefined;
}

/**
 * `cluster up`: start every member that is not running, then wait until every member answers as
 * the process the layout records and all follow one leader. Exit 0 only then; otherwise each
 * member's own error (a replica that exited prints why in its log) and exit 1.
 */
async function up(a: UpArgs, given: readonly string[], dir: string): Promise<number> {
  const existing = readLayout(dir);
  if (existing !== undefined) {
    const clash = clashes(existing, a, given, dir);
    if (clash !== undefined) return usageError(clash);
  }
  const layout = existing ?? { ...newLayout(dir, a.replicas, a.basePort, a.secretFile),
    ...(a.snapshotEntries === undefined ? {} : { snapshotEntries: a.snapshotEntries }),
    ...(a.maxSessions === undefined ? {} : { maxSessions: a.maxSessions }) };
  // a port another process holds would make its replica exit at once: check before starting any
  const held: string[] = [];
  for (const m of layout.members) {
    if (isRunning(m)) continue;
    const why = await portHeld(m.address);
    if (why !== undefined) held.push(`${m.id}: ${m.address.host}:${m.address.port} (${why})`);
  }
  if (held.length > 0) {
    console.error(`raftkv cluster up: ${held.length === 1 ? 'a port is' : 'ports are'} held by ` +
      `another process or cluster; nothing was started:\n  ${held.join('\n  ')}\n` +
      (existing === undefined ? 'choose another --base-port, or stop what holds them'
        : 'stop what holds them (this cluster\'s ports are fixed in its layout)'));
    return 1;
  }
  mkdirSync(dir, { recursive: true });
  const started = new Map<string, Started>();
  for (const m of layout.members) {
    if (isRunning(m)) {
      console.log(`${m.id} already running, pid ${m.pid}`);
      continue;
    }
    const s = spawnMember(layout, m, REPLICA_COMMAND);
    started.set(m.id, s);
    console.log(`${m.id} started, pid ${m.pid}, ${m.address.host}:${m.address.port}, ` +
      `data ${m.dataDir}`);
  }
  writeLayout(dir, layout);
  const deadline = Date.now() + UP_WAIT_MS;
  let verdict: ReturnType<typeof allFollow> = { problems: ['not asked yet'] };
  while (Date.now() < deadline) {
    if ([...started.values()].some((s) => s.exit !== undefined)) {
      await sleep(500); // let the others that fail say so too
      break;
    }
    verdict = allFollow(layout, await layoutStatus(layout, 300));
    if ('leader' in verdict) break;
    await sleep(100);
  }
  const exited = layout.members.filter((m) => started.get(m.id)?.exit !== undefined);
  if (exited.length === 0 && 'leader' in verdict) {
    const leader = layout.members[verdict.leader] as Member;
    writeLayout(dir, { ...layout, leader: leader.id });
    console.log(`leader ${leader.id}: all ${layout.members.length} replicas answer and follow it`);
    return 0;
  }
  for (const m of exited) {
    const s = started.get(m.id) as Started;
    console.error(`${m.id} exited (${s.exit?.code === null ? `signal ${s.exit.signal}`
      : `code ${s.exit?.code}`}): ${logTail(m, s.logFrom)}`);
  }
  if (exited.length === 0 && 'problems' in verdict) {
    for (const problem of verdict.problems) console.error(problem);
  }
  console.error(`raftkv cluster up: the cluster in ${shown(dir)} is not up` +
    `${exited.length === 0 ? ` after ${UP_WAIT_MS / 1000} s` : ''}; replicas still running ` +
    'stay up (`raftkv cluster status` shows them, `raftkv cluster down` stops them)');
  return 1;
}

async function status(layout: Layout): Promise<number> {
  const replies = await layoutStatus(layout, 500);
  const rows = [['id', 'address', 'pid', 'role', 'term', 'commit', 'applied', 'last', 'snapshot',
    'syncs', 'entries/sync', 'wal', 'rss', 'read', 'accepted', 'dropped']];
  const mb = (bytes: number): string => (bytes < 2 ** 20 ? `${Math.ceil(bytes / 1024)}K`
    : `${(bytes / 2 ** 20).toFixed(1)}M`);
  layout.members.forEach((m, k) => {
    const r = replies[k];
    const addr = `${m.address.host}:${m.address.port}`;
    const pid = isRunning(m) ? String(m.pid) : '-';
    if (r === undefined) rows.push([m.id, addr, pid, 'down', ...Array<string>(12).fill('')]);
    else {
      const dropped = Object.entries(r.dropped).map(([kind, n]) => `${kind}=${n}`).join(' ');
      rows.push([m.id, addr, pid, r.role, String(r.currentTerm), String(r.commitIndex),
        String(r.appliedIndex), String(r.lastLogIndex), String(r.snapshotIndex), String(r.syncs),
        r.syncs === 0 ? '-' : (r.entriesSynced / r.syncs).toFixed(2), mb(r.walBytes),
        mb(r.rssBytes), String(r.received), String(r.accepted), dropped || '0']);
    }
  });
  const widths = (rows[0] as string[])
    .map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows) console.log(r.map((x, c) => x.padEnd(widths[c] ?? 0)).join('  ').trimEnd());
  return 0;
}

function usageError(message: string): number {
  console.error(`raftkv cluster: ${message}\n${CLUSTER_USAGE.trim()}`);
  return 2;
}

export async function clusterMain(args: readonly string[]): Promise<number> {
  const p = parseCommandArgs(args, UP_OPTIONS);
  if (typeof p === 'string') return usageError(p);
  const [sub, ...rest] = p.positionals;
  const dir = resolve(stringArg(p, 'data-dir') ?? DEFAULT_DATA_DIR);
  const upOnly = ['replicas', 'base-port', 'secret-file', 'snapshot-entries', 'max-sessions']
    .find((k) => p.values[k] !== undefined);
  if (sub === 'up') {
    if (rest.length > 0) return usageError(`unexpected argument ${shown(rest[0] as string)}`);
    const a = upArgs(p);
    const given = Object.keys(UP_OPTIONS).filter((k) => p.values[k] !== undefined);
    return typeof a === 'string' ? usageError(a) : up(a, given, dir);
  }
  if (sub !== 'status' && sub !== 'down' && sub !== 'kill') {
    return usageError(sub === undefined ? 'expected up, status, down or kill'
      : `unknown subcommand ${shown(sub)}`);
  }
  if (upOnly !== undefined) return usageError(`--${upOnly} is an option of \`cluster up\` only`);
  if (rest.length !== (sub === 'kill' ? 1 : 0)) {
    return usageError(sub === 'kill' ? 'expected kill ID|leader'
      : `unexpected argument ${shown(rest[0] as string)}`);
  }
  const layout = readLayout(dir);
  if (layout === undefined) {
    console.error(`no cluster in ${shown(dir)}: run \`raftkv cluster up --data-dir DIR\` first`);
    return 1;
  }
  if (sub === 'status') return status(layout);
  if (sub === 'down') {
    for (const m of layout.members) {
      if (isRunning(m)) process.kill(m.pid as number, 'SIGTERM');
      console.log(`${m.id} stopped`);
    }
    return 0;
  }
  const which = rest[0] as string;
  const m = which === 'leader' ? await waitForLeader(layout, 3000)
    : layout.members.find((x) => x.id === which);
  if (m === undefined || !isRunning(m)) {
    console.error(`no running replica ${shown(which)}`);
    return 1;
  }
  process.kill(m.pid as number, 'SIGKILL');
  console.log(`${m.id} killed (SIGKILL), pid ${m.pid}`);
  return 0;
}
