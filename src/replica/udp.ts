/**
 * The replica process in simulator-routed mode (`../shared/protocol/replica-udp.md`): one UDP socket
 * on 127.0.0.1, every datagram to the simulator's port. It only supplies the replica loop
 * (`loop.ts`) with real time and that socket; it keeps no disk, since the simulator never restarts
 * a replica (writes are dropped, messages leave in the order the core emitted them).
 */
import type { Socket } from 'node:dgram';
import type { NodeId } from '../wire/messages.js';
import { encodeMessage } from '../wire/codec.js';
import { realClock } from './clock.js';
import { ReplicaLoop } from './loop.js';
import { SNAPSHOT_ENTRIES, TIMING, WARMUP_MS, WARMUP_REQUESTS } from './timing.js';
import { warmUp } from './warmup.js';

export { TICK_MS, TIMING, WARMUP_MS } from './timing.js';

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

/**
 * Run the replica on `socket`, already bound to 127.0.0.1 and already past its hello (the CLI says
 * hello before it loads the core, so that the first datagram leaves within Node's start-up);
 * `early` holds the datagrams that arrived meanwhile, handled first, in order.
 */
export function startReplica(opts: ReplicaOptions, socket: Socket, early: readonly Buffer[] = []):
  { stop: () => void } {
  const warmupMs = opts.warmupMs ?? WARMUP_MS;
  if (warmupMs > 0) warmUp(TIMING, warmupMs, WARMUP_REQUESTS);
  const loop = new ReplicaLoop({
    config: { id: opts.id, peers: opts.peers, ...TIMING, snapshotEntries: SNAPSHOT_ENTRIES },
    seed: opts.seed,
    tickMs: opts.tickMs,
    clock: realClock,
    transport: { send: (m) => { socket.send(encodeMessage(m), opts.port, '127.0.0.1'); } },
    onFatal: () => undefined, // no disk, nothing can fail
    log: (line) => console.error(line),
  });
  for (const bytes of early) loop.receive(bytes);
  socket.on('message', (bytes) => loop.receive(bytes));
  return {
    stop: () => {
      loop.stop();
      socket.close();
      // the simulator-routed protocol has no status request: the counters go to the log at the end
      const { received, accepted } = loop.intake;
      console.error(`${opts.id}: received ${received} datagrams, accepted ${accepted}, dropped ` +
        `${JSON.stringify(Object.fromEntries(loop.dropped))}`);
    },
  };
}
