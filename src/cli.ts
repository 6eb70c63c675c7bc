#!/usr/bin/env node
/**
 * raftkv's command line.
 *   raftkv replica <port> <own id> <other id> [<other id> ...]   (simulator-routed mode)
 *   raftkv sim <scenario.json> [--replica <executable>] [--seed N] ...   (the network simulator)
 *   raftkv simulate <scenario.json> | --mix --seed N ...   (the deterministic simulation)
 * The replica says hello before it loads the core: the protocol wants the first datagram well
 * within 100 ms, and loading XState and io-ts takes longer than Node's own start-up.
 */
import { createSocket } from 'node:dgram';
import type { NodeId } from './wire/messages.js';

const HEX4 = /^[0-9A-F]{4}$/;

const REPLICA_USAGE = 'usage: raftkv replica <port> <own id> <other id> [<other id> ...]';
const SIM_USAGE = '       raftkv sim <scenario.json> [--replica <executable>] [--seed N] ' +
  '[--lifetime S] [--quiet] [--verbose] [--json <file>]';

const SIMULATE_USAGE = '       raftkv simulate <scenario.json> | --mix --seed N [--bug NAME] ' +
  '[--trace FILE] ...   (the deterministic simulation)';

function usage(message: string, text = REPLICA_USAGE): never {
  console.error(`${message}\n${text}`);
  process.exit(2);
}

function replica(args: readonly string[]): void {
  const [portText, id, ...peers] = args;
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) usage(`bad port: ${portText}`);
  const ids = [id, ...peers];
  if (peers.length === 0 || ids.some((x) => x === undefined || !HEX4.test(x) || x === 'FFFF')) {
    usage(`bad ids: ${ids.join(' ')}`);
  }
  const self = id as string;
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  // Datagrams that arrive while the core loads are kept, in order, not lost.
  const early: Buffer[] = [];
  const keep = (bytes: Buffer): void => { early.push(bytes); };
  socket.on('message', keep);
  // Not connected to the simulator's port: the protocol says where a replica sends, not where the
  // simulator sends from, and a connected socket would drop datagrams from any other port.
  socket.bind(0, '127.0.0.1', () => {
    const hello = { src: self, dst: 'FFFF', leader: 'FFFF', type: 'hello' };
    socket.send(JSON.stringify(hello), port, '127.0.0.1');
    void import('./replica/udp.js').then(({ startReplica, TICK_MS }) => {
      socket.off('message', keep);
      const seed = (Number.parseInt(self, 16) * 2654435761 + process.pid) >>> 0;
      const running = startReplica({ port, id: self as NodeId, peers: peers as NodeId[],
        tickMs: TICK_MS, seed }, socket, early);
      const stop = (): void => { running.stop(); process.exit(0); };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
  });
}

/** The simulator is loaded only when asked for, so that a replica's start-up stays fast. */
function sim(args: readonly string[]): void {
  import('./netsim/main.js').then(({ simMain }) => simMain(args)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}

/** The deterministic simulation: one run in virtual time, in this process. */
function simulate(args: readonly string[]): void {
  import('./sim/main.js').then(({ simulateMain }) => process.exit(simulateMain(args)),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'replica') replica(rest);
else if (command === 'sim') sim(rest);
else if (command === 'simulate') simulate(rest);
else {
  usage(`unknown command: ${command ?? '(none)'}`,
    `${REPLICA_USAGE}\n${SIM_USAGE}\n${SIMULATE_USAGE}`);
}
