/**
 * The replica process in simulator-routed mode (`../shared/protocol/replica-udp.md`): one UDP socket
 * on 127.0.0.1, every datagram to the simulator's port. A thin shell over `runner.ts`: all Raft
 * logic is in the core.
 */
import type { Socket } from 'node:dgram';
import type { Message, NodeId } from '../wire/messages.js';
import { encodeMessage } from '../wire/codec.js';
import { toDatagrams } from '../wire/chunks.js';
import { startRunner } from './runner.js';

export { TICK_MS, TIMING, WARMUP_MS } from './runner.js';

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
  // [§7] a snapshot leaves as chunks that each fit in a datagram (`wire/chunks.ts`)
  const out = (whole: Message): void => {
    for (const m of toDatagrams(whole)) socket.send(encodeMessage(m), opts.port, '127.0.0.1');
  };
  // Persist effects need no action here: the simulator never restarts a replica, so this mode
  // keeps no disk (the direct mode does, `direct.ts`). Messages and answers leave in the order
  // the core emitted them.
  const runner = startRunner(opts, (effects) => {
    for (const e of effects) if (e.type === 'send' || e.type === 'reply') out(e.message);
  });
  for (const bytes of early) runner.receive(bytes);
  socket.on('message', (bytes) => runner.receive(bytes));
  return {
    stop: () => {
      runner.stop();
      socket.close();
      // the simulator-routed protocol has no status request: the counters go to the log at the end
      const { received, accepted } = runner.intake;
      console.error(`${opts.id}: received ${received} datagrams, accepted ${accepted}, dropped ` +
        `${JSON.stringify(Object.fromEntries(runner.dropped))}`);
    },
  };
}
