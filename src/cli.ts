#!/usr/bin/env node
/**
 * raftkv's command line (`raftkv --help` lists the commands by task; `usage.ts` holds the help).
 *   raftkv replica <port> <own id> <other id> [<other id> ...]   (simulator-routed mode)
 *   raftkv replica --id ID --listen HOST:PORT --peer ID=HOST:PORT ... --data-dir DIR   (direct)
 *   raftkv cluster up|status|down|kill   (a local direct-mode cluster)
 *   raftkv get KEY | put KEY VALUE | del KEY [--cluster HOST:PORT,...]
 *   raftkv netsim <scenario.json> [--replica <executable>] [--seed N] ...   (the network simulator:
 *     real replica processes, routed over UDP)
 *   raftkv detsim <scenario.json> | --mix --seed N ...   (the deterministic simulation: every
 *     replica in this process, in virtual time)
 * `sim` and `simulate`, their old names, still run them this round, saying the new name.
 * The replica says hello before it loads the core: the protocol wants the first datagram well
 * within 100 ms, and loading XState and io-ts takes longer than Node's own start-up.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { NodeId } from './wire/messages.js';
import { shown } from './args.js';
import { commandHelp, REPLICA_USAGE, showHelp, topHelp } from './usage.js';

const HEX4 = /^[0-9A-F]{4}$/;

function usage(message: string, text = REPLICA_USAGE): never {
  console.error(`${message}\n${text}`);
  process.exit(2);
}

/**
 * A command that failed (a file it cannot read, a log it refuses) ends with one line and exit
 * code 1, never a stack trace; `RAFTKV_DEBUG=1` adds the stack for a developer.
 */
function fail(e: unknown): never {
  const message = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
  console.error(`raftkv ${command ?? ''}: ${message.slice(0, 500)}`);
  if (process.env['RAFTKV_DEBUG'] === '1') console.error(e);
  process.exit(1);
}

/** Loads a module only when its command runs, so that a replica's start-up stays fast. */
/**
 * Exit with `code` once standard output and error have taken everything written to them: to a
 * pipe they write asynchronously, and `process.exit` at once would cut a large value short.
 */
function exitAfterOutput(code: number): void {
  let pending = 2;
  const done = (): void => { if (--pending === 0) process.exit(code); };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

function run(load: () => Promise<number | void>): void {
  load().then((code) => { if (typeof code === 'number') exitAfterOutput(code); }, fail);
}

function replica(args: readonly string[]): void {
  if (args[0]?.startsWith('--') === true) {
    run(() => import('./replica/directMain.js').then(({ directMain }) => directMain(args)));
    return;
  }
  const [portText, id, ...peers] = args;
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    usage(`bad port: ${shown(portText ?? '')}`);
  }
  const ids = [id, ...peers];
  if (peers.length === 0 || ids.some((x) => x === undefined || !HEX4.test(x) || x === 'FFFF')) {
    usage(`bad ids: ${shown(ids.join(' '))}`);
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

/** The network simulator, loaded only when asked for, so that a replica's start-up stays fast. */
function netsim(args: readonly string[]): void {
  run(() => import('./netsim/main.js').then(({ simMain }) => simMain(args)));
}

/** The deterministic simulation: one run in virtual time, in this process. */
function detsim(args: readonly string[]): void {
  run(() => import('./detsim/main.js').then(({ simulateMain }) => simulateMain(args)));
}

/** An old command name: it still works this round, and says the new one. */
function renamed(old: string, now: string, go: (args: readonly string[]) => void,
  args: readonly string[]): void {
  console.error(`raftkv ${old} is now raftkv ${now}; the old name goes in the next release`);
  go(args);
}

/** Whether `args` ask for help: `--help` or `-h` before any `--`. */
function asksHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as
    { version?: string };
  return `raftkv ${pkg.version ?? 'unknown'}`;
}

/** `help`, `--help`, `--version` and unknown commands; undefined: a command to run. */
function meta(command: string | undefined, args: readonly string[]): number | undefined {
  if (command === undefined) {
    console.error(`raftkv: no command given\n\n${topHelp()}`);
    return 2;
  }
  if (command === '--help' || command === '-h') {
    console.log(topHelp());
    return 0;
  }
  if (command === '--version') {
    console.log(version());
    return 0;
  }
  if (command === 'help') {
    const [topic] = args;
    if (topic === undefined) {
      console.log(topHelp());
      return 0;
    }
    const c = commandHelp(ALIASES[topic] ?? topic);
    if (c === undefined) {
      console.error(`raftkv help: no command ${shown(topic)}\n\n${topHelp()}`);
      return 2;
    }
    console.log(showHelp(c));
    return 0;
  }
  const c = commandHelp(ALIASES[command] ?? command);
  if (c === undefined) {
    console.error(`raftkv: unknown command ${shown(command)}\n\n${topHelp()}`);
    return 2;
  }
  if (asksHelp(args)) {
    console.log(showHelp(c));
    return 0;
  }
  return undefined;
}

/** The old names of the two simulators, still run this round. */
const ALIASES: Readonly<Record<string, string>> = { sim: 'netsim', simulate: 'detsim' };

const [command, ...rest] = process.argv.slice(2);
const done = meta(command, rest);
if (done !== undefined) process.exit(done);
else if (command === 'replica') replica(rest);
else if (command === 'netsim') netsim(rest);
else if (command === 'detsim') detsim(rest);
else if (command === 'sim') renamed('sim', 'netsim', netsim, rest);
else if (command === 'simulate') renamed('simulate', 'detsim', detsim, rest);
else if (command === 'cluster') {
  run(() => import('./cluster/cluster.js').then(({ clusterMain }) => clusterMain(rest)));
} else if (command === 'crashtest') {
  run(() => import('./crash/main.js').then(({ crashMain }) => crashMain(rest)));
} else if (command === 'get' || command === 'put' || command === 'del' || command === 'cas'
  || command === 'ls') {
  run(() => import('./client/main.js').then(({ clientMain }) => clientMain(command, rest)));
}
