/**
 * A client of a direct-mode cluster (`raftkv get/put/del/cas/ls --cluster HOST:PORT,...`, the crash
 * harness). It sends to the leader it last heard of, follows redirects, and retries a request that
 * got no answer at another replica, until its deadline. A redirect names the leader's id; the
 * client finds its address in the members it was given (a recorded layout) or asks the replica
 * that redirected for its status, which lists every member's address.
 *
 * [Raft dissertation §6.3] Before its first write, a client registers a session through the log:
 * the session's id is the index of its `register` entry, so no two clients ever share one (the
 * client's own 4-hex id only names it on the wire, and answers are routed by id and MID). Every
 * write carries the session and a request number (`seq`) that stays the same across its retries,
 * and the state machine applies a request number once per session: a put retried after its first
 * attempt was committed but not answered is not applied twice. One client runs one operation at a
 * time, which is what a single session needs. Reads need no session.
 *
 * A session expires once as many other sessions as the cluster's bound (`--max-sessions`, 1024
 * by default) were opened or written in since it was last used: a write in it is then answered
 * `expired` and rejected with `SessionExpiredError`, since an earlier copy of it may or may not
 * have been applied; the next write registers a new session.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { MAX_KEY_LENGTH, MAX_LIST_LIMIT, MAX_VALUE_LENGTH, type ClientRequest, type NodeId,
  type Page } from '../wire/messages.js';
import { decodeDatagram, decodeMessage } from '../wire/codec.js';
import { Defragmenter, wireTexts } from '../wire/fragments.js';
import { parseAddress, type Address } from '../replica/address.js';
import { queryStatus } from './status.js';

export interface ClientOptions {
  /** Replicas to ask: any one will do. An address, or its text, `HOST:PORT`. */
  readonly cluster: readonly (Address | string)[];
  /**
   * The client's id on the wire, 4 upper-case hex digits; replicas must not use it. Default:
   * random in 8000-FFFE. Two clients may share one: sessions and answers stay apart.
   */
  readonly clientId?: NodeId | string;
  /** How long one operation may take, retries included, before it fails. */
  readonly timeoutMs?: number;
  /** How long one attempt waits for an answer before the next replica is tried. */
  readonly attemptMs?: number;
  /** Every member's address by id, if known (a recorded layout): where a redirect leads. */
  readonly members?: ReadonlyMap<string, Address>;
  /** The member last known to lead: the first one asked. */
  readonly leader?: string;
  /** The cluster's secret, to ask a replica for its members' addresses (status is signed). */
  readonly secret?: string;
}

/** What a get read, or what a del or cas found before it wrote: a value, or none. */
export type Found = { readonly found: true; readonly value: string } | { readonly found: false };

/** A compare-and-swap's outcome: whether it wrote, and what the key held before. */
export interface CasResult {
  /** The key held the value expected (or was absent, if that was expected): the new one is in. */
  readonly swapped: boolean;
  /** What the key held when the cas took effect: the current value, when it did not swap. */
  readonly previous: Found;
}

/**
 * One page of a listing: pairs sorted by key (UTF-16 code unit order, as JavaScript compares
 * strings), and `next` when keys remain after them: pass it as `after` to get the next page.
 */
export interface ListPage {
  readonly pairs: readonly { readonly key: string; readonly value: string }[];
  readonly next?: string;
}

export interface ListOptions {
  /** Start after this key (a page's `next`). Default: from the first key. */
  readonly after?: string;
  /** The most pairs in the page, 1 to 1000 (the default). A page may hold fewer. */
  readonly limit?: number;
}

const foundOf = (value: string | undefined): Found =>
  (value === undefined ? { found: false } : { found: true, value });

/**
 * The operation's deadline passed without an `ok`, and no replica answered at all: none may be
 * running, or reachable. A write may or may not have happened (it may still be applied later).
 */
export class TimeoutError extends Error {
  constructor(readonly op: string, readonly timeoutMs: number, readonly tried: readonly string[],
    message = `${op}: no replica answered within ${timeoutMs} ms (tried ${tried.join(', ')})`) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/**
 * The deadline passed, and replicas answered, but none as a leader that took the request: they
 * redirected to no leader or to one that did not answer, or refused it as overloaded (an
 * election, a partition, a flood). A write may or may not have happened.
 */
export class NoLeaderError extends TimeoutError {
  constructor(op: string, timeoutMs: number, tried: readonly string[],
    readonly answered: readonly string[]) {
    super(op, timeoutMs, tried, `${op}: no leader answered within ${timeoutMs} ms (tried ` +
      `${tried.join(', ')}; ${answered.join(', ')} answered without one)`);
    this.name = 'NoLeaderError';
  }
}

/**
 * [§6.3] The client's session had expired when its write reached the log: that copy did nothing,
 * but an earlier copy of the same request may have been applied, so whether the write happened
 * is unknown (read the key to find out). The client's next write registers a new session.
 */
export class SessionExpiredError extends Error {
  constructor(readonly op: string, readonly session: number) {
    super(`${op}: session ${session} expired (as many other sessions were used since it was ` +
      'last as the cluster keeps); the write may or may not have happened');
    this.name = 'SessionExpiredError';
  }
}

/** A key or value over the wire's limits: refused before anything is sent. */
export class TooLargeError extends Error {
  constructor(readonly field: 'key' | 'value' | 'expected' | 'prefix' | 'after',
    readonly length: number,
    readonly limit: number) {
    super(`a ${field === 'expected' ? 'expected value' : field} of ${length} characters: the ` +
      `limit is ${limit}`);
    this.name = 'TooLargeError';
  }
}

const show = (a: Address): string => `${a.host}:${a.port}`;

/**
 * How long a client waits for a replica's status (its members' addresses) after a redirect to a
 * leader it cannot place: a replica that answered a request a moment ago answers this as fast.
 */
const STATUS_WAIT_MS = 200;

/** Less time than this left before the deadline starts no new attempt. */
const MIN_ATTEMPT_MS = 5;

/** A request's own fields: what the client asks, without the envelope, MID, session and seq. */
type Operation = ClientRequest extends infer R
  ? R extends ClientRequest ? Omit<R, 'src' | 'dst' | 'leader' | 'MID' | 'seq' | 'session'>
    : never
  : never;

/** What an `ok` carries: a value found, a page, or a register's session. */
interface Answer {
  readonly value?: string;
  readonly pairs?: Page;
  readonly next?: string;
  readonly session?: number;
}

interface Reply {
  readonly type: 'ok' | 'fail' | 'redirect' | 'expired';
  readonly from: Address;
  readonly src: NodeId;
  readonly leader: NodeId;
  readonly answer: Answer;
}

export class KvClient {
  readonly clientId: NodeId;
  /** Request numbers increase across runs of the same id too: they start from the clock. */
  private seq = Date.now() * 1000;
  private attempt = 0;
  /**
   * In every MID: two clients that picked the same wire id (and clock) still send different ones,
   * so neither takes the other's answer (replicas route answers by id and MID).
   */
  private readonly nonce = randomBytes(6).toString('hex');
  private leader: Address | undefined;
  private next = 0;
  /** What the replicas' answers taught: which id is at which address. */
  private readonly ids = new Map<string, Address>();
  private waiting: { mid: string; resolve: (r: Reply) => void } | undefined;
  /** The operations in flight, in call order: each starts when the one before has ended. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  /** A request or answer too large for a datagram travels as fragments (`wire/fragments.ts`). */
  private readonly fragments = new Defragmenter();
  private fragmentId = Math.floor(Math.random() * 2 ** 40);

  /** [§6.3] The session this client writes in (0: none yet, or its last one expired). */
  private sessionId = 0;

  /** The request number of the last operation: its session entry once it is applied. */
  get lastSeq(): number {
    return this.seq;
  }

  /** [§6.3] The session the client writes in: the index of its register entry; 0 for none yet. */
  get session(): number {
    return this.sessionId;
  }

  /** The id of the replica that last answered `ok`: the leader, as far as this client knows. */
  get leaderId(): string | undefined {
    const at = this.leader;
    return at === undefined ? undefined
      : [...this.ids].find(([, a]) => a.host === at.host && a.port === at.port)?.[0];
  }

  private constructor(private readonly socket: Socket, private readonly opts: ClientOptions,
    private readonly cluster: readonly Address[]) {
    // checked by `open`: 4 upper-case hex digits
    this.clientId = (opts.clientId
      ?? (0x8000 + Math.floor(Math.random() * 0x7fff)).toString(16).toUpperCase()) as NodeId;
    for (const [id, a] of opts.members ?? []) this.ids.set(id, a);
    if (opts.leader !== undefined) this.leader = this.ids.get(opts.leader);
    // the socket's errors (an ICMP refusal reported late, say) leave the attempt to time out
    socket.on('error', () => undefined);
    socket.on('message', (bytes, rinfo) => this.receive(bytes, { host: rinfo.address,
      port: rinfo.port }));
  }

  static async open(opts: ClientOptions): Promise<KvClient> {
    if (opts.cluster.length === 0) throw new Error('no cluster addresses');
    if (opts.clientId !== undefined && (!/^[0-9A-F]{4}$/.test(opts.clientId)
      || opts.clientId === 'FFFF')) {
      throw new Error(`bad clientId ${JSON.stringify(opts.clientId)}: expected 4 upper-case hex ` +
        'digits, not FFFF');
    }
    const cluster = opts.cluster.map((a) => {
      if (typeof a !== 'string') return a;
      const parsed = parseAddress(a);
      if (parsed === undefined) throw new Error(`bad cluster address ${JSON.stringify(a)}: ` +
        'expected HOST:PORT with an IPv4 host or localhost');
      return parsed;
    });
    // room for a large value's fragments arriving together
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    await new Promise<void>((resolve) => socket.bind(0, '0.0.0.0', resolve));
    return new KvClient(socket, { ...opts, cluster }, cluster);
  }

  /** [§6.4] A linearizable read: the key's value, or `{ found: false }` if it has none. */
  async get(key: string): Promise<Found> {
    return foundOf((await this.run({ type: 'get', key })).value);
  }

  async put(key: string, value: string): Promise<void> {
    await this.run({ type: 'put', key, value });
  }

  /**
   * [§6.3 RegisterClient] Open a new session now (a write opens one when it has none): its id.
   * The session the client wrote in before is left to expire.
   */
  async register(): Promise<number> {
    await this.run({ type: 'register' });
    return this.sessionId;
  }

  /** Removes the key; answers with what it held (`{ found: false }`: nothing was deleted). */
  async del(key: string): Promise<Found> {
    return foundOf((await this.run({ type: 'del', key })).value);
  }

  /**
   * Writes `value` if the key holds `expected` (`null`: only if the key is absent), in one step of
   * the log, so that concurrent writers cannot interleave between the comparison and the write.
   */
  async cas(key: string, expected: string | null, value: string): Promise<CasResult> {
    const previous = foundOf((await this.run({ type: 'cas', key, expected, value })).value);
    const swapped = previous.found ? previous.value === expected : expected === null;
    return { swapped, previous };
  }

  /**
   * [§6.4] One page of the keys that start with `prefix`, with their values: a linearizable read
   * of its own. A listing of several pages is not one snapshot: a key written between two pages
   * shows in the later page's state, or not at all if it sorts before that page.
   */
  async list(prefix = '', opts: ListOptions = {}): Promise<ListPage> {
    const limit = opts.limit ?? MAX_LIST_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new RangeError(`bad limit ${limit}: expected an integer from 1 to ${MAX_LIST_LIMIT}`);
    }
    const answer = await this.run({ type: 'list', prefix, limit,
      ...(opts.after === undefined ? {} : { after: opts.after }) });
    const pairs = (answer.pairs ?? []).map(([key, value]) => ({ key, value }));
    return answer.next === undefined ? { pairs } : { pairs, next: answer.next };
  }

  /** Every key that starts with `prefix`, page by page (each page its own read, as `list`). */
  async *listAll(prefix = '', opts: { readonly pageSize?: number } = {}):
    AsyncGenerator<{ readonly key: string; readonly value: string }> {
    let after: string | undefined;
    for (;;) {
      const page = await this.list(prefix, { limit: opts.pageSize ?? MAX_LIST_LIMIT,
        ...(after === undefined ? {} : { after }) });
      yield* page.pairs;
      if (page.next === undefined) return;
      after = page.next;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }

  /**
   * [§6.3] One operation at a time: a session holds one answer, so calls made together run one
   * after another, in call order (a second one sent at once would retire the first one's request
   * number, and a retry of the first would be answered with the second one's answer).
   */
  private run(op: Operation): Promise<Answer> {
    const result = this.queue.then(() => this.runNow(op));
    this.queue = result.then(() => undefined, () => undefined);
    return result;
  }

  /**
   * A write runs in a session: it registers one first if it has none, within the same deadline.
   */
  private async runNow(op: Operation): Promise<Answer> {
    if (this.closed) throw new Error('KvClient: used after close()');
    refuseTooLarge(op);
    const deadline = Date.now() + (this.opts.timeoutMs ?? 5000);
    const what = op.type === 'register' ? 'register'
      : `${op.type} ${op.type === 'list' ? op.prefix : op.key}`;
    if (op.type === 'register' || ((op.type === 'put' || op.type === 'del' || op.type === 'cas')
      && this.sessionId === 0)) {
      const answer = await this.attempts({ type: 'register' }, 0, deadline, what);
      if (answer.session === undefined) throw new Error(`${what}: a register answered no session`);
      this.sessionId = answer.session;
      if (op.type === 'register') return answer;
    }
    const session = op.type === 'put' || op.type === 'del' || op.type === 'cas'
      ? this.sessionId : 0;
    return this.attempts(op, session, deadline, what);
  }

  /** Send `op` until an `ok`, or the deadline. */
  private async attempts(op: Operation, session: number, deadline: number, what: string):
    Promise<Answer> {
    const timeoutMs = this.opts.timeoutMs ?? 5000;
    const attemptMs = this.opts.attemptMs ?? 300;
    const seq = ++this.seq;
    const tried = new Set<string>();
    const answered = new Set<string>();
    /** A large request that went unanswered, to send again as it was, once, to the same replica. */
    let again: { to: Address; request: ClientRequest; texts: string[] } | undefined;
    // a timer may fire a little before its time by Date.now(): a sliver left is not an attempt
    while (deadline - Date.now() > MIN_ATTEMPT_MS) {
      const to = again?.to ?? this.leader ?? this.pick();
      tried.add(show(to));
      let request = again?.request;
      let texts = again?.texts;
      if (request === undefined || texts === undefined) {
        const mid = `${this.clientId}.${this.nonce}.${seq}.${++this.attempt}`;
        const dst = [...this.ids].find(([, a]) => a.host === to.host && a.port === to.port)?.[0];
        request = { src: this.clientId, dst: dst ?? 'FFFF', leader: 'FFFF', MID: mid, seq,
          ...(session > 0 ? { session } : {}), ...op } as ClientRequest;
        texts = wireTexts(request, this.fragmentId++);
      }
      const reply = await this.send(request, texts, to, attemptMs, deadline - Date.now());
      if (reply === undefined) {
        // Silent: a part of a large request (or of its answer) may have been lost. The same
        // datagrams again fill the replica's gaps (it keeps the parts it has), once; then, as
        // for any silence, maybe dead or cut off: try another.
        again = again === undefined && texts.length > 1 ? { to, request, texts } : undefined;
        this.leader = undefined;
        continue;
      }
      again = undefined;
      if (reply.type === 'ok') {
        this.leader = reply.from;
        return reply.answer;
      }
      if (reply.type === 'expired') {
        this.leader = reply.from;
        // the next write registers a new session
        if (this.sessionId === session) this.sessionId = 0;
        throw new SessionExpiredError(what, session);
      }
      answered.add(show(reply.from));
      // redirect (or fail): go to the named leader; where it is, the redirecting replica knows
      if (reply.leader !== 'FFFF' && !this.ids.has(reply.leader)) {
        await this.learnMembers(reply.from, Math.min(STATUS_WAIT_MS, deadline - Date.now()));
      }
      this.leader = reply.leader === 'FFFF' ? undefined : this.ids.get(reply.leader);
      if (this.leader === undefined) await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
    }
    throw answered.size === 0 ? new TimeoutError(what, timeoutMs, [...tried])
      : new NoLeaderError(what, timeoutMs, [...tried], [...answered]);
  }

  /** Ask replica `at` for its members' addresses (its status answer lists them). */
  private async learnMembers(at: Address, waitMs: number): Promise<void> {
    if (waitMs <= 0) return;
    const [r] = await queryStatus([at], waitMs, this.opts.secret);
    for (const [id, text] of Object.entries(r?.members ?? {})) {
      const a = parseAddress(text);
      if (a !== undefined) this.ids.set(id, a);
    }
  }

  /** The next replica in turn, skipping the one that just failed us. */
  private pick(): Address {
    return this.cluster[this.next++ % this.cluster.length] as Address;
  }

  /**
   * One attempt: `request` (whose datagrams are `texts`) to `to`, waiting `attemptMs` for the answer, and 10 ms more for each
   * further datagram a large request takes (it must reach the leader, and its followers), but
   * never past `leftMs`.
   */
  private send(request: ClientRequest, texts: readonly string[], to: Address, attemptMs: number,
    leftMs: number): Promise<Reply | undefined> {
    const waitMs = Math.min(attemptMs + 10 * (texts.length - 1), leftMs);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.waiting = undefined; resolve(undefined); },
        Math.max(1, waitMs));
      this.waiting = { mid: request.MID, resolve: (r) => { clearTimeout(timer); resolve(r); } };
      // a send the network refuses (EACCES, EHOSTUNREACH) is an attempt without an answer
      for (const text of texts) this.socket.send(text, to.port, to.host, () => undefined);
    });
  }

  private receive(bytes: Buffer, from: Address): void {
    const decoded = decodeDatagram(bytes);
    if (decoded._tag === 'Left') return;
    let m = decoded.right;
    if (m.type === 'Fragment') {
      const r = this.fragments.accept(m);
      if (r.kind !== 'complete') return;
      const whole = decodeMessage(r.value);
      if (whole._tag === 'Left' || whole.right.src !== m.src) return;
      m = whole.right;
    }
    if (m.type !== 'ok' && m.type !== 'fail' && m.type !== 'redirect' && m.type !== 'expired') {
      return;
    }
    this.ids.set(m.src, from);
    const w = this.waiting;
    if (w === undefined || w.mid !== m.MID) return; // an earlier attempt's late answer
    this.waiting = undefined;
    w.resolve({ type: m.type, from, src: m.src, leader: m.leader,
      answer: m.type === 'ok' ? m : {} });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Throws TooLargeError for a key or value that no replica would take. */
function refuseTooLarge(op: Operation): void {
  const fields = op as { key?: string; prefix?: string; after?: string; value?: string;
    expected?: string | null };
  for (const field of ['key', 'prefix', 'after'] as const) {
    const v = fields[field];
    if (v !== undefined && v.length > MAX_KEY_LENGTH) {
      throw new TooLargeError(field, v.length, MAX_KEY_LENGTH);
    }
  }
  for (const field of ['value', 'expected'] as const) {
    const v = fields[field];
    if (typeof v === 'string' && v.length > MAX_VALUE_LENGTH) {
      throw new TooLargeError(field, v.length, MAX_VALUE_LENGTH);
    }
  }
}
