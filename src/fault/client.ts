/**
 * The clients of replica-udp.md. A request goes to the leader its client last heard of if that
 * replica is live, else to a random live replica. A `fail` or `redirect` is retried at once with
 * a NEW MID; an `ok` completes the operation; silence is never retried (an unanswered request
 * stays unanswered). Every response teaches its client the leader (`FFFF`: unknown).
 * The clients send through a callback and are told the time, so any driver can run them.
 */
import type { History, Operation } from './history.js';
import type { Rng } from './rng.js';
import type { ClusterView } from './schedule.js';
import type { PlannedRequest } from './workload.js';

export const UNKNOWN_LEADER = 'FFFF';

/** Attempts per operation before the client gives up: a storm guard, reported when it fires. */
export const MAX_ATTEMPTS_PER_OP = 1000;

export interface RequestDatagram {
  readonly src: string;
  readonly dst: string;
  readonly leader: string;
  readonly type: 'get' | 'put' | 'del' | 'cas' | 'list';
  readonly MID: string;
  /** Every request's but a list's, which names a `prefix` instead. */
  readonly key?: string;
  readonly value?: string;
  readonly expected?: string | null;
  readonly prefix?: string;
  readonly after?: string;
  readonly limit?: number;
}

export interface ResponseDatagram {
  readonly src: string;
  readonly dst: string;
  readonly leader: string;
  readonly type: 'ok' | 'fail' | 'redirect';
  readonly MID: string;
  readonly value?: string;
  /** A list's page. */
  readonly pairs?: readonly (readonly [string, string])[];
  readonly next?: string;
}

export interface ClientsOptions {
  readonly ids: readonly string[];
  readonly view: ClusterView;
  readonly rng: Rng;
  readonly history: History;
  readonly send: (request: RequestDatagram) => void;
  readonly maxAttempts?: number;
}

export class Clients {
  /** The leader each client last heard of. */
  private readonly leaders = new Map<string, string | undefined>();
  private readonly maxAttempts: number;

  constructor(private readonly opts: ClientsOptions) {
    this.maxAttempts = opts.maxAttempts ?? MAX_ATTEMPTS_PER_OP;
    for (const id of opts.ids) this.leaders.set(id, undefined);
  }

  isClient(id: string): boolean {
    return this.leaders.has(id);
  }

  knownLeader(client: string): string | undefined {
    return this.leaders.get(client);
  }

  /** Start a planned operation now. */
  invoke(req: PlannedRequest, nowMs: number): Operation {
    const op = this.opts.history.invoke(req.client, req.kind, req.key, req.value, nowMs,
      req.expected, req);
    this.attempt(op, nowMs);
    return op;
  }

  /** A response from a replica, already decoded. */
  receive(r: ResponseDatagram, nowMs: number): void {
    if (this.leaders.has(r.dst)) {
      this.leaders.set(r.dst, r.leader === UNKNOWN_LEADER ? undefined : r.leader);
    }
    const page = r.pairs === undefined ? undefined : { pairs: r.pairs, next: r.next };
    const answer = { type: r.type, atMs: nowMs, from: r.src, to: r.dst, leader: r.leader,
      value: r.value, ...(page === undefined ? {} : { page }) };
    if (this.opts.history.answer(r.MID, answer) !== 'first') return;
    const attempt = this.opts.history.attempt(r.MID);
    const op = attempt === undefined ? undefined : this.opts.history.operation(attempt.op);
    // Only the answer to an operation's latest MID moves it on; earlier MIDs were all answered.
    if (op === undefined || op.status !== 'pending' || op.mids[op.mids.length - 1] !== r.MID) {
      return;
    }
    if (r.type === 'ok') {
      this.opts.history.complete(op.id, nowMs, r.value, op.kind === 'list' ? page : undefined);
    } else this.attempt(op, nowMs);
    return;
  }

  private target(client: string): string | undefined {
    const live = this.opts.view.live();
    const leader = this.leaders.get(client);
    if (leader !== undefined && live.includes(leader)) return leader;
    return this.opts.rng.pick(live);
  }

  private attempt(op: Operation, nowMs: number): void {
    if (op.mids.length >= this.maxAttempts) {
      this.opts.history.giveUp(op.id, 'abandoned');
      return;
    }
    const to = this.target(op.client);
    if (to === undefined) {
      this.opts.history.giveUp(op.id, 'unsent');
      return;
    }
    const MID = `${op.client}-${op.id}-${op.mids.length}`;
    this.opts.history.send(op.id, MID, to, nowMs);
    const leader = this.leaders.get(op.client) ?? UNKNOWN_LEADER;
    const envelope = { src: op.client, dst: to, leader, MID };
    const base = { ...envelope, key: op.key };
    switch (op.kind) {
      case 'list': return this.opts.send({ ...envelope, type: 'list', prefix: op.key,
        ...(op.after === undefined ? {} : { after: op.after }),
        ...(op.limit === undefined ? {} : { limit: op.limit }) });
      case 'get': case 'del': return this.opts.send({ ...base, type: op.kind });
      case 'put': return this.opts.send({ ...base, type: 'put', value: op.value ?? '' });
      case 'cas': return this.opts.send({ ...base, type: 'cas', value: op.value ?? '',
        expected: op.expected ?? null });
    }
  }
}
