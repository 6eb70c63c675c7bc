/**
 * The spec's verdict on a trace of the exhaustive search. The trace is replayed through the
 * model with the machine's `trace` effects on, and written as a Quint `run` test
 * (`conformance/toQuint.ts`, the format of the code-to-spec suite): each move becomes the spec
 * action the statechart took, then the `persist` that the model's end-of-step durability implies,
 * each followed by the exact state the code reached. `quint test` then says whether the spec allows
 * every step; if not, its frames name the first step it refuses: an action the spec does not
 * enable there, or one that reaches a different state. A second run checks that the spec accepts
 * the trace up to that step.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeerMessage } from '../wire/messages.js';
import {
  abstractDurable, abstractMessage, abstractServer, type AbstractCmd,
} from '../core/abstract.js';
import { roleOf, type MachineSnapshot, type RaftMachine } from '../core/raft.js';
import { bootstrapOf, persistedOf, type Effect } from '../core/state.js';
import {
  effectsPerCall, quintCmd, quintDurable, quintMessage, quintPrefixModule, quintReplies,
  quintServer, specCalls, type RecordedStep,
} from '../conformance/toQuint.js';
import { quintAsync } from '../conformance/quint.js';
import { canonical } from '../explorer/cluster.js';
import {
  clientOf, keyNames, Model, newOp, sendOf, type Bounds, type ClientOp, type InFlight, type Move,
  type World,
} from './model.js';

/** The spec file the verdict imports, from `src/exhaustive` and `dist/exhaustive` alike. */
const SPEC = fileURLToPath(new URL('../../spec/raft', import.meta.url));

/** A recorded trace: its Quint steps, and the move each belongs to (1-based; 0: the start). */
export interface SpecTrace {
  readonly steps: readonly RecordedStep[];
  readonly moveOf: readonly number[];
}

export interface SpecVerdict {
  /** Where the module was written, and the command that checks it. */
  readonly file: string;
  readonly command: string;
  /** Undefined: the spec allows every step of the trace. */
  readonly refused?: {
    /** The move (1-based, as the trace prints it; 0: the initial state) and its spec calls. */
    readonly move: number;
    readonly calls: readonly string[];
    /** The spec does not enable a call there, or it reaches another state than the code. */
    readonly how: 'not enabled' | 'different state';
    /** Whether `quint test` accepts the trace up to the move before it. */
    readonly prefixAccepted: boolean;
  };
  /** Quint's own output when it failed for another reason (a type error, a crash). */
  readonly error?: string;
}

const str = JSON.stringify;

function quintBag(bag: ReadonlyMap<string, InFlight>): [string, number][] {
  return [...bag.values()]
    .map((f): [string, number] => [quintMessage(abstractMessage(f.message)), f.count]).sort();
}

function addTo(bag: Map<string, InFlight>, m: PeerMessage): void {
  const key = canonical(abstractMessage(m));
  const f = bag.get(key);
  bag.set(key, { message: f?.message ?? m, count: (f?.count ?? 0) + 1 });
}

/** What a client request asked, in the spec's terms (a register's bound: `keep`). */
function cmdOf(op: ClientOp, keep: number): AbstractCmd {
  return { kind: op.kind, client: op.client, session: op.session, seq: op.seq, key: op.key,
    value: op.kind === 'put' ? Number(op.value) : op.kind === 'register' ? keep : 0,
    expected: 0 };
}

function cmdOfOp(ops: readonly ClientOp[], n: number, keep: number): AbstractCmd {
  const op = ops[n];
  if (op === undefined) throw new Error(`an answer to unknown request ${n}`);
  return cmdOf(op, keep);
}

/** The spec call arguments of a server step caused by `move` in `w`. */
function callArgs(model: Model, w: World, move: Move): string {
  if (move.kind === 'deliver') {
    return quintMessage(abstractMessage((w.bag.get(move.key) as InFlight).message));
  }
  const id = str(model.ids[(move as { server: number }).server] as string);
  const keep = keepOf(model);
  if (move.kind === 'retry') return `${id}, ${quintCmd(cmdOfOp(w.ops, move.op, keep))}`;
  if (move.kind === 'register') return `${id}, ${quintCmd(cmdOf(newOp(w, 'register', ''), keep))}`;
  if (move.kind !== 'put' && move.kind !== 'get') return id;
  return `${id}, ${quintCmd(cmdOf(newOp(w, move.kind, move.key), keep))}`;
}

/** The session bound the model's leaders stamp in a register (`Config.maxSessions`). */
const keepOf = (model: Model): number =>
  (model.initial().servers[0] as MachineSnapshot).context.config.maxSessions;

interface Tapped {
  readonly server: number;
  readonly before: MachineSnapshot;
  readonly after: MachineSnapshot;
  readonly effects: readonly Effect[];
}

/** Replay `path` with the spec actions traced, and write it as Quint steps. */
export function recordSpecTrace(bounds: Bounds, machine: RaftMachine, path: readonly number[]):
  SpecTrace {
  const tap: { last?: Tapped } = {};
  const model = new Model(bounds, machine, { trace: true,
    tap: (server, before, after, effects) => { tap.last = { server, before, after, effects }; } });
  let w = model.initial();
  const ids = model.ids;
  const outboxes = (held?: { id: string; bag: [string, number][] }): Record<string,
    [string, number][]> => Object.fromEntries(ids.map((id) =>
    [id, held !== undefined && held.id === id ? held.bag : []]));
  const server = (s: MachineSnapshot): string => quintServer(abstractServer(s.context, roleOf(s)));
  const durable = (s: MachineSnapshot): string =>
    quintDurable(abstractDurable(persistedOf(s.context), bootstrapOf(s.context.config)));
  const steps: RecordedStep[] = [{ calls: ['init'], msgs: [], replies: [[]], outbox: outboxes(),
    servers: Object.fromEntries(ids.map((id, i) => [id, server(w.servers[i] as MachineSnapshot)])),
    durable: Object.fromEntries(ids.map((id, i) => [id, durable(w.servers[i] as MachineSnapshot)])),
  }];
  const moveOf: number[] = [0];
  for (const [k, choice] of path.entries()) {
    const move = model.moves(w)[choice];
    if (move === undefined) throw new Error(`step ${k + 1} has no move ${choice}`);
    const n = k + 1;
    tap.last = undefined;
    const args = move.kind === 'drop' || move.kind === 'duplicate' ? ''
      : callArgs(model, w, move);
    const out = model.apply(w, move);
    if (out === undefined) throw new Error(`step ${n} leaves the bounds`);
    const next = out.world as World;
    if (move.kind === 'drop' || move.kind === 'duplicate') {
      const m = (w.bag.get(move.key) as InFlight).message;
      const call = `${move.kind === 'drop' ? 'dropMessage' : 'duplicateMessage'}(` +
        `${quintMessage(abstractMessage(m))})`;
      steps.push({ calls: [call], servers: {}, durable: {}, msgs: quintBag(next.bag),
        outbox: outboxes(), replies: [[]] });
      moveOf.push(n);
    } else if (tap.last !== undefined) {
      const t = tap.last as Tapped;
      const id = ids[t.server] as string;
      const calls = specCalls(t.effects, id, args);
      if (calls.length > 0) {
        const keep = keepOf(model);
        const cmdOfMid = (mid: string): AbstractCmd =>
          cmdOfOp(next.ops, sendOf(mid)?.op ?? -1, keep);
        const replies = effectsPerCall(t.effects, calls.length)
          .map((es) => quintReplies(es, cmdOfMid));
        // [Fig2 persist before send] a step that changed what its server must keep holds its
        // sends until the write completes: the spec's outbox, then its `persist`
        const wrote = durable(t.before) !== durable(t.after) || move.kind === 'restart';
        const sends = t.effects.flatMap((e) => (e.type === 'send' ? [e.message] : []));
        const sent = new Map<string, InFlight>();
        for (const m of sends) addTo(sent, m);
        const before = new Map(next.bag);
        for (const m of sends) {
          const key = canonical(abstractMessage(m));
          const f = before.get(key) as InFlight;
          if (f.count <= 1) before.delete(key);
          else before.set(key, { ...f, count: f.count - 1 });
        }
        const held = wrote && move.kind !== 'restart';
        steps.push({ calls, servers: { [id]: server(t.after) },
          durable: { [id]: move.kind === 'restart' ? durable(t.after) : durable(t.before) },
          msgs: quintBag(held ? before : next.bag),
          outbox: outboxes(held ? { id, bag: quintBag(sent) } : undefined), replies });
        moveOf.push(n);
        if (held) {
          const call = `persist(${str(id)})`;
          steps.push({ calls: [call], servers: { [id]: server(t.after) },
            durable: { [id]: durable(t.after) }, msgs: quintBag(next.bag), outbox: outboxes(),
            replies: [[]] });
          moveOf.push(n);
        }
      }
    }
    if (out.violation !== undefined) break;
    w = next;
  }
  return { steps, moveOf };
}

/** The spec's instance for a bound: its servers, clients and keys, generous elsewhere. */
export function specParams(model: Model): string {
  const b = model.bounds;
  const clients = Array.from({ length: Math.max(b.clients, 1) }, (_, n) => str(clientOf(n)));
  const c = (model.initial().servers[0] as MachineSnapshot).context.config;
  return `Servers = Set(${model.ids.map((id) => str(id)).join(', ')}), ` +
    `Clients = Set(${clients.join(', ')}), ` +
    `Keys = Set(${keyNames(b).map((k) => str(k)).join(', ')}), ` +
    `MaxBatch = ${b.maxBatch}, MaxValue = 1000, MaxTerm = 1000, MaxLogLength = 1000, ` +
    'MaxMessages = 1000, MaxRestarts = 1000, MaxHistory = 100000, ' +
    `MaxWaiting = ${c.maxWaitingRequests}, MaxWaitingPerClient = ${c.maxWaitingPerClient}, ` +
    `MaxUncommitted = ${c.maxUncommittedEntries}, MaxSessions = ${c.maxSessions}`;
}

/** Each `upTo${k}Test` of `quint test`'s output: passed, or failed and how. */
function resultsOf(out: string): Map<number, 'passed' | 'not enabled' | 'different state'> {
  const results = new Map<number, 'passed' | 'not enabled' | 'different state'>();
  for (const m of out.matchAll(/ok upTo(\d+)Test passed/g)) results.set(Number(m[1]), 'passed');
  for (const m of out.matchAll(/\d+\) upTo(\d+)Test:\n\s*Error \[QNT\d+\]: ([^\n]*)/g)) {
    results.set(Number(m[1]), /Cannot continue/.test(m[2] ?? '') ? 'not enabled'
      : 'different state');
  }
  return results;
}

/**
 * Record the trace and have `quint test` check each prefix of it, one `run` per move: the first
 * that fails names the step the spec refuses, and the one before it shows the spec accepts the
 * trace up to there.
 */
export async function specVerdict(bounds: Bounds, machine: RaftMachine,
  path: readonly number[]): Promise<SpecVerdict> {
  const model = new Model(bounds, machine);
  const trace = recordSpecTrace(bounds, machine, path);
  const moves = trace.moveOf[trace.moveOf.length - 1] ?? 0;
  // cuts[k]: the recorded steps of moves 0..k
  const cuts = Array.from({ length: moves + 1 }, (_, k) =>
    trace.moveOf.filter((m) => m <= k).length);
  const dir = mkdtempSync(join(tmpdir(), 'raftkv-spec-verdict-'));
  const file = join(dir, 'exhaustiveTrace.qnt');
  writeFileSync(file, quintPrefixModule('exhaustiveTrace', relative(dir, SPEC), trace.steps,
    specParams(model), cuts));
  const args = ['test', '--backend=typescript', file];
  const command = `npx quint ${args.join(' ')}`;
  const r = await quintAsync(args);
  const results = resultsOf(r.out);
  if (r.code === 0 && results.size === cuts.length) return { file, command };
  for (let k = 0; k <= moves; k++) {
    const result = results.get(k);
    if (result === undefined) break;
    if (result === 'passed') continue;
    return { file, command, refused: { move: k, how: result,
      calls: trace.steps.flatMap((st, j) => (trace.moveOf[j] === k ? st.calls : [])),
      prefixAccepted: k === 0 || results.get(k - 1) === 'passed' } };
  }
  return { file, command, error: r.out.slice(-3000) };
}

/** The verdict in words, for the report. */
export function describeVerdict(v: SpecVerdict): string[] {
  if (v.error !== undefined) {
    return ['spec verdict: quint test failed without running the trace:', v.error];
  }
  if (v.refused === undefined) {
    return ['spec verdict: the spec allows every step of this trace (quint test accepts it: ' +
      `${v.command})`];
  }
  const r = v.refused;
  const calls = r.calls.join(' then ');
  return [
    `spec verdict: the spec refuses step ${r.move}: ${r.how === 'not enabled'
      ? `${calls} is not enabled there`
      : `${calls} reaches a different state in the spec than in the code`}`,
    `  quint test fails upTo${r.move}Test` + (r.prefixAccepted
      ? `${r.move > 0 ? ` and passes upTo${r.move - 1}Test (the trace up to step ${r.move - 1})`
        : ''}` : ` and upTo${r.move - 1}Test too (the steps before it)`) + `: ${v.command}`,
  ];
}
