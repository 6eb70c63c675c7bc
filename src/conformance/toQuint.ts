/**
 * Code to spec: write a trace recorded from the statecharts as a Quint `run` test, so that Quint
 * itself checks that each recorded step is an enabled spec action reaching the recorded state
 * (as etcd validates its traces against the TLA+ spec with TLC).
 */
import {
  abstractAnswer, type AbstractAnswer, type AbstractCmd, type AbstractDurable, type AbstractEntry,
  type AbstractMembers, type AbstractServer, type AbstractSession,
} from '../core/abstract.js';
import type { Effect } from '../core/state.js';
import { canonical } from '../explorer/cluster.js';

const str = (s: string): string => JSON.stringify(s);
const set = (xs: readonly string[]): string => `Set(${xs.map(str).join(', ')})`;

function map<V>(o: Record<string, V>, f: (v: V) => string): string {
  const pairs = Object.keys(o).sort().map((k) => `${str(k)} -> ${f(o[k] as V)}`);
  return `Map(${pairs.join(', ')})`;
}

export function quintCmd(c: AbstractCmd): string {
  return `{ kind: ${str(c.kind)}, client: ${str(c.client)}, session: ${c.session}, ` +
    `seq: ${c.seq}, key: ${str(c.key)}, value: ${c.value}, expected: ${c.expected} }`;
}

/** [D§4] A configuration as the spec's `Members`. */
const members = (m: AbstractMembers): string =>
  `{ voters: ${set(m.voters)}, learners: ${set(m.learners)} }`;

const entry = (e: AbstractEntry): string => `{ term: ${e.term}, cmd: ${quintCmd(e.cmd)} }`;

const termRuns = (runs: readonly { index: number; term: number }[]): string =>
  `[${runs.map((r) => `{ index: ${r.index}, term: ${r.term} }`).join(', ')}]`;

const session = (x: AbstractSession): string =>
  `{ seq: ${x.seq}, value: ${x.value}, last: ${x.last} }`;

/** Sessions by id: the spec's `int -> Session`. */
function sessions(o: Record<string, AbstractSession>): string {
  const ids = Object.keys(o).map(Number).sort((a, b) => a - b);
  return `Map(${ids.map((id) => `${id} -> ${session(o[String(id)] as AbstractSession)}`).join(', ')})`;
}

export function quintServer(s: AbstractServer): string {
  return `{ role: ${s.role}, currentTerm: ${s.currentTerm}, votedFor: ${str(s.votedFor)}, ` +
    `log: [${s.log.map(entry).join(', ')}], snapshotIndex: ${s.snapshotIndex}, ` +
    `snapshotTerm: ${s.snapshotTerm}, snapshotKv: ${map(s.snapshotKv, String)}, ` +
    `snapshotSessions: ${sessions(s.snapshotSessions)}, ` +
    `snapshotTerms: ${termRuns(s.snapshotTerms)}, ` +
    `snapshotConfig: ${members(s.snapshotConfig)}, commitIndex: ${s.commitIndex}, ` +
    `leaderId: ${str(s.leaderId)}, votesGranted: ${set(s.votesGranted)}, ` +
    `nextIndex: ${map(s.nextIndex, String)}, matchIndex: ${map(s.matchIndex, String)}, ` +
    `recentActive: ${set(s.recentActive)}, kv: ${map(s.kv, String)}, ` +
    `sessions: ${sessions(s.sessions)}, ` +
    `reads: [${s.reads.map((r) => `{ cmd: ${quintCmd(r.cmd)}, readIndex: ${r.readIndex}, ` +
      `round: ${r.round} }`).join(', ')}], readRound: ${s.readRound}, ` +
    `ackedRound: ${map(s.ackedRound, String)}, ` +
    `pending: [${s.pending.map((p) => `{ index: ${p.index}, term: ${p.term}, ` +
      `cmd: ${quintCmd(p.cmd)} }`).join(', ')}], ` +
    `held: [${s.held.map(quintCmd).join(', ')}], leaderFresh: ${String(s.leaderFresh)} }`;
}

/** An answer as the spec's `Event`. */
export function quintAnswer(a: AbstractAnswer): string {
  return `{ ev: ${str(a.ev)}, server: ${str(a.server)}, leader: ${str(a.leader)}, ` +
    `cmd: ${quintCmd(a.cmd)}, value: ${a.value} }`;
}

export function quintDurable(d: AbstractDurable): string {
  return `{ currentTerm: ${d.currentTerm}, votedFor: ${str(d.votedFor)}, ` +
    `log: [${d.log.map(entry).join(', ')}], snapshotIndex: ${d.snapshotIndex}, ` +
    `snapshotTerm: ${d.snapshotTerm}, snapshotKv: ${map(d.snapshotKv, String)}, ` +
    `snapshotSessions: ${sessions(d.snapshotSessions)}, ` +
    `snapshotTerms: ${termRuns(d.snapshotTerms)}, snapshotConfig: ${members(d.snapshotConfig)} }`;
}

/** Answers (reply effects) as a sorted bag of `[spec event, copies]`, given each MID's command. */
export function answersOf(effects: readonly Effect[], cmdOf: (mid: string) => AbstractCmd):
  [string, number][] {
  const bag = new Map<string, number>();
  for (const e of effects) {
    if (e.type !== 'reply') continue;
    const key = canonical(abstractAnswer(e.message, cmdOf(e.message.MID)));
    bag.set(key, (bag.get(key) ?? 0) + 1);
  }
  return [...bag].sort();
}

/** The answers among `effects` in Quint, as the spec's `replies` bag. */
export function quintReplies(effects: readonly Effect[], cmdOf: (mid: string) => AbstractCmd):
  [string, number][] {
  return answersOf(effects, cmdOf).map(([key, n]): [string, number] =>
    [quintAnswer(JSON.parse(key) as AbstractAnswer), n]);
}

/**
 * The spec calls one step of the code made, from the machine's `trace` effects (`config.trace`):
 * each with `args` (the event's server or message), a `replicate` with the peers it went to.
 */
export function specCalls(effects: readonly Effect[], server: string, args: string): string[] {
  return effects.flatMap((e) => {
    if (e.type !== 'trace') return [];
    if (e.action === 'replicate') {
      return [`replicate(${str(server)}, Set(${(e.to ?? []).map((p) => str(p)).join(', ')}))`];
    }
    return [`${e.action}(${args})`];
  });
}

/** The effects of each call of a step: those from its `trace` marker to the next one. */
export function effectsPerCall(effects: readonly Effect[], calls: number): Effect[][] {
  const perCall: Effect[][] = Array.from({ length: calls }, () => []);
  let k = -1;
  for (const e of effects) {
    if (e.type === 'trace') k++;
    else if (k >= 0) perCall[k]?.push(e);
  }
  return perCall;
}

/** A message in its abstract form (`{ tag, value }`) as a Quint variant. */
export function quintMessage(m: { tag: string; value: Record<string, unknown> }): string {
  const fields = Object.keys(m.value).sort().map((k) => {
    const v = m.value[k];
    if (k === 'entries') return `${k}: [${(v as AbstractEntry[]).map(entry).join(', ')}]`;
    if (k === 'terms') return `${k}: ${termRuns(v as { index: number; term: number }[])}`;
    if (k === 'kv') return `${k}: ${map(v as Record<string, number>, String)}`;
    if (k === 'config') return `${k}: ${members(v as AbstractMembers)}`;
    if (k === 'sessions') {
      return `${k}: ${sessions(v as Record<string, AbstractSession>)}`;
    }
    return `${k}: ${typeof v === 'string' ? str(v) : String(v)}`;
  });
  return `${m.tag}({ ${fields.join(', ')} })`;
}

export interface RecordedStep {
  /**
   * The spec action calls of one step of the code, e.g. `handleAppendEntriesResponse(...)` and
   * the `replicate("0001", Set("0002"))` its catch-up raised.
   */
  readonly calls: readonly string[];
  /** The servers the step changed (all of them initially) and the bag after it, in Quint. */
  readonly servers: Record<string, string>;
  readonly msgs: readonly [string, number][];
  /** The disks of the servers the step changed (a persist or restart changes one). */
  readonly durable: Record<string, string>;
  /** Every server's outbox after the step. */
  readonly outbox: Record<string, readonly [string, number][]>;
  /** The answers each call of the step sent to clients, as the spec's `replies` bag. */
  readonly replies: readonly (readonly [string, number][])[];
}

const bagMap = (bag: readonly (readonly [string, number])[]): string =>
  `Map(${bag.map(([m, n]) => `${m} -> ${n}`).join(', ')})`;

function msgsMap(step: RecordedStep): string {
  return bagMap(step.msgs);
}


/**
 * The expected states as typed top-level values: Quint type-checks an annotated value far faster
 * than the same literal inferred inside a long `.then(...).expect(...)` chain.
 */
function expectedValues(prefix: string, steps: readonly RecordedStep[]): string {
  return steps.map((s, k) => [
    ...Object.keys(s.servers).sort().map((id) =>
      `  pure val ${prefix}s${k}_${id}: Server = ${s.servers[id]}`),
    `  pure val ${prefix}m${k}: Message -> int = ${msgsMap(s)}`,
    ...Object.keys(s.durable).sort().map((id) =>
      `  pure val ${prefix}d${k}_${id}: Durable = ${s.durable[id]}`),
    `  pure val ${prefix}o${k}: str -> (Message -> int) = ${map(
      Object.fromEntries(Object.entries(s.outbox)), (b) => bagMap(b))}`,
    ...s.replies.map((r, c) => `  pure val ${prefix}r${k}_${c}: Event -> int = ${bagMap(r)}`),
  ].join('\n')).join('\n');
}

function expectation(prefix: string, k: number, step: RecordedStep): string {
  const servers = Object.keys(step.servers).sort()
    .map((id) => `servers.get(${str(id)}) == ${prefix}s${k}_${id}`);
  const disks = Object.keys(step.durable).sort()
    .map((id) => `durable.get(${str(id)}) == ${prefix}d${k}_${id}`);
  return [...servers, `msgs == ${prefix}m${k}`, ...disks, `outbox == ${prefix}o${k}`,
    `replies == ${prefix}r${k}_${step.replies.length - 1}`].join(' and ');
}

/** The `run` body of `steps` (initial state first), over the expected values named `p`. */
function runBody(p: string, steps: readonly RecordedStep[]): string {
  const [first] = steps;
  if (first === undefined) throw new Error('a trace starts with its initial state');
  // a step of several calls (a response and the catch-up it raised): each call's answers
  const body = steps.slice(1)
    .map((s, k) => `${s.calls.map((c, j) => `    .then(${c})\n` + (j < s.calls.length - 1
      ? `    .expect(replies == ${p}r${k + 1}_${j})\n` : '')).join('')}`
      + `    .expect(${expectation(p, k + 1, s)})`).join('\n');
  return `    init\n    .expect(${expectation(p, 0, first)})${body === '' ? '' : `\n${body}`}`;
}

const moduleOf = (name: string, specPath: string, params: string, body: string): string =>
  `module ${name} {\n  import raft(${params}).* from "${specPath}"\n\n${body}\n}\n`;

/** A module of `run` tests, one per trace, importing the spec with generous bounds. */
export function quintModule(name: string, specPath: string,
  traces: readonly (readonly RecordedStep[])[], params: string): string {
  const runs = traces.map((steps, i) =>
    `${expectedValues(`t${i}`, steps)}\n\n  run trace${i}Test =\n${runBody(`t${i}`, steps)}`);
  return moduleOf(name, specPath, params, runs.join('\n\n'));
}

/**
 * A module of `run` tests over one trace: `upTo${k}Test` runs its first `cuts[k]` steps (the
 * initial state counts as one), so the first test that fails names where the spec parts ways.
 */
export function quintPrefixModule(name: string, specPath: string, steps: readonly RecordedStep[],
  params: string, cuts: readonly number[]): string {
  const runs = cuts.map((n, k) => `  run upTo${k}Test =\n${runBody('t', steps.slice(0, n))}`);
  return moduleOf(name, specPath, params, `${expectedValues('t', steps)}\n\n${runs.join('\n\n')}`);
}
