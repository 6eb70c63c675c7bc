/**
 * The exhaustive checker's model (`npm run check:exhaustive`): a world of N replica statecharts,
 * the machine a replica runs (`raftMachine`, or a catalog mutant's), stepped through its pure
 * transition (`pureStep`); the network as the spec's bag of messages (a send adds a copy, a
 * delivery takes one, a copy may be dropped or duplicated); and clients that each send one request:
 * a register [§6.3], a put (in the session of a client whose register was answered, as that
 * client's second request, or else without a session), or a get.
 * No rule is restated here: every step is the statechart's own.
 *
 * Time is not modelled: each timer is an event that may fire whenever its role has it
 * (`ElectionTimeout`, `LeaderStale`, `CheckQuorum`, a leader's `Replicate` to any peers, and
 * `TakeSnapshot`), as the spec lets them. Writes are durable at the end of the step that made them
 * (the spec's `persist` right after each step), so a crash (`Restart`) loses no synced write; the
 * deterministic simulation covers torn and lost writes on its simulated disk.
 *
 * States are identified by the spec's abstraction (`core/abstract.ts`: no tick counters, clocks,
 * PRNG state or pacing), the network, the clients' history and the checkers' ghost state
 * (`model.encode`), optionally up to a renaming of the servers (symmetry, `symmetry.test.ts`).
 */
import { initialTransition } from 'xstate';
import type { ClientRequest, Entry, NodeId, PeerMessage } from '../wire/messages.js';
import { abstractMessage, abstractServer, type AbstractServer } from '../core/abstract.js';
import {
  pureStep, roleOf, type MachineSnapshot, type PureStep, type RaftMachine,
} from '../core/raft.js';
import type { RaftEvent } from '../core/machine.js';
import { entryAt, lastLogIndex, snapshotIndex } from '../core/log.js';
import {
  defaultConfig, persistedOf, quorum, type Config, type Effect, type RaftState, type Role,
} from '../core/state.js';
import { SafetyChecker, type SafetyData, type Violation } from '../check/safety.js';
import { stepProperties, VoteLedger } from '../check/stepRules.js';
import { checkRegisterHistory, describeOp, type RegisterOp } from '../fault/linearizability.js';
import { canonical, serverIds } from '../explorer/cluster.js';

/** The bounds of a search: each named on the command line (`main.ts`). */
export interface Bounds {
  readonly servers: number;
  /** No server's term goes above this. */
  readonly maxTerm: number;
  /** No server's log (snapshot included) grows past this many entries. */
  readonly maxLog: number;
  /** Client requests in all: registers, puts and gets. */
  readonly clients: number;
  /**
   * Re-sends in all: a client whose request has no `ok` answer yet (none, a redirect, a fail)
   * sends it again, unchanged, to any server, as the spec's clients retry (its `isRetry`); a put
   * without a session is never sent again (a second copy could apply twice).
   */
  readonly retries: number;
  readonly keys: number;
  /** Copies of one message in flight. */
  readonly copies: number;
  /** Messages in flight in all, copies counted (the spec's MaxMessages). */
  readonly maxInFlight: number;
  /** Crashes (restarts from disk) in all. */
  readonly crashes: number;
  /** Servers may snapshot and compact their logs (and leaders send InstallSnapshot). */
  readonly snapshots: boolean;
  /** Entries per AppendEntriesRequest (the spec's MaxBatch). */
  readonly maxBatch: number;
  /** Count states up to a renaming of the servers. */
  readonly symmetry: boolean;
}

export interface InFlight { readonly message: PeerMessage; readonly count: number }

/** A client request and what came back: the history the linearizability check reads. */
export interface ClientOp {
  readonly kind: 'register' | 'put' | 'get';
  /** Who sends it, its number, and the session it writes in (0: none). */
  readonly client: NodeId;
  readonly seq: number;
  readonly session: number;
  readonly key: string;
  readonly value: string | undefined;
  /** Positions in the history's order of invocations and answers. */
  readonly invokedAt: number;
  readonly answer: 'ok' | 'redirect' | 'fail' | 'expired' | undefined;
  /** A get's value read; a register's session. */
  readonly read: string | undefined;
  readonly answeredAt: number;
  /** Sends of the request (1 + its retries), and which of them (a bit each) got an answer. */
  readonly sends: number;
  readonly answeredSends: number;
}

export interface World {
  /** Server i's statechart; its id is `ids[i]`. */
  readonly servers: readonly MachineSnapshot[];
  readonly bag: ReadonlyMap<string, InFlight>;
  readonly ops: readonly ClientOp[];
  /** History events so far (invocations and answers). */
  readonly clock: number;
  readonly crashes: number;
  readonly retries: number;
  /** The Figure-3 checker's ghost (`check/safety.ts`) and the votes granted (`VoteLedger`). */
  readonly safety: SafetyChecker;
  readonly votes: VoteLedger;
}

/** A world as structured-clonable data, to keep a frontier compact (`v8.serialize`). */
export interface WorldData {
  readonly servers: readonly { readonly value: unknown; readonly context: unknown }[];
  readonly bag: ReadonlyMap<string, InFlight>;
  readonly ops: readonly ClientOp[];
  readonly clock: number;
  readonly crashes: number;
  readonly retries: number;
  readonly safety: SafetyData;
  readonly votes: ReadonlyMap<string, string>;
}

export type Move =
  | { readonly kind: 'timeout' | 'stale' | 'checkQuorum' | 'snapshot' | 'restart';
      readonly server: number }
  | { readonly kind: 'replicate'; readonly server: number; readonly to: readonly number[] }
  | { readonly kind: 'put' | 'get'; readonly server: number; readonly key: string }
  | { readonly kind: 'register'; readonly server: number }
  | { readonly kind: 'retry'; readonly server: number; readonly op: number }
  | { readonly kind: 'deliver' | 'drop' | 'duplicate'; readonly key: string };

/** A step's outcome: the next world, or a violation found on the way there. */
export type Outcome =
  | { readonly world: World; readonly violation?: undefined }
  | { readonly world?: World; readonly violation: Violation };

const KEYS = ['k', 'j', 'i', 'h'];

export const keyNames = (b: Bounds): string[] => KEYS.slice(0, b.keys);

/** Client request `op` comes from its own client, with its own message id. */
export const clientOf = (op: number): NodeId => `00C${op.toString(16).toUpperCase()}` as NodeId;
export const midOf = (op: number, send = 0): string => `m${op}${send === 0 ? '' : `r${send}`}`;
/** The request and the send a message id names (`midOf`), if it names one. */
export function sendOf(mid: string): { op: number; send: number } | undefined {
  const m = /^m(\d+)(?:r(\d+))?$/.exec(mid);
  return m === null ? undefined : { op: Number(m[1]), send: Number(m[2] ?? 0) };
}
/** The next put's value: puts are numbered from 1, as the spec's `nextValue` numbers them. */
export const putValue = (ops: readonly ClientOp[]): number =>
  ops.filter((o) => o.kind === 'put').length + 1;

export const messageKey = (m: PeerMessage): string => canonical(abstractMessage(m));

interface Memo {
  readonly abs: AbstractServer;
  /** The server's encoding without its fields that name servers: the same under any renaming. */
  readonly body: string;
  /** The encoding with every other server's id blanked: the same under any renaming. */
  readonly invariant: string;
  readonly byPerm: Map<string, string>;
}

/**
 * A server step as it happened: which server, its snapshots before and after, and what it emitted
 * (the spec verdict, `specTrace.ts`, records the spec action and the answers from them).
 */
export type StepTap = (server: number, before: MachineSnapshot, after: MachineSnapshot,
  effects: readonly Effect[]) => void;

export interface ModelOptions {
  /** Emit `trace` effects naming each spec action taken (`config.trace`); no state changes. */
  readonly trace?: boolean;
  readonly tap?: StepTap;
}

/** What a search needs besides the world: the machine, its step, the bounds, the ids. */
export class Model {
  readonly ids: readonly NodeId[];
  readonly step: PureStep;
  private readonly config: Config;
  /** Each server's config, as its initial state holds it. */
  private readonly configs: Config[] = [];
  private readonly memo = new WeakMap<MachineSnapshot, Memo>();
  private readonly messageMemo = new Map<string, Map<string, string>>();

  private readonly tap: StepTap | undefined;

  constructor(readonly bounds: Bounds, readonly machine: RaftMachine, opts: ModelOptions = {}) {
    this.ids = serverIds(bounds.servers);
    this.step = pureStep(machine);
    this.tap = opts.tap;
    // Every replicate is its own step (no catch-up sends inside a response's step): the spec's
    // granularity, and the same states, since any catch-up send is also a `Replicate` move.
    // [§6.3] one session kept: a second register expires the first, so expiry is in reach
    this.config = { ...defaultConfig, maxBatch: bounds.maxBatch, catchUp: false, maxSessions: 1,
      snapshotEntries: 0, trace: opts.trace === true };
    this.initial(); // sets `configs`
  }

  initial(): World {
    const servers = this.ids.map((id, i) => {
      const peers = this.ids.filter((p) => p !== id);
      const [s] = initialTransition(this.machine,
        { config: { ...this.config, id, peers }, seed: 1000 + i });
      this.configs[i] = s.context.config;
      return s;
    });
    const safety = new SafetyChecker(quorum(servers[0]?.context.config ?? this.config));
    for (const s of servers) safety.step(s.context, roleOf(s), 1);
    return { servers, bag: new Map(), ops: [], clock: 0, crashes: 0, retries: 0, safety,
      votes: new VoteLedger() };
  }

  toData(w: World): WorldData {
    // each server's config is the model's: left out, and put back by `fromData`
    return { servers: w.servers.map((s) => ({ value: s.value,
      context: { ...s.context, config: undefined } })), bag: w.bag,
      ops: w.ops, clock: w.clock, crashes: w.crashes, retries: w.retries,
      safety: w.safety.toData(),
      votes: w.votes.toData() };
  }

  fromData(d: WorldData): World {
    return {
      servers: d.servers.map((s, i) => this.machine.resolveState({ value: s.value,
        context: { ...(s.context as RaftState), config: this.configs[i] as Config } } as
        Parameters<RaftMachine['resolveState']>[0])),
      bag: d.bag, ops: d.ops, clock: d.clock, crashes: d.crashes, retries: d.retries,
      safety: SafetyChecker.fromData(d.safety), votes: VoteLedger.fromData(d.votes),
    };
  }

  role(w: World, i: number): Role {
    return roleOf(w.servers[i] as MachineSnapshot);
  }

  /** The moves enabled in `w`, in a fixed order: a trace names a move by its place here. */
  moves(w: World): Move[] {
    const b = this.bounds;
    const list: Move[] = [];
    const inFlight = [...w.bag.values()].reduce((n, f) => n + f.count, 0);
    for (let i = 0; i < w.servers.length; i++) {
      const s = (w.servers[i] as MachineSnapshot).context;
      const role = this.role(w, i);
      if (role !== 'Leader' && s.currentTerm < b.maxTerm) list.push({ kind: 'timeout', server: i });
      if (role === 'Follower' && s.leaderFresh) list.push({ kind: 'stale', server: i });
      if (role === 'Leader') {
        const peers = this.ids.map((_, k) => k).filter((k) => k !== i);
        for (const p of peers) list.push({ kind: 'replicate', server: i, to: [p] });
        if (peers.length > 1) list.push({ kind: 'replicate', server: i, to: peers });
        list.push({ kind: 'checkQuorum', server: i });
      }
      if (b.snapshots && s.commitIndex > snapshotIndex(s.log)) {
        list.push({ kind: 'snapshot', server: i });
      }
      if (w.crashes < b.crashes) list.push({ kind: 'restart', server: i });
      if (w.ops.length < b.clients) {
        list.push({ kind: 'register', server: i });
        for (const key of keyNames(b)) {
          list.push({ kind: 'put', server: i, key });
          list.push({ kind: 'get', server: i, key });
        }
      }
      if (w.retries < b.retries) {
        w.ops.forEach((o, op) => {
          if (o.answer !== 'ok' && o.answer !== 'expired' && (o.kind !== 'put' || o.session > 0)) {
            list.push({ kind: 'retry', server: i, op });
          }
        });
      }
    }
    for (const key of [...w.bag.keys()].sort()) {
      const f = w.bag.get(key) as InFlight;
      list.push({ kind: 'deliver', key });
      list.push({ kind: 'drop', key });
      if (f.count < b.copies && inFlight < b.maxInFlight) list.push({ kind: 'duplicate', key });
    }
    return list;
  }

  /** A move in words, for traces. */
  describe(w: World, m: Move): string {
    const id = (i: number): string => this.ids[i] as string;
    switch (m.kind) {
      case 'timeout': return `${id(m.server)} ElectionTimeout`;
      case 'stale': return `${id(m.server)} LeaderStale`;
      case 'checkQuorum': return `${id(m.server)} CheckQuorum`;
      case 'snapshot': return `${id(m.server)} TakeSnapshot`;
      case 'restart': return `${id(m.server)} crashes and restarts from its disk`;
      case 'replicate': return `${id(m.server)} Replicate to ${m.to.map(id).join(',')}`;
      case 'register': return `client ${clientOf(w.ops.length)} register to ${id(m.server)}`;
      case 'put': {
        const o = newOp(w, 'put', m.key);
        return `client ${o.client} put ${m.key}=${putValue(w.ops)}` +
          `${o.session > 0 ? ` in session ${o.session}` : ''} to ${id(m.server)}`;
      }
      case 'get': return `client ${clientOf(w.ops.length)} get ${m.key} to ${id(m.server)}`;
      case 'retry': {
        const o = w.ops[m.op] as ClientOp;
        return `client ${o.client} retries ${o.kind}${o.kind === 'register' ? '' : ` ${o.key}`}` +
          `${o.kind === 'put' ? `=${o.value ?? ''}` : ''} to ${id(m.server)}`;
      }
      case 'deliver': case 'drop': case 'duplicate': {
        const msg = (w.bag.get(m.key) as InFlight).message;
        return `${m.kind} ${describeMessage(msg)}`;
      }
    }
  }

  /** Take move `m` in `w`. Undefined: the step leaves the bounds (it is not explored). */
  apply(w: World, m: Move): Outcome | undefined {
    switch (m.kind) {
      case 'drop': return { world: { ...w, bag: taken(w.bag, m.key) } };
      case 'duplicate': {
        const f = w.bag.get(m.key) as InFlight;
        return { world: { ...w, bag: new Map(w.bag).set(m.key, { ...f, count: f.count + 1 }) } };
      }
      case 'deliver': {
        const f = w.bag.get(m.key) as InFlight;
        const to = this.ids.indexOf(f.message.dst);
        return this.event({ ...w, bag: taken(w.bag, m.key) }, to, f.message);
      }
      case 'timeout': return this.event(w, m.server, { type: 'ElectionTimeout' });
      case 'stale': return this.event(w, m.server, { type: 'LeaderStale' });
      case 'checkQuorum': return this.event(w, m.server, { type: 'CheckQuorum' });
      case 'snapshot': return this.event(w, m.server, { type: 'TakeSnapshot' });
      case 'replicate': return this.event(w, m.server,
        { type: 'Replicate', to: m.to.map((k) => this.ids[k] as NodeId) });
      case 'restart': {
        const s = (w.servers[m.server] as MachineSnapshot).context;
        const safety = w.safety.fork();
        safety.restarted(s.config.id);
        return this.event({ ...w, safety, crashes: w.crashes + 1 }, m.server,
          { type: 'Restart', persisted: persistedOf(s) });
      }
      case 'register': case 'put': case 'get': {
        const n = w.ops.length;
        const op = newOp(w, m.kind, m.kind === 'register' ? '' : m.key);
        const request = requestOf(op, this.ids[m.server] as NodeId, midOf(n));
        return this.event({ ...w, ops: [...w.ops, op], clock: w.clock + 1 }, m.server, request);
      }
      case 'retry': {
        // the same request again (client, session, seq, key, value), under a new message id, as
        // the direct-mode client sends each attempt
        const o = w.ops[m.op] as ClientOp;
        const request = requestOf(o, this.ids[m.server] as NodeId, midOf(m.op, o.sends));
        const ops = w.ops.slice();
        ops[m.op] = { ...o, sends: o.sends + 1 };
        return this.event({ ...w, ops, retries: w.retries + 1 }, m.server, request);
      }
    }
  }

  /** Server `i` takes `event`; everything the step emits is routed, and every check runs. */
  private event(w: World, i: number, event: RaftEvent): Outcome | undefined {
    const before = w.servers[i] as MachineSnapshot;
    const [after, effects] = this.step(before, event);
    this.tap?.(i, before, after, effects);
    const servers = w.servers.slice();
    servers[i] = after;
    const safety = w.safety.fork();
    let votes = w.votes;
    let bag: Map<string, InFlight> | undefined;
    let ops: ClientOp[] | undefined;
    let clock = w.clock;
    let logFrom: number | undefined;
    let answered = false;
    let violation: Violation | undefined;
    const id = this.ids[i] as string;
    for (const e of effects) {
      if (e.type === 'persist') {
        if (e.log !== undefined) logFrom = Math.min(logFrom ?? Infinity, e.log.fromIndex);
      } else if (e.type === 'send') {
        bag ??= new Map(w.bag);
        const key = messageKey(e.message);
        const f = bag.get(key);
        bag.set(key, { message: f?.message ?? e.message, count: (f?.count ?? 0) + 1 });
        if ('term' in e.message) safety.sent(id, e.message.type, e.message.term);
        if ((e.message.type === 'RequestVoteResponse' || e.message.type === 'PreVoteResponse')
          && e.message.voteGranted) {
          if (votes === w.votes) votes = votes.fork();
          violation ??= votes.sent(e.message);
        }
      } else if (e.type === 'reply') {
        ops ??= w.ops.slice();
        const sent = sendOf(e.message.MID);
        const op = sent === undefined ? undefined : ops[sent.op];
        const bit = 2 ** (sent?.send ?? 0);
        if (sent === undefined || op === undefined || sent.send >= op.sends
          || (op.answeredSends & bit) !== 0) {
          violation ??= { invariant: 'answeredOnce', detail: `${id} answered ${e.message.type} ` +
            `to ${e.message.MID}, ${op === undefined || sent === undefined || sent.send >= op.sends
              ? 'never sent' : 'already answered'}` };
          continue;
        }
        const read = e.message.type !== 'ok' ? undefined
          : op.kind === 'get' ? e.message.value ?? ''
            : op.kind === 'register' ? String(e.message.session ?? 0) : undefined;
        const answeredSends = op.answeredSends | bit;
        if (op.answer === 'ok') {
          // another send of a request the client already has its answer to: the client has
          // stopped listening for it. (A get is read again at each send, never logged, so a later
          // send may read a later value; a put's copies apply once, by its session [§6.3].)
          ops[sent.op] = { ...op, answeredSends };
          continue;
        }
        // the request's outcome: its first ok; a redirect or fail until then
        ops[sent.op] = { ...op, answer: e.message.type, read, answeredAt: clock++, answeredSends };
        answered ||= e.message.type === 'ok';
      }
    }
    const next: World = { ...w, servers, bag: bag ?? w.bag, ops: ops ?? w.ops, clock, safety, votes };
    const restart = event.type === 'Restart';
    violation ??= stepProperties(before.context, event, after.context, roleOf(after), effects)
      ?? votes.backs(after.context, roleOf(after))
      ?? safety.step(after.context, roleOf(after), restart ? 1 : logFrom)
      ?? this.durableAndGuarded(next, logFrom !== undefined || restart)
      ?? actionProperties(before, after, restart)
      ?? (answered ? this.history(next) : undefined);
    if (violation !== undefined) return { world: next, violation };
    return this.inBounds(next) ? { world: next } : undefined;
  }

  /**
   * Committed entries are on the disks of a quorum (durable at the end of each step); then
   * committedGuarded, when a log or the committed index changed (it held before the step and
   * depends on nothing else).
   */
  private durableAndGuarded(w: World, logChanged: boolean): Violation | undefined {
    const fresh = w.safety.takeFresh();
    return (fresh.length === 0 ? undefined
      : w.safety.durable(w.servers.map((s) => persistedOf(s.context)), fresh))
      ?? (logChanged || fresh.length > 0
        ? w.safety.guarded(this.ids, w.servers.map((x) => x.context.log)) : undefined);
  }

  /** Every put answered ok is committed; the answers are linearizable. */
  private history(w: World): Violation | undefined {
    const committed = w.safety.committedEntries();
    for (const op of w.ops) {
      if (op.kind !== 'put' || op.answer !== 'ok') continue;
      if (!committed.some((e) => e.cmd.kind === 'put' && e.cmd.value === op.value)) {
        return { invariant: 'ackedWriteCommitted',
          detail: `put ${op.key}=${op.value} was answered ok but is not committed` };
      }
    }
    const check = checkRegisterHistory(registerOps(w.ops));
    const bad = check.keys.find((k) => k.result !== 'ok');
    if (bad === undefined) return undefined;
    return { invariant: 'kvLinearizable', detail: `key ${bad.key} is ${bad.result}: ` +
      (bad.witness ?? []).map(describeOp).join('; ') };
  }

  private inBounds(w: World): boolean {
    const b = this.bounds;
    for (const s of w.servers) {
      if (s.context.currentTerm > b.maxTerm || lastLogIndex(s.context.log) > b.maxLog) return false;
    }
    let inFlight = 0;
    for (const f of w.bag.values()) {
      if (f.count > b.copies) return false;
      inFlight += f.count;
    }
    return inFlight <= b.maxInFlight;
  }

  // -----------------------------------------------------------------------------------------------
  // Identity of a state
  // -----------------------------------------------------------------------------------------------

  private memoOf(s: MachineSnapshot): Memo {
    let m = this.memo.get(s);
    if (m === undefined) {
      const abs = abstractServer(s.context, roleOf(s));
      const self = s.context.config.id;
      const body = encodeBody(abs);
      m = { abs, body, invariant: body + encodeIds(abs, (x) => (x === self ? 'self' : '*')),
        byPerm: new Map() };
      this.memo.set(s, m);
    }
    return m;
  }

  /**
   * The world as a string, with server k renamed to server `perm[k]`: the spec's view of each
   * server, the network, the clients' history, the checkers' ghost and the crashes used.
   */
  encode(w: World, perm: readonly number[]): string {
    const permKey = perm.join('');
    const rename = (x: string): string => {
      const k = this.ids.indexOf(x as NodeId);
      return k < 0 ? x : this.ids[perm[k] as number] as string;
    };
    const servers: string[] = new Array<string>(w.servers.length);
    w.servers.forEach((s, k) => {
      const memo = this.memoOf(s);
      let text = memo.byPerm.get(permKey);
      if (text === undefined) {
        text = memo.body + encodeIds(memo.abs, rename);
        memo.byPerm.set(permKey, text);
      }
      servers[perm[k] as number] = text;
    });
    const bag: string[] = [];
    for (const [key, f] of w.bag) {
      let byPerm = this.messageMemo.get(key);
      if (byPerm === undefined) {
        byPerm = new Map();
        this.messageMemo.set(key, byPerm);
      }
      let text = byPerm.get(permKey);
      if (text === undefined) {
        text = renameKey(key, rename);
        byPerm.set(permKey, text);
      }
      bag.push(`${text}*${f.count}`);
    }
    bag.sort();
    const ops = w.ops.map((o) => [o.kind, o.key, o.value ?? '', o.invokedAt, o.answer ?? '',
      o.read ?? '', o.answeredAt === Infinity ? -1 : o.answeredAt, o.sends, o.answeredSends]);
    return `${servers.join('\n')}\n${bag.join('\n')}\n${JSON.stringify(ops)}\n` +
      `${canonical(w.safety.ghost(rename))}\n${w.crashes}\n${w.retries}`;
  }

  /**
   * The renamings to try for the canonical form: servers sorted by their encoding with the other
   * servers' ids blanked (a renaming leaves that unchanged), every order among equal ones.
   */
  private candidatePerms(w: World): number[][] {
    const n = w.servers.length;
    const inv = w.servers.map((s) => this.memoOf(s).invariant);
    const order = [...Array(n).keys()].sort((a, b) =>
      (inv[a] as string) < (inv[b] as string) ? -1 : (inv[a] as string) > (inv[b] as string) ? 1 : 0);
    // groups of equal invariants, in sorted order; every arrangement within each group
    let arrangements: number[][] = [[]];
    for (let start = 0; start < n;) {
      let end = start + 1;
      while (end < n && inv[order[end] as number] === inv[order[start] as number]) end++;
      const group = order.slice(start, end);
      const next: number[][] = [];
      for (const prefix of arrangements) {
        for (const p of permutations(group)) next.push([...prefix, ...p]);
      }
      arrangements = next;
      start = end;
    }
    // arrangement lists servers by new position; perm maps old index -> new position
    return arrangements.map((arr) => {
      const perm = new Array<number>(n);
      arr.forEach((server, position) => { perm[server] = position; });
      return perm;
    });
  }

  /** The state's identity: its encoding, the least over renamings if symmetry is on. */
  key(w: World): string {
    const n = w.servers.length;
    if (!this.bounds.symmetry) return this.encode(w, [...Array(n).keys()]);
    let best: string | undefined;
    for (const perm of this.candidatePerms(w)) {
      const text = this.encode(w, perm);
      if (best === undefined || text < best) best = text;
    }
    return best as string;
  }
}

function permutations(xs: readonly number[]): number[][] {
  if (xs.length <= 1) return [xs.slice()];
  const out: number[][] = [];
  xs.forEach((x, k) => {
    for (const rest of permutations([...xs.slice(0, k), ...xs.slice(k + 1)])) out.push([x, ...rest]);
  });
  return out;
}

function taken(bag: ReadonlyMap<string, InFlight>, key: string): Map<string, InFlight> {
  const next = new Map(bag);
  const f = bag.get(key) as InFlight;
  if (f.count <= 1) next.delete(key);
  else next.set(key, { ...f, count: f.count - 1 });
  return next;
}

/** The fields of a server's abstract state that name servers (renamed by `encodeIds`). */
const ID_FIELDS = ['votedFor', 'leaderId', 'votesGranted', 'recentActive', 'nextIndex',
  'matchIndex', 'ackedRound', 'snapshotConfig'] as const;

/** [D§4.1] A configuration change names a server in its `key`. */
const CHANGES: ReadonlySet<string> = new Set(['addLearner', 'promote', 'removeServer']);

/**
 * A message's key with every id renamed; [D§4] a configuration's sets (a snapshot's) sorted again,
 * since they are sets.
 */
export function renameKey(key: string, rename: (id: string) => string): string {
  return key.replace(/"(\d{4})"/g, (_all, x: string) => `"${rename(x)}"`)
    .replace(/"(voters|learners)":\[([^\]]*)\]/g, (_all, f: string, xs: string) =>
      `"${f}":[${xs === '' ? '' : xs.split(',').sort().join(',')}]`);
}

/**
 * A server's abstract state as a string, without the fields that name servers: computed once per
 * server state, where the ids take one short string per renaming (`encodeIds`). The server a
 * configuration change in the log names is blanked here, and renamed there.
 */
function encodeBody(a: AbstractServer): string {
  const rest: Record<string, unknown> = { ...a, log: a.log.map((e) => (CHANGES.has(e.cmd.kind)
    ? { ...e, cmd: { ...e.cmd, key: '' } } : e)) };
  for (const f of ID_FIELDS) delete rest[f];
  return canonical(rest);
}

/**
 * The fields of a server's abstract state that name servers, each id renamed. Per-peer records
 * are listed in the order of the renamed ids, and of their values where ids coincide (the
 * renaming that blanks every peer), so that the result does not depend on the original ids.
 */
function encodeIds(a: AbstractServer, rename: (id: string) => string): string {
  const opt = (x: string): string => (x === '' ? '' : rename(x));
  const ids = (xs: readonly string[]): string => xs.map(rename).sort().join(',');
  const byId = (r: Record<string, number>): string => Object.entries(r)
    .map(([k, v]) => `${rename(k)}:${v}`).sort().join(',');
  const changes = a.log.flatMap((e, k) => (CHANGES.has(e.cmd.kind) ? [`${k}:${rename(e.cmd.key)}`]
    : [])).join(',');
  return `|${opt(a.votedFor)}|${opt(a.leaderId)}|${ids(a.votesGranted)}|${ids(a.recentActive)}` +
    `|${byId(a.nextIndex)}|${byId(a.matchIndex)}|${byId(a.ackedRound)}` +
    `|${ids(a.snapshotConfig.voters)}|${ids(a.snapshotConfig.learners)}|${changes}`;
}

function describeMessage(m: PeerMessage): string {
  const { type, src, dst, leader: _leader, ...rest } = m;
  const fields = Object.entries(rest).map(([k, v]) => {
    if (k === 'entries') {
      return `entries=[${(v as Entry[]).map((e) => `${e.term}:${e.cmd.kind === 'put'
        ? `${e.cmd.key}=${e.cmd.value}` : e.cmd.kind}`).join(',')}]`;
    }
    return `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`;
  });
  return `${type} ${src}->${dst} ${fields.join(' ')}`;
}

/**
 * A new client request of `kind` (put: in the session of the first client whose register was
 * answered and which has not written yet, as its second request; else without one, from a client
 * of its own, as a register or get is).
 */
export function newOp(w: World, kind: ClientOp['kind'], key: string): ClientOp {
  const n = w.ops.length;
  const registered = kind !== 'put' ? undefined : w.ops.find((o) => o.kind === 'register'
    && o.answer === 'ok' && !w.ops.some((p) => p.kind === 'put' && p.client === o.client));
  return { kind, key, value: kind === 'put' ? String(putValue(w.ops)) : undefined,
    client: registered?.client ?? clientOf(n), seq: registered === undefined ? 1 : 2,
    session: registered === undefined ? 0 : Number(registered.read),
    invokedAt: w.clock, answer: undefined, read: undefined, answeredAt: Infinity, sends: 1,
    answeredSends: 0 };
}

/** The datagram that carries `op` to `dst`. */
function requestOf(o: ClientOp, dst: NodeId, mid: string): ClientRequest {
  const envelope = { src: o.client, dst, leader: dst, MID: mid, seq: o.seq };
  if (o.kind === 'register') return { ...envelope, type: 'register' };
  if (o.kind === 'get') return { ...envelope, type: 'get', key: o.key };
  return { ...envelope, type: 'put', key: o.key, value: o.value ?? '',
    ...(o.session > 0 ? { session: o.session } : {}) };
}

/** The clients' history as register operations (`fault/linearizability.ts`). */
export function registerOps(ops: readonly ClientOp[]): RegisterOp[] {
  return ops.flatMap((o, k): RegisterOp[] => {
    const ret = o.answer === 'ok' ? o.answeredAt : Infinity;
    if (o.kind === 'register') return [];
    if (o.kind === 'get') {
      return o.answer === 'ok' ? [{ id: k, key: o.key, call: o.invokedAt, ret, kind: 'get',
        read: o.read ?? '' }] : [];
    }
    // a put answered redirect, fail or expired may still take effect, as one never answered
    return [{ id: k, key: o.key, call: o.invokedAt, ret, kind: 'put', value: o.value ?? '' }];
  });
}

/**
 * Action properties of one step of one server (TLA+ `[][Next => P]_vars`), beyond those the
 * Figure-3 checker keeps: term, commit and applied never decrease (a restart starts commit and
 * applied again from the snapshot); a leader never removes an entry from its own log within its
 * term [§5.3 Leader Append-Only]; commit stays within the log and at or above the snapshot.
 */
export function actionProperties(before: MachineSnapshot, after: MachineSnapshot,
  restart: boolean): Violation | undefined {
  const a = before.context;
  const b = after.context;
  const id = b.config.id;
  if (b.currentTerm < a.currentTerm) {
    return { invariant: 'termMonotonic', detail: `${id} term ${a.currentTerm} -> ${b.currentTerm}` };
  }
  if (!restart && b.commitIndex < a.commitIndex) {
    return { invariant: 'commitMonotonic',
      detail: `${id} commit ${a.commitIndex} -> ${b.commitIndex}` };
  }
  if (!restart && b.kv.appliedIndex < a.kv.appliedIndex) {
    return { invariant: 'appliedMonotonic',
      detail: `${id} applied ${a.kv.appliedIndex} -> ${b.kv.appliedIndex}` };
  }
  if (b.commitIndex < snapshotIndex(b.log) || b.commitIndex > lastLogIndex(b.log)) {
    return { invariant: 'commitInLog', detail: `${id} commits ${b.commitIndex} outside its log ` +
      `(snapshot ${snapshotIndex(b.log)}, last ${lastLogIndex(b.log)})` };
  }
  if (!restart && roleOf(before) === 'Leader' && roleOf(after) === 'Leader'
    && a.currentTerm === b.currentTerm) {
    const last = lastLogIndex(a.log);
    if (lastLogIndex(b.log) < last) {
      return { invariant: 'leaderAppendOnly', detail: `leader ${id} shortened its log to ` +
        `${lastLogIndex(b.log)} from ${last}` };
    }
    for (let i = Math.max(snapshotIndex(a.log), snapshotIndex(b.log)) + 1; i <= last; i++) {
      const x = entryAt(a.log, i);
      const y = entryAt(b.log, i);
      if (x !== y && (x?.term !== y?.term || JSON.stringify(x?.cmd) !== JSON.stringify(y?.cmd))) {
        return { invariant: 'leaderAppendOnly',
          detail: `leader ${id} replaced its own entry at index ${i}` };
      }
    }
  }
  return undefined;
}

