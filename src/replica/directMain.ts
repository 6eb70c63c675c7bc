/**
 * `raftkv replica --id ID --listen HOST:PORT --peer ID=HOST:PORT ... --data-dir DIR
 *  [--secret-file FILE]`: parse, start, and stop on SIGTERM/SIGINT. A corrupt log or a disk that
 * fails a write stops the process with a message naming the file: it must not run on state it
 * cannot trust or keep.
 */
import { MAX_SESSIONS_BOUND, type NodeId } from '../wire/messages.js';
import { CorruptWalError, WalFormatError } from '../disk/wal.js';
import { lastLogIndex, snapshotIndex } from '../core/log.js';
import { REPLICA_USAGE } from '../usage.js';
import { intArg, parseCommandArgs, readTextArg, shown, stringArg } from '../args.js';
import { MAX_SECRET_BYTES } from './auth.js';
import { parseAddress, startDirect, type Address, type DirectOptions } from './direct.js';


const HEX4 = /^[0-9A-F]{4}$/;

export interface DirectArgs {
  readonly id: NodeId;
  readonly listen: Address;
  readonly peers: Map<NodeId, Address>;
  readonly dataDir: string;
  readonly secret: string | undefined;
  /** [§7] Snapshot every this many committed entries (default `SNAPSHOT_ENTRIES`). */
  readonly snapshotEntries?: number;
  /** [§6.3] The client sessions kept (default `DEFAULT_MAX_SESSIONS`). */
  readonly maxSessions?: number;
  /** Sample the event loop's delay for status (`--loop-delay`). */
  readonly loopDelay?: boolean;
}

const OPTIONS = {
  'id': { type: 'string' }, 'listen': { type: 'string' }, 'data-dir': { type: 'string' },
  'secret-file': { type: 'string' }, 'snapshot-entries': { type: 'string' },
  'max-sessions': { type: 'string' }, 'peer': { type: 'string', multiple: true },
  'loop-delay': { type: 'boolean' },
} as const;

/** The arguments, or a message saying what is wrong with them. */
export function parseDirectArgs(args: readonly string[]): DirectArgs | string {
  const p = parseCommandArgs(args, OPTIONS);
  if (typeof p === 'string') return p;
  if (p.positionals.length > 0) return `unexpected argument ${shown(p.positionals[0] as string)}`;
  const id = stringArg(p, 'id');
  if (id === undefined || !HEX4.test(id) || id === 'FFFF') {
    return `bad or missing --id ${shown(id ?? '')}: expected four hex digits, not FFFF`;
  }
  const listenText = stringArg(p, 'listen');
  const listen = listenText === undefined ? undefined : parseAddress(listenText);
  if (listen === undefined) {
    return `bad or missing --listen ${shown(listenText ?? '')}: expected HOST:PORT`;
  }
  const dataDir = stringArg(p, 'data-dir');
  if (dataDir === undefined) return 'missing --data-dir';
  let secret: string | undefined;
  const secretFile = stringArg(p, 'secret-file');
  if (secretFile !== undefined) {
    const text = readTextArg('secret file', secretFile, MAX_SECRET_BYTES);
    if (typeof text !== 'string') return text.refused;
    secret = text.trim();
    if (secret === '') return `the secret file ${shown(secretFile)} is empty`;
  }
  const every = stringArg(p, 'snapshot-entries');
  const snapshotEntries = every === undefined ? undefined
    : intArg('snapshot-entries', every, 1, Number.MAX_SAFE_INTEGER);
  if (typeof snapshotEntries === 'string') return snapshotEntries;
  const sessionsText = stringArg(p, 'max-sessions');
  const maxSessions = sessionsText === undefined ? undefined
    : intArg('max-sessions', sessionsText, 1, MAX_SESSIONS_BOUND);
  if (typeof maxSessions === 'string') return maxSessions;
  const peers = new Map<NodeId, Address>();
  for (const value of (p.values['peer'] ?? []) as string[]) {
    const [peerId, addr, ...extra] = value.split('=');
    const address = addr === undefined ? undefined : parseAddress(addr);
    if (peerId === undefined || !HEX4.test(peerId) || address === undefined || extra.length > 0) {
      return `bad --peer ${shown(value)}: expected ID=HOST:PORT`;
    }
    peers.set(peerId as NodeId, address);
  }
  if (peers.size === 0) return 'at least one --peer is needed';
  if (peers.has(id as NodeId)) return `--peer ${id} is this replica's own id`;
  if ([...peers.values()].some((a) => a.host === listen.host && a.port === listen.port)) {
    return `a --peer has this replica's own --listen address`;
  }
  return { id: id as NodeId, listen, peers, dataDir, secret,
    ...(p.values['loop-delay'] === true ? { loopDelay: true } : {}),
    ...(snapshotEntries === undefined ? {} : { snapshotEntries }),
    ...(maxSessions === undefined ? {} : { maxSessions }) };
}

/**
 * Run a replica. `testOnly` is for the crash harness's own entry point (`crash/replica.ts`), which
 * starts deliberately broken replicas; `raftkv replica` never passes it.
 */
export async function directMain(args: readonly string[],
  testOnly: Pick<DirectOptions, 'machine' | 'wrapDurability'> = {}): Promise<void> {
  const parsed = parseDirectArgs(args);
  if (typeof parsed === 'string') {
    console.error(`${parsed}\n${REPLICA_USAGE.trim()}`);
    process.exit(2);
  }
  const seed = (Number.parseInt(parsed.id, 16) * 2654435761 + process.pid) >>> 0;
  try {
    const replica = await startDirect({ ...parsed, ...testOnly, seed, onFatal: (e) => {
      console.error(`${parsed.id}: the write-ahead log failed (${e.message}); stopping: Raft ` +
        'cannot answer for what it cannot write');
      process.exit(1);
    } });
    const r = replica.recovered;
    console.error(`${parsed.id}: listening on ${parsed.listen.host}:${parsed.listen.port}; ` +
      `recovered term ${r.persisted.currentTerm}, vote ${r.persisted.votedFor ?? 'none'}, ` +
      `snapshot at ${snapshotIndex(r.persisted.log)}, log to ${lastLogIndex(r.persisted.log)} ` +
      `from ${r.file} ` +
      `(${r.records} records` +
      `${r.tornBytes > 0 ? `, cut a torn tail of ${r.tornBytes} bytes` : ''})`);
    const stop = (): void => { void replica.stop().then(() => process.exit(0)); };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  } catch (e) {
    const message = e instanceof CorruptWalError || e instanceof WalFormatError ? e.message
      : String((e as Error).message ?? e);
    console.error(`${parsed.id}: cannot start: ${message}`);
    process.exit(1);
  }
}
