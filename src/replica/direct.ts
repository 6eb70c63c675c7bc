/**
 * The replica process in direct mode: replicas send to each other's configured addresses, clients
 * send to any replica, and the state Raft needs across a crash is on disk (`disk/wal.ts`).
 *   raftkv replica --id ID --listen HOST:PORT --peer ID=HOST:PORT ... --data-dir DIR
 * A thin shell: it supplies the replica loop (`loop.ts`) with real time, a UDP socket (signing
 * peer datagrams with the shared secret, if any), the write-ahead log on Node's disk, and the
 * configured peers for admission; and it answers status requests.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { NodeId } from '../wire/messages.js';
import { encodeMessage, errorKind } from '../wire/codec.js';
import { decodeStatusRequestOf, type StatusReply } from '../wire/admin.js';
import { wireTexts } from '../wire/fragments.js';
import { lastLogIndex } from '../core/log.js';
import { waitingRequests } from '../core/rules/client.js';
import type { RaftMachine } from '../core/raft.js';
import { openWal, type Recovered, type Wal, type WalOptions } from '../disk/wal.js';
import type { Address } from './address.js';
import { signer } from './auth.js';
import { realClock } from './clock.js';
import { ReplicaLoop, type Durability } from './loop.js';
import { SNAPSHOT_ENTRIES, TICK_MS, TIMING, WARMUP_MS, WARMUP_REQUESTS } from './timing.js';
import { warmUp } from './warmup.js';

export { parseAddress, type Address } from './address.js';

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
  /** [§7] Snapshot every this many committed entries (default `SNAPSHOT_ENTRIES`). */
  readonly snapshotEntries?: number;
  /** [§6.3] The client sessions kept (default `DEFAULT_MAX_SESSIONS`). */
  readonly maxSessions?: number;
  /** Sample the event loop's delay (`monitorEventLoopDelay`) for status: a diagnostic. */
  readonly loopDelay?: boolean;
  /** The disk failed (ENOSPC, EIO): Raft cannot go on without it. The CLI exits. */
  readonly onFatal: (error: Error) => void;
  /** Test only: the log's file system, to fail it as a full disk would. */
  readonly walOptions?: WalOptions;
  /** Test only: a statechart with wrong rules (`mutants/`), for the crash harness to catch. */
  readonly machine?: RaftMachine;
  /**
   * Test only: the disk as the loop sees it, wrapped (the crash harness's `ackBeforeSync` says a
   * write is durable before it is, `crash/replica.ts`).
   */
  readonly wrapDurability?: (wal: Durability) => Durability;
}

export interface DirectReplica {
  readonly recovered: Recovered;
  readonly address: Address;
  status(): Status;
  stop(): Promise<void>;
}

async function bindSocket(listen: Address): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(listen.port, listen.host, () => { socket.off('error', reject); resolve(); });
  });
  return socket;
}

type Status = Omit<StatusReply, 'src' | 'type' | 'MID'>;

function statusOf(loop: ReplicaLoop, wal: Wal, members: Status['members'],
  delay: IntervalHistogram | undefined): Status {
  const s = loop.state;
  return { role: loop.role, leader: s.leaderId ?? ('FFFF' as NodeId), currentTerm: s.currentTerm,
    commitIndex: s.commitIndex, appliedIndex: s.kv.appliedIndex,
    lastLogIndex: lastLogIndex(s.log), dropped: Object.fromEntries(loop.dropped),
    waitingRequests: waitingRequests(s),
    ...loop.intake,
    syncs: wal.syncs, entriesSynced: wal.entriesSynced, snapshotIndex: s.log.snapshot.index,
    snapshotsInstalled: loop.installs.count, lastInstallBytes: loop.installs.lastBytes,
    lastInstallMs: loop.installs.lastMs, walBytes: wal.fileBytes(),
    rssBytes: process.memoryUsage.rss(), stalledTicks: loop.stalledTicks, pid: process.pid,
    loopDelayMaxUs: delay === undefined ? null : Math.round(delay.max / 1000), members };
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
  const hostPort = (a: Address): string => `${a.host}:${a.port}`;
  const members = Object.fromEntries([[opts.id, hostPort(opts.listen)],
    ...[...opts.peers].map(([id, a]) => [id, hostPort(a)])]) as Status['members'];
  const auth = opts.secret === undefined ? undefined : signer(opts.secret);
  const sendTo = (bytes: Uint8Array, to: Address): void => { socket.send(bytes, to.port, to.host); };
  // fragment ids: a restarted replica starts elsewhere (the digest keeps reused ids apart anyway)
  let fragmentId = randomInt(2 ** 40);
  let tooLargeSaid = false;
  const warmupMs = opts.warmupMs ?? WARMUP_MS;
  if (warmupMs > 0) warmUp(TIMING, warmupMs, WARMUP_REQUESTS);
  // after the warm-up, which holds the loop on purpose
  const delay = opts.loopDelay === true ? monitorEventLoopDelay({ resolution: 10 }) : undefined;
  delay?.enable();
  const loop: ReplicaLoop = new ReplicaLoop({
    config: { id: opts.id, peers: [...opts.peers.keys()], ...TIMING, absentAsEmpty: false,
      snapshotEntries: opts.snapshotEntries ?? SNAPSHOT_ENTRIES,
      ...(opts.maxSessions === undefined ? {} : { maxSessions: opts.maxSessions }) },
    seed: opts.seed,
    persisted: recovered.persisted,
    machine: opts.machine,
    tickMs: opts.tickMs ?? TICK_MS,
    clock: realClock,
    transport: {
      // a message too large for a datagram (a large value) leaves as fragments, each signed
      send: (m, to, peer) => {
        if (to === undefined) return;
        const texts = wireTexts(m, fragmentId++);
        // no legal request leads to one (MAX_FRAGMENTS has room for the largest): said once
        if (texts.length === 0 && !tooLargeSaid) {
          tooLargeSaid = true;
          console.error(`${opts.id}: a ${m.type} to ${m.dst} too large to send`);
        }
        for (const text of texts) {
          const bytes = Buffer.from(text);
          sendTo(peer && auth !== undefined ? auth.sign(bytes) : bytes, to);
        }
      },
    },
    durability: opts.wrapDurability?.(wal) ?? wal,
    admission: { peers: opts.peers, auth, directRequests: true },
    onFatal: opts.onFatal,
    log: (line) => console.error(line),
    status: (request, from, signed) => {
      if (from === undefined) return;
      // With a secret, only its holders may ask: a small request must not draw a large reply.
      if (auth !== undefined && !signed) {
        return loop.count('bad-mac', `status from ${from.host}:${from.port} without a valid MAC`);
      }
      const decoded = decodeStatusRequestOf(request);
      if (decoded._tag === 'Left') return loop.count(errorKind(decoded.left), decoded.left.detail);
      loop.intake.accepted++;
      const reply = { src: opts.id, type: 'statusReply', MID: decoded.right.MID,
        ...statusOf(loop, wal, members, delay) };
      sendTo(Buffer.from(JSON.stringify(reply)), from);
    },
  });
  socket.on('message', (bytes, from) => loop.receive(bytes, { host: from.address,
    port: from.port }));
  return {
    recovered,
    address: opts.listen,
    status: () => statusOf(loop, wal, members, delay),
    stop: async () => {
      delay?.disable();
      loop.stop();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      await loop.idle();
      wal.close();
    },
  };
}
