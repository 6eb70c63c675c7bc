/**
 * The replica processes of a network-simulator run. Each one runs in its own process group
 * (`detached`), so that a kill reaches whatever the replica started too, and every signal goes to
 * a group we created, by its PID, never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** How to start a replica: `command ...args <port> <id> <other ids...>`. */
export interface ReplicaCommand {
  readonly command: string;
  readonly args: readonly string[];
}

export interface ProcessesOptions {
  /** Print every output line of the replicas as it comes (prefixed with the id). */
  readonly verbose: boolean;
  readonly log: (text: string) => void;
  /** A replica process ended or could not start. */
  readonly onExit: (id: string, how: string) => void;
  readonly onSpawn?: (pid: number) => void;
}

/** Output lines kept per replica, shown when it dies unexpectedly. */
const TAIL_LINES = 40;

interface Replica {
  readonly child: ChildProcess;
  readonly tail: string[];
  exited: boolean;
  how: string | undefined;
}

export class ReplicaProcesses {
  private readonly replicas = new Map<string, Replica>();

  constructor(private readonly cmd: ReplicaCommand, private readonly opts: ProcessesOptions) {}

  /** Start one process per id; the other ids go in id order. */
  start(port: number, ids: readonly string[]): void {
    for (const id of ids) {
      const args = [...this.cmd.args, String(port), id, ...ids.filter((x) => x !== id)];
      const child = spawn(this.cmd.command, args, { detached: true,
        stdio: ['ignore', 'pipe', 'pipe'] });
      const replica: Replica = { child, tail: [], exited: false, how: undefined };
      this.replicas.set(id, replica);
      if (child.pid !== undefined) this.opts.onSpawn?.(child.pid);
      this.capture(id, replica);
      const ended = (how: string): void => {
        if (replica.exited) return;
        replica.exited = true;
        replica.how = how;
        this.opts.onExit(id, how);
      };
      child.on('error', (e) => ended(`could not start ${this.cmd.command}: ${e.message}`));
      child.on('exit', (code, signal) => ended(signal === null ? `exit code ${code}`
        : `signal ${signal}`));
    }
  }

  private capture(id: string, replica: Replica): void {
    for (const stream of [replica.child.stdout, replica.child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          replica.tail.push(line);
          if (replica.tail.length > TAIL_LINES) replica.tail.shift();
          if (this.opts.verbose) this.opts.log(`[${id}] ${line}\n`);
        }
      });
    }
  }

  /** The last output lines of a replica. */
  tail(id: string): readonly string[] {
    return this.replicas.get(id)?.tail ?? [];
  }

  /** How a replica's process ended, if it has. */
  exitOf(id: string): string | undefined {
    return this.replicas.get(id)?.how;
  }

  pids(): number[] {
    return [...this.replicas.values()].flatMap((r) => (r.child.pid === undefined ? []
      : [r.child.pid]));
  }

  /** SIGKILL a replica's process group: the crash of a fault event. */
  kill(id: string): void {
    const r = this.replicas.get(id);
    if (r !== undefined) signalGroup(r, 'SIGKILL');
  }

  /**
   * End every replica: SIGTERM to each process group, up to `graceMs` to exit, then SIGKILL to
   * the groups whose leader is still running. A group whose leader has exited is not signalled:
   * its PID may already belong to another process.
   */
  async stop(graceMs = 1000): Promise<void> {
    for (const r of this.replicas.values()) signalGroup(r, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && [...this.replicas.values()].some((r) => !r.exited)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.killAllNow();
    for (const r of this.replicas.values()) {
      r.child.stdout?.destroy();
      r.child.stderr?.destroy();
    }
  }

  /** SIGKILL every running replica at once (synchronous: for exit and signal handlers). */
  killAllNow(): void {
    for (const r of this.replicas.values()) signalGroup(r, 'SIGKILL');
  }
}

function signalGroup(r: Replica, signal: NodeJS.Signals): void {
  const pid = r.child.pid;
  if (r.exited || pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already; the 'exit' event is on its way.
  }
}
