/**
 * The network simulator: N replica processes on loopback, every datagram through one UDP socket
 * of ours, routed as `shared/protocol/replica-udp.md` says. All routing, client and fault logic
 * is the shared fault model (`src/fault/run.ts`); this driver owns the socket, the processes and
 * the real clock.
 */
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { FaultRun, type RunProgress } from '../fault/run.js';
import type { Report } from '../fault/report.js';
import type { Scenario } from '../fault/scenario.js';
import { ReplicaProcesses, type ReplicaCommand } from './processes.js';

export interface NetsimOptions {
  readonly scenario: Scenario;
  readonly replica: ReplicaCommand;
  /** The command that reruns this run, for the report. */
  readonly rerun: string;
  /** No progress line. */
  readonly quiet?: boolean;
  /** Show every output line of the replicas. */
  readonly verbose?: boolean;
  readonly helloTimeoutMs?: number;
  /** Where progress and replica output go (stderr by default). */
  readonly log?: (text: string) => void;
  readonly onSpawn?: (pid: number) => void;
  /** Kill the replicas on SIGINT/SIGTERM of this process, then exit (the CLI wants this). */
  readonly handleSignals?: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function describeCommand(c: ReplicaCommand): string {
  return [c.command, ...c.args].join(' ');
}

function progressLine(p: RunProgress, s: Scenario): string {
  const t = (p.elapsedMs / 1000).toFixed(1);
  return `sim ${t} s of ${s.lifetime + s.end_wait} s  leader ${p.leader ?? 'none'}  ` +
    `answered ${p.answered}/${p.invoked} of ${p.total}  live ${p.live}/${s.replicas}`;
}

/** Calls `advance` whenever the next request, event or the end is due, until the end. */
function runTimeline(run: FaultRun, now: () => number): Promise<void> {
  return new Promise((resolve) => {
    const step = (): void => {
      const t = now();
      run.advance(t);
      if (run.isOver(t)) {
        resolve();
        return;
      }
      setTimeout(step, Math.max(0, (run.nextDueMs() ?? t) - now()));
    };
    step();
  });
}

/** Run one scenario with real processes and return its report. */
export async function runNetsim(opts: NetsimOptions): Promise<Report> {
  const log = opts.log ?? ((text: string) => { process.stderr.write(text); });
  const s = opts.scenario;
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const socket = createSocket({ type: 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
  let open = true;
  const run = new FaultRun(s, {
    send: (address, payload, delayMs) => {
      const colon = address.lastIndexOf(':');
      const text = payload.text ?? JSON.stringify(payload.value);
      const go = (): void => {
        if (open) socket.send(text, Number(address.slice(colon + 1)), address.slice(0, colon));
      };
      if (delayMs > 0) setTimeout(go, delayMs);
      else go();
    },
    kill: (id) => procs.kill(id),
  });
  const procs = new ReplicaProcesses(opts.replica, { verbose: opts.verbose ?? false, log,
    onSpawn: opts.onSpawn,
    onExit: (id, how) => {
      // Before clients start, a missing hello is the error that says it (waitForHellos).
      if (!run.exited(id, now(), how) || run.clientsStartMs === undefined) return;
      const tail = procs.tail(id);
      log(`\nreplica ${id} died unexpectedly (${how}); its last output:\n` +
        `${tail.map((l) => `[${id}] ${l}`).join('\n') || '(none)'}\n`);
    } });
  const interrupted = (): void => {
    procs.killAllNow();
    log('\nraftkv netsim: interrupted; every replica process group was sent SIGKILL\n');
    process.exit(130);
  };
  const onExit = (): void => procs.killAllNow();
  process.on('exit', onExit);
  if (opts.handleSignals === true) {
    process.on('SIGINT', interrupted);
    process.on('SIGTERM', interrupted);
  }
  let progress: NodeJS.Timeout | undefined;
  try {
    socket.on('error', (e) => log(`simulator socket: ${e.message}\n`));
    socket.on('message', (bytes, from) =>
      run.datagram(bytes.toString('utf8'), `${from.address}:${from.port}`, now()));
    const port = await new Promise<number>((resolve) =>
      socket.bind(0, '127.0.0.1', () => resolve(socket.address().port)));
    procs.start(port, run.network.all());
    await waitForHellos(run, procs, opts.helloTimeoutMs ?? 5000);
    run.begin(now());
    if (opts.quiet !== true) progress = startProgress(run, s, now, log);
    await runTimeline(run, now);
    return run.report(now(), { tool: 'netsim', replicaCommand: describeCommand(opts.replica), rerun: opts.rerun });
  } finally {
    if (progress !== undefined) clearInterval(progress);
    if (opts.quiet !== true && process.stderr.isTTY) log(`\r${' '.repeat(79)}\r`);
    run.stop();
    open = false;
    socket.close();
    await procs.stop();
    process.off('exit', onExit);
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}

async function waitForHellos(run: FaultRun, procs: ReplicaProcesses, timeoutMs: number):
  Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const waiting = (): boolean => {
    const missing = run.missingHellos();
    return missing.length > 0 && !missing.some((id) => procs.exitOf(id) !== undefined);
  };
  while (waiting() && performance.now() < deadline) await sleep(5);
  const missing = run.missingHellos();
  if (missing.length === 0) return;
  await sleep(50); // the output of a process that exited arrives through a pipe, a little later
  const lines = missing.map((id) => {
    const how = procs.exitOf(id);
    return `[${id}] ${how === undefined ? 'no hello' : `ended (${how})`}; last output: ` +
      `${procs.tail(id).slice(-5).join(' | ') || '(none)'}`;
  });
  throw new Error(`not every replica said hello (waited up to ${timeoutMs} ms):\n` +
    lines.join('\n'));
}

/** One line rewritten in place on a terminal; a line every 2 s otherwise (CI logs). */
function startProgress(run: FaultRun, s: Scenario, now: () => number,
  log: (text: string) => void): NodeJS.Timeout {
  const tty = process.stderr.isTTY;
  return setInterval(() => {
    const line = progressLine(run.progress(now()), s);
    log(tty ? `\r${line.padEnd(79)}` : `${line}\n`);
  }, tty ? 200 : 2000);
}
