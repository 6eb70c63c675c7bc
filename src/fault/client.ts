/**
 * The clients of replica-udp.md. A request goes to the leader its client last heard of if that
 * replica is live, else to a random live replica. A `fail` or `redirect` is retried at once with
 * a NEW MID; an `ok` completes the operation; silence is never retried (an unanswered request
 * stays unanswered). Every response teaches its client the leader (`FFFF`: unknown).
 * The clients send through a callback and are told the time, so any driver can run them.
 *
 * With `sessions` they are direct mode's clients instead (`src/client/client.ts`) [§6.3]: each
 * runs one write at a time, registers a session before its first write (and again after an
 * `expired`), sends each write with its session and a request number that stays the same across
 * the write's attempts, and tries any request again after `retryMs` of silence, with a new MID.
 * So a write may reach the log more than once, and the state machine must apply it once. Reads
 * need no session and run at once, as another client of the same program would.
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
  readonly type: 'get' | 'put' | 'del' | 'cas' | 'list' | 'register';
  readonly MID: string;
  /** [§6.3] A write's session and request number (direct mode's clients only). */
  readonly session?: number;
  readonly seq?: number;
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
  readonly type: 'ok' | 'fail' | 'redirect' | 'expired';
  readonly MID: string;
  readonly value?: string;
  /** A register's `ok`: the session it opened. */
  readonly session?: number;
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
  /** Direct mode's clients: sessions, one operation at a time, retries after silence. */
  readonly sessions?: SessionOptions;
}

export interface SessionOptions {
  /** How long an attempt waits for its answer before the client tries again. */
  readonly retryMs: number;
  /** Run `fn` at `atMs` on the driver's clock. */
  readonly schedule: (atMs: number, fn: () => void) => void;
  /** The session table's bound the replicas keep (`Config.maxSessions`). */
  readonly maxSessions: number;
  /** A wrong answer the history cannot show: to a register, or an `expired` no table made. */
  readonly error: (text: string) => void;
}

/** [§6.3] One direct-mode client: its session, its request numbers, its writes in turn. */
interface SessionClient {
  /** The session it writes in: the index of its register entry; 0 for none. */
  session: number;
  seq: number;
  /** The write running, and the request number its attempts share. */
  current: { op: Operation; seq: number } | undefined;
  /** A register under way: its latest MID (an earlier one's answer is taken as well). */
  registering: string | undefined;
  /** Attempts of the register under way. */
  registers: number;
  readonly queue: PlannedRequest[];
}

/** A register's MID, and what came back for it. */
interface RegisterAttempt {
  readonly client: string;
  readonly answers: string[];
}

export class Clients {
  /** The leader each client last heard of. */
  private readonly leaders = new Map<string, string | undefined>();
  private readonly maxAttempts: number;
  private readonly sessionClients = new Map<string, SessionClient>();
  private readonly registerAttempts = new Map<string, RegisterAttempt>();
  /** Which client each session a register's ok named went to: two never share one. */
  private readonly sessionOwner = new Map<number, string>();
  private registerCount = 0;

  constructor(private readonly opts: ClientsOptions) {
    this.maxAttempts = opts.maxAttempts ?? MAX_ATTEMPTS_PER_OP;
    for (const id of opts.ids) {
      this.leaders.set(id, undefined);
      if (opts.sessions !== undefined) {
        this.sessionClients.set(id, { session: 0, seq: 0, current: undefined,
          registering: undefined, registers: 0, queue: [] });
      }
    }
  }

  /** Direct mode's clients, which write in sessions. */
  get hasSessions(): boolean {
    return this.opts.sessions !== undefined;
  }

  /** Register requests sent: each may open a session, so at most this many were ever opened. */
  get registersSent(): number {
    return this.registerCount;
  }

  isClient(id: string): boolean {
    return this.leaders.has(id);
  }

  knownLeader(client: string): string | undefined {
    return this.leaders.get(client);
  }

  /** Start a planned operation now (a direct-mode client: once the one before it ends). */
  invoke(req: PlannedRequest, nowMs: number): void {
    const c = this.sessionClients.get(req.client);
    // a read needs no session: it runs at once, as another client of the same program would
    if (c === undefined || req.kind === 'get' || req.kind === 'list') {
      this.attempt(this.record(req, nowMs), nowMs);
      return;
    }
    c.queue.push(req);
    if (c.current === undefined && c.registering === undefined) this.next(req.client, c, nowMs);
  }

  /** The history's operation for a planned request, invoked now. */
  private record(req: PlannedRequest, nowMs: number): Operation {
    return this.opts.history.invoke(req.client, req.kind, req.key, req.value, nowMs,
      req.expected, req);
  }

  /** A direct-mode client starts its next write, registering first if it has no session. */
  private next(client: string, c: SessionClient, nowMs: number): void {
    const req = c.queue[0];
    if (req === undefined) return;
    if (c.session === 0) {
      this.register(client, c, nowMs);
      return;
    }
    c.queue.shift();
    const op = this.record(req, nowMs);
    c.current = { op, seq: ++c.seq };
    this.attempt(op, nowMs);
  }

  /** [§6.3 RegisterClient] Ask for a session: each attempt may open one. */
  private register(client: string, c: SessionClient, nowMs: number): void {
    const to = this.target(client);
    if (to === undefined) {
      // no live replica: the operations wait for the next planned one, or the end
      c.registering = undefined;
      c.registers = 0;
      return;
    }
    const MID = `${client}-r${this.registerCount++}`;
    c.registering = MID;
    this.registerAttempts.set(MID, { client, answers: [] });
    this.opts.send({ src: client, dst: to, leader: this.leaders.get(client) ?? UNKNOWN_LEADER,
      MID, type: 'register', seq: ++c.seq });
    this.afterSilence(nowMs, ++c.registers, (atMs) => {
      if (c.registering === MID) this.register(client, c, atMs);
    });
  }

  /**
   * Run `fn` once the `n`th attempt (from 1) sent now has waited its time for an answer: `retryMs`,
   * doubled for each attempt before it up to 8 times as long, so that a cluster slow to commit
   * (large values on a lossy network) is not sent a new copy of each write faster than it commits
   * one.
   */
  private afterSilence(nowMs: number, n: number, fn: (atMs: number) => void): void {
    const s = this.opts.sessions;
    if (s === undefined) return;
    const atMs = nowMs + s.retryMs * 2 ** Math.min(n - 1, 3);
    s.schedule(atMs, () => fn(atMs));
  }

  private registerAnswer(r: ResponseDatagram, a: RegisterAttempt, nowMs: number): void {
    const c = this.sessionClients.get(a.client) as SessionClient;
    a.answers.push(r.type);
    const what = `${r.src} answered register ${r.MID} of ${a.client}`;
    if (r.dst !== a.client) this.opts.sessions?.error(`${what} to ${r.dst}`);
    if (a.answers.length > 1) {
      this.opts.sessions?.error(`${what} ${r.type} after ${a.answers[0] as string}`);
      return;
    }
    if (r.type === 'ok') {
      if (r.session === undefined) return this.opts.sessions?.error(`${what} ok without a session`);
      const owner = this.sessionOwner.get(r.session);
      if (owner !== undefined && owner !== a.client) {
        this.opts.sessions?.error(`${what} ok with session ${r.session}, already ${owner}'s`);
      }
      this.sessionOwner.set(r.session, a.client);
      // the answer to any of its attempts opens the session, as the real client takes any
      if (c.registering === undefined) return;
      c.registering = undefined;
      c.registers = 0;
      c.session = r.session;
      this.next(a.client, c, nowMs);
    } else if (r.type === 'expired') {
      this.opts.sessions?.error(`${what} expired, which a register never is`);
    } else if (c.registering === r.MID) this.register(a.client, c, nowMs);
  }

  /** A response from a replica, already decoded. */
  receive(r: ResponseDatagram, nowMs: number): void {
    if (this.leaders.has(r.dst)) {
      this.leaders.set(r.dst, r.leader === UNKNOWN_LEADER ? undefined : r.leader);
    }
    const registered = this.registerAttempts.get(r.MID);
    if (registered !== undefined) return this.registerAnswer(r, registered, nowMs);
    const page = r.pairs === undefined ? undefined : { pairs: r.pairs, next: r.next };
    const answer = { type: r.type, atMs: nowMs, from: r.src, to: r.dst, leader: r.leader,
      value: r.value, ...(page === undefined ? {} : { page }) };
    if (this.opts.history.answer(r.MID, answer) !== 'first') return;
    const attempt = this.opts.history.attempt(r.MID);
    const op = attempt === undefined ? undefined : this.opts.history.operation(attempt.op);
    // Only the answer to an operation's latest MID moves it on; earlier MIDs were answered (or,
    // in a session, given up after silence: the same request went again).
    if (op === undefined || op.status !== 'pending' || op.mids[op.mids.length - 1] !== r.MID) {
      return;
    }
    const c = this.sessionClients.get(op.client);
    if (r.type === 'ok') {
      this.opts.history.complete(op.id, nowMs, r.value, op.kind === 'list' ? page : undefined);
    } else if (r.type === 'expired' && c !== undefined) {
      // [§6.3] this copy did nothing, an earlier one may have: the outcome is unknown. A session
      // leaves the table only once more were opened than it keeps, and each register may open one
      const keep = this.opts.sessions?.maxSessions ?? 0;
      if (this.registerCount <= keep) {
        this.opts.sessions?.error(`${r.src} answered ${r.MID} expired, but only ` +
          `${this.registerCount} session(s) were ever asked for, and the replicas keep ${keep}`);
      }
      this.opts.history.giveUp(op.id, 'expired');
      // the write under way was sent in the current session: it changes only between writes
      if (c.current?.op === op) c.session = 0;
    } else return this.attempt(op, nowMs);
    this.ended(op, nowMs);
  }

  /** `op` has ended: if it was its client's write under way, the next write starts. */
  private ended(op: Operation, nowMs: number): void {
    const c = this.sessionClients.get(op.client);
    if (c === undefined || c.current?.op !== op) return;
    c.current = undefined;
    this.next(op.client, c, nowMs);
  }

  private target(client: string): string | undefined {
    const live = this.opts.view.live();
    const leader = this.leaders.get(client);
    if (leader !== undefined && live.includes(leader)) return leader;
    return this.opts.rng.pick(live);
  }

  private attempt(op: Operation, nowMs: number): void {
    const c = this.sessionClients.get(op.client);
    if (op.mids.length >= this.maxAttempts) {
      this.opts.history.giveUp(op.id, 'abandoned');
      this.ended(op, nowMs);
      return;
    }
    const to = this.target(op.client);
    if (to === undefined) {
      this.opts.history.giveUp(op.id, 'unsent');
      this.ended(op, nowMs);
      return;
    }
    const MID = `${op.client}-${op.id}-${op.mids.length}`;
    this.opts.history.send(op.id, MID, to, nowMs);
    const leader = this.leaders.get(op.client) ?? UNKNOWN_LEADER;
    let envelope: { src: string; dst: string; leader: string; MID: string; session?: number;
      seq?: number } = { src: op.client, dst: to, leader, MID };
    if (c !== undefined) {
      if (c.current?.op === op) {
        // every attempt of a write carries the same request number: it is applied once
        envelope = { ...envelope, seq: c.current.seq, session: c.session };
      } else if (op.kind !== 'get' && op.kind !== 'list') {
        throw new Error(`${op.client} would send write ${op.id} outside its session`);
      }
      this.afterSilence(nowMs, op.mids.length, (atMs) => {
        if (op.status === 'pending' && op.mids[op.mids.length - 1] === MID) this.attempt(op, atMs);
      });
    }
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
