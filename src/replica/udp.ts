/**
 * The replica process in simulator-routed mode (`../shared/protocol/replica-udp.md`): one UDP socket
 * on 127.0.0.1, every datagram to the simulator's port. A thin shell: decode a datagram, feed the
 * statechart, carry out its effects, drive time from a real clock. All Raft logic is in the core.
 */
import type { Socket } from 'node:dgram';
import { createActor } from 'xstate';
import type { ClientRequest, Message, NodeId, PeerMessage } from '../wire/messages.js';
import { decodeDatagram, encodeMessage, errorKind } from '../wire/codec.js';
import { raftMachine } from '../core/raft.js';
import type { Effect } from '../core/state.js';
import { warmUp } from './warmup.js';

export interface ReplicaOptions {
  readonly port: number;
  readonly id: NodeId;
  readonly peers: readonly NodeId[];
  /** Real time per Tick. */
  readonly tickMs: number;
  readonly seed: number;
  /** Wall time for the JIT warm-up before serving (`warmup.ts`); 0 skips it. */
  readonly warmupMs?: number;
}

/** The warm-up's default budget, and the most requests it runs. */
export const WARMUP_MS = 300;
const WARMUP_REQUESTS = 5000;

/**
 * Timers in ticks of 10 ms. The first election waits a second or more (the protocol asks for several
 * hundred ms). Heartbeats go only to peers the leader has not sent to for 300 ms: under load the
 * rotating flushes reach every peer sooner, so an idle cluster is where heartbeats cost messages.
 * A campaign without a quorum is retried after 400-800 ms: under heavy drops its requests, not its
 * peers, are what is missing.
 * A follower that heard from its leader within 20 ms redirects a client; otherwise it holds the
 * request until it hears from a leader.
 */
/** Real time per Tick, in the replica process and in the deterministic simulation. */
export const TICK_MS = 10;

export const TIMING = { electionTimeoutTicksMin: 100, electionTimeoutTicksMax: 200,
  campaignRetryTicksMin: 40, campaignRetryTicksMax: 80, heartbeatTicks: 30,
  redirectFreshTicks: 2 } as const;

const isClientRequest = (m: Message): boolean => m.type === 'get' || m.type === 'put';
/** Peer messages and client requests go to the statechart; hellos and answers are not for it. */
export const isForTheMachine = (m: Message): m is PeerMessage | ClientRequest =>
  m.type !== 'hello' && m.type !== 'ok' && m.type !== 'fail' && m.type !== 'redirect';

/**
 * Run the replica on `socket`, already bound to 127.0.0.1 and already past its hello (the CLI says
 * hello before it loads the core, so that the first datagram leaves within Node's start-up);
 * `early` holds the datagrams that arrived meanwhile, handled first, in order.
 */
export function startReplica(opts: ReplicaOptions, socket: Socket, early: readonly Buffer[] = []):
  { stop: () => void } {
  const warmupMs = opts.warmupMs ?? WARMUP_MS;
  if (warmupMs > 0) warmUp(TIMING, warmupMs, WARMUP_REQUESTS);
  const out = (m: Message): void => { socket.send(encodeMessage(m), opts.port, '127.0.0.1'); };
  const actor = createActor(raftMachine, {
    input: {
      seed: opts.seed,
      config: { id: opts.id, peers: opts.peers, ...TIMING },
    },
  });
  // Persist effects need no action here: the simulator never restarts a replica (durable storage
  // comes with the direct mode). Messages and answers leave in the order the core emitted them.
  actor.on('*', (e: Effect) => {
    if (e.type === 'send' || e.type === 'reply') out(e.message);
  });
  const badSeen = new Map<string, number>();
  let flushPending = false;
  const receive = (bytes: Buffer): void => {
    const decoded = decodeDatagram(bytes);
    if (decoded._tag === 'Left') {
      const kind = errorKind(decoded.left);
      const n = (badSeen.get(kind) ?? 0) + 1;
      badSeen.set(kind, n);
      if (n === 1) console.error(`${opts.id}: dropped a bad datagram (${kind}): ${decoded.left.detail}`);
      return;
    }
    const m = decoded.right;
    if (!isForTheMachine(m)) return;
    actor.send(m);
    if (isClientRequest(m) && !flushPending) {
      // Requests that arrive together leave together: one AppendEntries per peer for the batch.
      flushPending = true;
      setImmediate(() => { flushPending = false; actor.send({ type: 'Flush' }); });
    }
  };
  actor.start();
  for (const bytes of early) receive(bytes);
  socket.on('message', receive);
  const ticker = setInterval(() => actor.send({ type: 'Tick' }), opts.tickMs);
  return {
    stop: () => {
      clearInterval(ticker);
      actor.stop();
      socket.close();
    },
  };
}
