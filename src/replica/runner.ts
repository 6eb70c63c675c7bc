/**
 * What every replica shell does with the core, whatever its transport and disk: decode a datagram
 * with the wire codecs (counting and dropping bad ones), feed the statechart, hand each step's
 * effects to the shell in order, end a batch of client requests with `Flush`, and drive time with
 * a real clock. The simulator-routed shell (`udp.ts`) and the direct shell (`direct.ts`) differ
 * only in where datagrams go and whether writes are synced first.
 */
import { createActor } from 'xstate';
import type {
  ClientRequest, InstallSnapshotChunk, Message, NodeId, PeerMessage,
} from '../wire/messages.js';
import { decodeDatagram, errorKind, type WireError } from '../wire/codec.js';
import { Reassembler } from '../wire/chunks.js';
import { raftMachine } from '../core/raft.js';
import type { Bug, Effect, Persisted, RaftState } from '../core/state.js';
import { warmUp } from './warmup.js';

/**
 * Timers in ticks of 10 ms. The first election waits a second or more (the protocol asks for several
 * hundred ms). Heartbeats go only to peers the leader has not sent to for 300 ms: under load the
 * rotating flushes reach every peer sooner, so an idle cluster is where heartbeats cost messages.
 * A campaign without a quorum is retried after 400-800 ms: under heavy drops its requests, not its
 * peers, are what is missing.
 * A follower that heard from its leader within 20 ms redirects a client; otherwise it holds the
 * request until it hears from a leader.
 */
export const TIMING = { electionTimeoutTicksMin: 100, electionTimeoutTicksMax: 200,
  campaignRetryTicksMin: 40, campaignRetryTicksMax: 80, heartbeatTicks: 30,
  redirectFreshTicks: 2 } as const;

/**
 * [§7] A replica snapshots its state machine every this many applied entries. A snapshot copies
 * every key and session once, so this keeps that cost small per entry while the log, and the
 * write-ahead log file, stay short.
 */
export const SNAPSHOT_ENTRIES = 2000;

/** Real time per Tick, in the replica process and in the deterministic simulation. */
export const TICK_MS = 10;

/** The warm-up's default budget, and the most requests it runs. */
export const WARMUP_MS = 300;
const WARMUP_REQUESTS = 5000;

export interface RunnerOptions {
  readonly id: NodeId;
  readonly peers: readonly NodeId[];
  readonly tickMs: number;
  readonly seed: number;
  /** What the disk held at start-up; none for a replica without storage. */
  readonly persisted?: Persisted;
  /** Wall time for the JIT warm-up before serving (`warmup.ts`); 0 skips it. */
  readonly warmupMs?: number;
  /** Deliberately wrong rules, for tests that show a checker catches them (`Bug`). */
  readonly bugs?: readonly Bug[];
  /** [§7] Default `SNAPSHOT_ENTRIES`. */
  readonly snapshotEntries?: number;
}

const isClientRequest = (m: Message): boolean => m.type === 'get' || m.type === 'put';
/**
 * Peer messages and client requests go to the statechart; hellos and answers are not for it, and
 * snapshot chunks go to a `Reassembler` first.
 */
export const isForTheMachine = (m: Message): m is PeerMessage | ClientRequest =>
  m.type !== 'hello' && m.type !== 'ok' && m.type !== 'fail' && m.type !== 'redirect'
  && m.type !== 'InstallSnapshotChunk';

export interface InstallStats {
  count: number;
  lastBytes: number;
  /** From its first chunk's arrival to the end of the core's step that installed it. */
  lastMs: number;
  /** Snapshots whose chunks, put together, were not a snapshot (the datagrams were accepted). */
  refused: number;
}

/** Every datagram a shell read, and those it handed on; the rest are counted in `dropped`. */
export interface Intake {
  received: number;
  accepted: number;
  /** Of those accepted, the peer messages from configured peers (direct mode only). */
  acceptedFromPeers: number;
}

export interface Runner {
  /** A datagram's bytes: decoded and, if it is for the machine, stepped. */
  receive(bytes: Buffer): void;
  /**
   * A message decoded elsewhere, counted as accepted (`fromPeer`: a configured peer's), unless it
   * is a chunk of no possible snapshot; a snapshot chunk is held until its snapshot is whole.
   */
  feed(m: PeerMessage | ClientRequest | InstallSnapshotChunk, fromPeer?: boolean): void;
  state(): RaftState;
  /** Datagrams dropped, by wire error kind (and any kinds the shell counts itself). */
  readonly dropped: Map<string, number>;
  /** received = accepted + the sum of `dropped`, for every datagram a shell reads. */
  readonly intake: Intake;
  /** [§7] Snapshots installed from chunks, and the last one's size and time. */
  readonly installs: InstallStats;
  count(kind: string, detail: string): void;
  stop(): void;
}

/** Start the core; `take` gets each step's effects, in the order the core emitted them. */
export function startRunner(opts: RunnerOptions, take: (effects: Effect[]) => void): Runner {
  const warmupMs = opts.warmupMs ?? WARMUP_MS;
  if (warmupMs > 0) warmUp(TIMING, warmupMs, WARMUP_REQUESTS);
  const actor = createActor(raftMachine, {
    input: { seed: opts.seed, config: { id: opts.id, peers: opts.peers, ...TIMING,
      snapshotEntries: opts.snapshotEntries ?? SNAPSHOT_ENTRIES, bugs: opts.bugs ?? [] },
      persisted: opts.persisted },
  });
  let effects: Effect[] = [];
  actor.on('*', (e: Effect) => { effects.push(e); });
  const send = (event: Parameters<typeof actor.send>[0]): void => {
    actor.send(event);
    const batch = effects;
    effects = [];
    if (batch.length > 0) take(batch);
  };
  const dropped = new Map<string, number>();
  const count = (kind: string, detail: string): void => {
    const n = (dropped.get(kind) ?? 0) + 1;
    dropped.set(kind, n);
    // the first of each kind is logged; after that only counted, so bad input cannot flood a log
    if (n === 1) console.error(`${opts.id}: dropped a datagram (${kind}): ${detail}`);
  };
  let flushPending = false;
  const chunks = new Reassembler();
  const installs: InstallStats = { count: 0, lastBytes: 0, lastMs: 0, refused: 0 };
  const intake: Intake = { received: 0, accepted: 0, acceptedFromPeers: 0 };
  const feed = (m: PeerMessage | ClientRequest | InstallSnapshotChunk, fromPeer = false): void => {
    if (m.type === 'InstallSnapshotChunk') {
      const r = chunks.accept(m, performance.now());
      if (r.kind === 'invalid-chunk') return count('invalid', `chunk from ${m.src}: ${r.detail}`);
      intake.accepted++;
      if (fromPeer) intake.acceptedFromPeers++;
      if (r.kind === 'invalid') {
        installs.refused++;
        if (installs.refused === 1) {
          console.error(`${opts.id}: refused a snapshot from ${m.src}: ${r.detail}`);
        }
      }
      if (r.kind !== 'complete') return;
      const before = actor.getSnapshot().context.log.snapshot;
      send(r.message);
      if (actor.getSnapshot().context.log.snapshot === before) return; // nothing new in it
      Object.assign(installs, { count: installs.count + 1, lastBytes: r.bytes,
        lastMs: performance.now() - r.startedMs });
      console.error(`${opts.id}: installed a snapshot at ${r.message.lastIncludedIndex} from ` +
        `${m.src}: ${r.bytes} bytes in ${r.chunks} chunks, ${installs.lastMs.toFixed(1)} ms`);
      return;
    }
    intake.accepted++;
    if (fromPeer) intake.acceptedFromPeers++;
    send(m);
    if (isClientRequest(m) && !flushPending) {
      // Requests that arrive together leave together: one AppendEntries per peer for the batch.
      flushPending = true;
      setImmediate(() => { flushPending = false; send({ type: 'Flush' }); });
    }
  };
  const bad = (e: WireError): void => count(errorKind(e), e.detail);
  actor.start();
  const ticker = setInterval(() => send({ type: 'Tick' }), opts.tickMs);
  return {
    receive: (bytes) => {
      intake.received++;
      const decoded = decodeDatagram(bytes);
      if (decoded._tag === 'Left') return bad(decoded.left);
      const m = decoded.right;
      if (!isForTheMachine(m) && m.type !== 'InstallSnapshotChunk') {
        return count('not-a-request', `${m.type} from ${m.src}`);
      }
      feed(m);
    },
    feed,
    state: () => actor.getSnapshot().context,
    dropped,
    intake,
    installs,
    count,
    stop: () => {
      clearInterval(ticker);
      actor.stop();
    },
  };
}
