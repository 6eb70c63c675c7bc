/**
 * The replica process in direct mode: replicas send to each other's configured addresses, clients
 * send to any replica, and the state Raft needs across a crash is on disk (`disk/wal.ts`).
 *   raftkv replica --id ID --listen HOST:PORT --peer ID=HOST:PORT ... --data-dir DIR
 * A thin shell over `runner.ts`: the core decides; this shell routes datagrams, admits peer
 * messages only from configured peers at their configured addresses (and, with a shared secret,
 * only with a valid MAC), and holds every message and answer until the writes it depends on are
 * durable (`commit.ts`).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import {
  PeerMessage, type ClientRequest, type InstallSnapshotChunk, type Message, type NodeId,
} from '../wire/messages.js';
import { toDatagrams } from '../wire/chunks.js';
import { decodeMessage, encodeMessage, errorKind, parseDatagram } from '../wire/codec.js';
import { decodeStatusRequestOf, isStatusRequest, type StatusReply } from '../wire/admin.js';
import { lastLogIndex } from '../core/log.js';
import { waitingRequests } from '../core/rules/client.js';
import type { Bug, Effect } from '../core/state.js';
import { openWal, type Recovered, type Wal, type WalOptions } from '../disk/wal.js';
import { GroupCommit, type Write } from './commit.js';
import { startRunner, TICK_MS, type Runner } from './runner.js';
import { signer } from './auth.js';

export interface Address {
  readonly host: string;
  readonly port: number;
}

export interface DirectOptions {
  readonly id: NodeId;
  readonly listen: Address;
  readonly peers: ReadonlyMap<NodeId, Address>;
  readonly dataDir: string;
  /** A shared secret: peer datagrams carry an HMAC of it (`auth.ts`). */
  readonly secret?: string;
  readonly tickMs?: number;
  readonly seed: number;
  readonly warmupMs?: number;
  /** Test only: deliberately wrong rules (`Bug`), to show the crash harness catches them. */
  readonly bugs?: readonly Bug[];
  /** [§7] Snapshot every this many committed entries (default `SNAPSHOT_ENTRIES`). */
  readonly snapshotEntries?: number;
  /**
   * Test only, the shell's own bug: messages and answers leave at once and writes reach the file
   * 200 ms later, so a crash loses writes whose effects were already seen.
   */
  readonly ackBeforeSync?: boolean;
  /** The disk failed (ENOSPC, EIO): Raft cannot go on without it. The CLI exits. */
  readonly onFatal: (error: Error) => void;
  /** Test only: the log's write path, to fail it as a full disk would. */
  readonly walOptions?: WalOptions;
}

export interface DirectReplica {
  readonly recovered: Recovered;
  readonly address: Address;
  status(): Omit<StatusReply, 'src' | 'type' | 'MID'>;
  stop(): Promise<void>;
}

/** The most clients whose address a replica remembers for its answers (oldest forgotten first). */
const MAX_CLIENTS = 10_000;

/** The datagram types only peers send: every peer message, and a snapshot's chunks. */
export const PEER_TYPES: ReadonlySet<string> = new Set([...PeerMessage.tags,
  'InstallSnapshotChunk']);

/** `localhost` is 127.0.0.1; other hosts must be IPv4 literals, compared as the socket reports. */
export function parseAddress(text: string): Address | undefined {
  const m = /^([^:]+):(\d{1,5})$/.exec(text);
  if (m === null) return undefined;
  const host = m[1] === 'localhost' ? '127.0.0.1' : (m[1] as string);
  const port = Number(m[2]);
  const octets = host.split('.');
  if (octets.length !== 4 || !octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)
    || port <= 0 || port > 65535) return undefined;
  return { host, port };
}

async function bindSocket(listen: Address): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(listen.port, listen.host, () => { socket.off('error', reject); resolve(); });
  });
  return socket;
}

interface Output {
  /** A step's effects: messages and answers leave once the writes before them are durable. */
  readonly take: (effects: Effect[]) => void;
  /** Stop sending; resolves once the append in flight (if any) has ended. */
  readonly stop: () => Promise<void>;
}

/** Group commit (`commit.ts`) over the write-ahead log; `ackBeforeSync` is the test-only bug. */
function durableOutput(opts: DirectOptions, wal: Wal, emit: (m: Message) => void): Output {
  let stopped = false;
  let appending: Promise<void> = Promise.resolve();
  const sync = (writes: readonly Write[]): void => {
    appending = wal.append(writes).then(() => { if (!stopped) commit.synced(); },
      (e: unknown) => { if (!stopped) opts.onFatal(e as Error); });
  };
  const commit = new GroupCommit({
    emit: (m) => { if (!stopped) emit(m); },
    sync: opts.ackBeforeSync !== true ? sync : (writes) => {
      setTimeout(() => { if (!stopped) sync(writes); }, 200);
    },
  });
  const take = opts.ackBeforeSync !== true ? (effects: Effect[]): void => commit.take(effects)
    : (effects: Effect[]): void => {
      for (const e of effects) if (e.type === 'send' || e.type === 'reply') emit(e.message);
      commit.take(effects.filter((e) => e.type === 'persist'));
    };
  return { take, stop: () => { stopped = true; return appending; } };
}

/**
 * Which decoded datagrams the core may see: peer messages only from the configured id at its
 * configured address, addressed to this replica (or broadcast), and signed if there is a secret;
 * client requests from anyone not using a replica's id, whose address is kept for the answer.
 */
function admission(opts: DirectOptions, runner: Runner, clients: Map<string, RemoteInfo>):
  (m: Message, from: RemoteInfo, signed: boolean) => void {
  const where = (from: RemoteInfo): string => `${from.address}:${from.port}`;
  const admitPeer = (m: PeerMessage | InstallSnapshotChunk, from: RemoteInfo, signed: boolean):
    boolean => {
    const peer = opts.peers.get(m.src);
    if (peer === undefined || peer.host !== from.address || peer.port !== from.port) {
      runner.count('unknown-peer', `${m.type} from ${m.src} at ${where(from)}`);
      return false;
    }
    if (opts.secret !== undefined && !signed) {
      runner.count('bad-mac', `${m.type} from ${m.src} without a valid MAC`);
      return false;
    }
    // a signed message replayed to another replica must not count there (a vote, an ack)
    if (m.dst !== opts.id && m.dst !== 'FFFF') {
      runner.count('wrong-dst', `${m.type} from ${m.src} for ${m.dst}`);
      return false;
    }
    return true;
  };
  const admitClient = (m: ClientRequest, from: RemoteInfo): boolean => {
    if (m.src === opts.id || opts.peers.has(m.src) || m.src === 'FFFF') {
      runner.count('bad-client-id', `${m.type} from ${where(from)} as ${m.src}`);
      return false;
    }
    clients.delete(m.src);
    clients.set(m.src, from);
    if (clients.size > MAX_CLIENTS) clients.delete(clients.keys().next().value as string);
    return true;
  };
  return (m, from, signed) => {
    if (PEER_TYPES.has(m.type)) {
      const peer = m as PeerMessage | InstallSnapshotChunk;
      if (admitPeer(peer, from, signed)) runner.feed(peer, true);
    } else if (m.type === 'get' || m.type === 'put') {
      if (admitClient(m, from)) runner.feed(m);
    } else runner.count('not-a-request', `${m.type} from ${where(from)}`);
  };
}

export async function startDirect(opts: DirectOptions): Promise<DirectReplica> {
  // The address first: a second replica on the same address fails here, before touching the disk.
  const socket = await bindSocket(opts.listen);
  let opened: ReturnType<typeof openWal>;
  try {
    opened = openWal(opts.dataDir, opts.walOptions);
  } catch (e) {
    socket.close();
    throw e;
  }
  const { wal, recovered } = opened;
  const auth = opts.secret === undefined ? undefined : signer(opts.secret);
  const clients = new Map<string, RemoteInfo>();
  const sendTo = (bytes: Buffer, to: Address): void => { socket.send(bytes, to.port, to.host); };
  let tooLarge = false;
  const output = durableOutput(opts, wal, (whole: Message): void => {
    const datagrams = toDatagrams(whole);
    if (datagrams.length === 0 && !tooLarge) {
      tooLarge = true; // said once: the state outgrew MAX_SNAPSHOT_CHUNKS chunks
      console.error(`${opts.id}: a snapshot too large to send (${whole.type} to ${whole.dst})`);
    }
    for (const m of datagrams) emitDatagram(m);
  });
  function emitDatagram(m: Message): void {
    const bytes = Buffer.from(encodeMessage(m));
    if (m.dst === 'FFFF' || opts.peers.has(m.dst)) {
      const signed = auth === undefined ? bytes : auth.sign(bytes);
      const to = m.dst === 'FFFF' ? [...opts.peers.values()] : [opts.peers.get(m.dst) as Address];
      for (const peer of to) sendTo(signed, peer);
      return;
    }
    const client = clients.get(m.dst);
    if (client !== undefined) sendTo(bytes, { host: client.address, port: client.port });
  }
  const runner = startRunner({ id: opts.id, peers: [...opts.peers.keys()],
    tickMs: opts.tickMs ?? TICK_MS, seed: opts.seed, persisted: recovered.persisted,
    warmupMs: opts.warmupMs, bugs: opts.bugs, snapshotEntries: opts.snapshotEntries }, output.take);
  const status = (): Omit<StatusReply, 'src' | 'type' | 'MID'> => {
    const s = runner.state();
    return { role: s.role, leader: s.leaderId ?? ('FFFF' as NodeId), currentTerm: s.currentTerm,
      commitIndex: s.commitIndex, appliedIndex: s.kv.appliedIndex,
      lastLogIndex: lastLogIndex(s.log), dropped: Object.fromEntries(runner.dropped),
      waitingRequests: waitingRequests(s),
      ...runner.intake,
      syncs: wal.syncs, entriesSynced: wal.entriesSynced, snapshotIndex: s.log.snapshot.index,
      snapshotsInstalled: runner.installs.count, lastInstallBytes: runner.installs.lastBytes,
      lastInstallMs: runner.installs.lastMs, walBytes: wal.fileBytes(),
      rssBytes: process.memoryUsage.rss() };
  };
  const admit = admission(opts, runner, clients);
  socket.on('message', (bytes, from) => {
    runner.intake.received++;
    const verified = auth?.verify(bytes);
    const parsed = parseDatagram(verified ?? bytes);
    if (parsed._tag === 'Left') return runner.count(errorKind(parsed.left), parsed.left.detail);
    if (!isStatusRequest(parsed.right)) {
      const decoded = decodeMessage(parsed.right);
      if (decoded._tag === 'Left') return runner.count(errorKind(decoded.left), decoded.left.detail);
      return admit(decoded.right, from, verified !== undefined);
    }
    // With a secret, only its holders may ask: a small request must not draw a large reply.
    if (auth !== undefined && verified === undefined) {
      return runner.count('bad-mac', `status from ${from.address}:${from.port} without a valid MAC`);
    }
    const request = decodeStatusRequestOf(parsed.right);
    if (request._tag === 'Left') return runner.count(errorKind(request.left), request.left.detail);
    runner.intake.accepted++;
    const reply = { src: opts.id, type: 'statusReply', MID: request.right.MID, ...status() };
    sendTo(Buffer.from(JSON.stringify(reply)), { host: from.address, port: from.port });
  });
  return {
    recovered,
    address: opts.listen,
    status,
    stop: async () => {
      const appended = output.stop();
      runner.stop();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      await appended;
      wal.close();
    },
  };
}
