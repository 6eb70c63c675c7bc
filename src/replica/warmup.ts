/**
 * JIT warm-up, before a replica serves. A replica sees a datagram every few milliseconds at most,
 * so V8 runs its hot path (decode, statechart step, encode) unoptimised for much of a run. In one
 * process, a follower's one-entry AppendEntries 30 ms apart cost 68 µs to decode and 92 µs to step
 * with no warm-up, 24 µs and 52 µs after 500 earlier ones. End to end, `steady-write-heavy`
 * shortened to 15 s gave a median latency of 1.6-1.9 ms without this warm-up and 1.3-1.5 ms with
 * it (paired runs, README "Latency").
 *
 * So the replica first runs a scratch cluster of its own statechart in memory, for a bounded time:
 * an election, then puts and gets through the leader, every message encoded to bytes and decoded
 * back with the wire codecs, so that V8 optimises the code and object shapes real datagrams take.
 * It has no I/O and shares nothing with the replica's own state (the core is pure), and steps the
 * statechart through the same pure transition the replica loop uses; it only costs
 * start-up time, while the first election timeout (a second or more) has not yet come.
 */
import type { ClientRequest, Message, NodeId } from '../wire/messages.js';
import { decodeDatagram, encodeMessage } from '../wire/codec.js';
import { pureInitial, pureStep, raftMachine, roleOf, type MachineSnapshot } from '../core/raft.js';
import type { RaftEvent } from '../core/machine.js';
import type { Effect } from '../core/state.js';
import type { TIMING as Timing } from './timing.js';

export interface WarmupStats {
  readonly steps: number;
  readonly requests: number;
  /** Requests answered `ok`: the scratch cluster really served them. */
  readonly answered: number;
  readonly ms: number;
}

const IDS = ['0000', '0001', '0002', '0003', '0004'] as NodeId[];
const CLIENT = '00C0' as NodeId;
/** Ticks between client requests: often enough for heartbeats and CheckQuorum to run too. */
const REQUESTS_PER_TICK = 4;

/**
 * Run the scratch cluster until `budgetMs` of wall time or `maxRequests` requests sent,
 * whichever comes first, with the replica's own timing.
 */
export function warmUp(timing: typeof Timing, budgetMs: number, maxRequests: number):
  WarmupStats {
  const t0 = performance.now();
  const queue: Buffer[] = [];
  let steps = 0;
  let answered = 0;
  const step = pureStep(raftMachine);
  const replicas = new Map<NodeId, MachineSnapshot>();
  const handle = (effects: readonly Effect[]): void => {
    for (const e of effects) {
      if (e.type === 'send') queue.push(Buffer.from(encodeMessage(e.message)));
      else if (e.type === 'reply') {
        encodeMessage(e.message); // the shell encodes every answer: warm that path too
        if (e.message.type === 'ok') answered++;
      }
    }
  };
  const send = (id: NodeId, event: RaftEvent): void => {
    const [next, effects] = step(replicas.get(id) as MachineSnapshot, event);
    replicas.set(id, next);
    handle(effects);
  };
  for (const [k, id] of IDS.entries()) {
    const [initial, effects] = pureInitial(raftMachine, { seed: 0x5eed + k,
      config: { id, peers: IDS.filter((p) => p !== id), ...timing } });
    replicas.set(id, initial);
    handle(effects);
  }
  const deliver = (bytes: Buffer): void => {
    const decoded = decodeDatagram(bytes);
    if (decoded._tag === 'Left') throw new Error(`warm-up: ${decoded.left.detail}`);
    const m: Message = decoded.right;
    if (!replicas.has(m.dst)) return;
    send(m.dst, m as RaftEvent);
    steps++;
  };
  const drain = (): void => {
    for (let bytes = queue.shift(); bytes !== undefined; bytes = queue.shift()) deliver(bytes);
  };
  const tick = (): void => {
    for (const id of replicas.keys()) send(id, { type: 'Tick' });
    steps += replicas.size;
    drain();
  };
  const leader = (): NodeId | undefined =>
    IDS.find((id) => { const s = replicas.get(id); return s !== undefined && roleOf(s) === 'Leader'; });
  const within = (): boolean => performance.now() - t0 < budgetMs;

  while (leader() === undefined && within()) tick();
  let requests = 0;
  while (requests < maxRequests && within()) {
    const to = leader();
    if (to === undefined) {
      tick();
      continue;
    }
    const request: ClientRequest = requests % 5 === 0
      ? { src: CLIENT, dst: to, leader: to, type: 'get', MID: `W${requests}`,
        key: `k${requests % 7}` }
      : { src: CLIENT, dst: to, leader: to, type: 'put', MID: `W${requests}`,
        key: `k${requests % 7}`, value: `warm-${requests}` };
    deliver(Buffer.from(encodeMessage(request)));
    send(to, { type: 'Flush' });
    steps++;
    drain();
    requests++;
    if (requests % REQUESTS_PER_TICK === 0) tick();
  }
  return { steps, requests, answered, ms: performance.now() - t0 };
}
