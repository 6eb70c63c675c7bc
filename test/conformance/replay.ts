/**
 * Spec to code: replay a Quint ITF trace (with `mbt::actionTaken` and `mbt::nondetPicks`) into the
 * in-process cluster of statecharts. Each spec step becomes the event its mapping names; the step
 * must be enabled (the machine takes exactly that spec action), and afterwards every server's
 * abstract state and the messages in flight must equal the spec's.
 */
import type { NodeId } from '../../src/wire/messages.js';
import {
  abstractDurable, abstractServer, clientRequestOf, SPEC_CHANGE, type AbstractCmd,
} from '../../src/core/abstract.js';
import type { RaftEvent } from '../../src/core/machine.js';
import { bootstrapOf } from '../../src/core/state.js';
import { machineWith, type Bug } from '../../src/mutants/catalog.js';
import { canonical, Cluster, type InFlight, type StepRecord } from '../../src/explorer/cluster.js';
import { pick, plain, variable, type ItfTrace, type Plain } from './itf.js';
import { answersOf } from '../../src/conformance/toQuint.js';
import { OVERLOAD } from './record.js';

export interface ReplayResult {
  readonly steps: number;
  readonly actions: Map<string, number>;
  /** Answers compared, by kind (ok, redirect, fail). */
  readonly answers: Map<string, number>;
  readonly failure?: string;
}

/** The code's change of each spec configuration change (the inverse of `SPEC_CHANGE`). */
const CODE_CHANGE = Object.fromEntries(Object.entries(SPEC_CHANGE)
  .map(([code, spec]) => [spec, code])) as Partial<Record<string, keyof typeof SPEC_CHANGE>>;

const timerEvents: Record<string, RaftEvent['type']> = {
  electionTimeout: 'ElectionTimeout', checkQuorum: 'CheckQuorum', takeSnapshot: 'TakeSnapshot',
  leaderStale: 'LeaderStale',
};

/** A bag of messages as `[canonical message, copies]`, sorted. */
function bagOf(bag: ReadonlyMap<string, InFlight>): [string, number][] {
  return [...bag.entries()].map(([key, f]): [string, number] => [key, f.count]).sort();
}

/** A spec bag (`Message -> int`, read from ITF) in the same form. */
function specBag(value: Plain | undefined): [string, number][] {
  const pairs = value as unknown as [Plain, number][] | Record<string, never> | undefined;
  if (!Array.isArray(pairs)) return [];
  return pairs.map(([m, n]): [string, number] => [canonical(m), n]).sort();
}

/** Field-by-field differences between the code's and the spec's state, or undefined. */
export function compare(cluster: Cluster, state: Record<string, unknown>): string | undefined {
  const servers = plain(variable(state, 'servers')) as Record<string, Plain>;
  const diffs: string[] = [];
  for (const id of cluster.ids) {
    const code = abstractServer(cluster.state(id), cluster.role(id)) as unknown as Record<string, Plain>;
    const spec = servers[id] as Record<string, Plain>;
    for (const field of Object.keys(spec)) {
      if (canonical(code[field]) !== canonical(spec[field])) {
        diffs.push(`${id}.${field}: code ${canonical(code[field])} spec ${canonical(spec[field])}`);
      }
    }
  }
  const code = bagOf(cluster.bag);
  const spec = specBag(plain(variable(state, 'msgs')));
  if (canonical(code) !== canonical(spec)) {
    diffs.push(`msgs: code ${canonical(code)}\n      spec ${canonical(spec)}`);
  }
  // [Fig2:State] what each disk holds, and the sends that wait for it
  const durable = plain(variable(state, 'durable')) as Record<string, Plain>;
  const outbox = plain(variable(state, 'outbox')) as Record<string, Plain>;
  for (const id of cluster.ids) {
    const codeDisk = canonical(abstractDurable(cluster.durable(id),
      bootstrapOf(cluster.state(id).config)));
    if (codeDisk !== canonical(durable[id])) {
      diffs.push(`durable ${id}: code ${codeDisk}\n      spec ${canonical(durable[id])}`);
    }
    const codeOut = canonical(bagOf(cluster.outbox(id)));
    if (codeOut !== canonical(specBag(outbox[id]))) {
      diffs.push(`outbox ${id}: code ${codeOut}\n      spec ${canonical(specBag(outbox[id]))}`);
    }
  }
  return diffs.length === 0 ? undefined : diffs.join('\n  ');
}

/**
 * The code's answers in the step against the spec's `replies`: every answer (ok, redirect or
 * fail), with the leader it names and the value it carries, as many times as the spec sends it.
 */
function compareAnswers(record: StepRecord | undefined, state: Record<string, unknown>,
  mids: ReadonlyMap<string, AbstractCmd>): string | undefined {
  const code = answersOf(record?.effects ?? [], (mid) => mids.get(mid) as AbstractCmd);
  const spec = specBag(plain(variable(state, 'replies')));
  return canonical(code) === canonical(spec) ? undefined
    : `replies: code ${canonical(code)}\n      spec ${canonical(spec)}`;
}

/** What one spec step did in the code: why it is not enabled there, or the step it took. */
interface Taken { readonly failure?: string; readonly record?: StepRecord }

/** Run one spec step on the cluster. */
function step(cluster: Cluster, action: string, state: Record<string, unknown>, n: number,
  mids: Map<string, AbstractCmd>): Taken {
  const s = pick(state, 's') as NodeId | undefined;
  const m = pick(state, 'm');
  const expectAction = (r: StepRecord | undefined): Taken =>
    r === undefined ? { failure: `${action}: message not in flight` }
      : r.actions.join(',') === action ? { record: r }
        : { failure: `${action} not enabled in the code: it took [${r.actions.join(',')}]` };
  if (action === 'persist' && s !== undefined) {
    if (!cluster.canPersist(s)) return { failure: 'persist: nothing to persist in the code' };
    cluster.persist(s);
    return {};
  }
  if (action === 'restart' && s !== undefined) return expectAction(cluster.restart(s));
  if (action in timerEvents && s !== undefined) {
    return expectAction(cluster.event(s, { type: timerEvents[action] } as RaftEvent));
  }
  if (action === 'replicate' && s !== undefined) {
    const to = plain(pick(state, 'ts')) as NodeId[];
    return expectAction(cluster.event(s, { type: 'Replicate', to }));
  }
  if (action.startsWith('handle') && m !== undefined) {
    return expectAction(cluster.deliver(canonical(plain(m))));
  }
  if (action === 'dropMessage' || action === 'duplicateMessage') {
    const key = canonical(plain(m));
    const ok = action === 'dropMessage' ? cluster.drop(key) : cluster.duplicate(key);
    return ok ? {} : { failure: `${action}: message not in flight` };
  }
  if (action === 'clientRequest' && s !== undefined) {
    const cmd = plain(pick(state, 'cmd')) as unknown as AbstractCmd;
    mids.set(`m${n}`, cmd);
    return expectAction(cluster.event(s, clientRequestOf(cmd, s, `m${n}`)));
  }
  if (action === 'changeConfig' && s !== undefined) {
    const c = plain(pick(state, 'c')) as unknown as AbstractCmd;
    const change = CODE_CHANGE[c.kind];
    if (change === undefined) return { failure: `changeConfig: not a change: ${c.kind}` };
    return expectAction(cluster.event(s, { type: 'ChangeConfig', change, id: c.key as NodeId }));
  }
  return { failure: `unmapped spec step ${action}` };
}

export function replay(trace: ItfTrace, options: { maxBatch: number; bugs?: Bug[] }): ReplayResult {
  const servers = Object.keys(plain(variable(trace.states[0] ?? {}, 'servers')) as object).length;
  // Catch-up sends are the code's own extra `replicate` steps; the spec trace has its own.
  const cluster = new Cluster(servers, { trace: true, catchUp: false, maxBatch: options.maxBatch,
    ...OVERLOAD }, 1, 'explicit', machineWith(options.bugs ?? []));
  const mids = new Map<string, AbstractCmd>();
  const actions = new Map<string, number>();
  const answers = new Map<string, number>();
  const first = compare(cluster, trace.states[0] ?? {});
  if (first !== undefined) {
    return { steps: 0, actions, answers, failure: `initial state:\n  ${first}` };
  }
  for (let i = 1; i < trace.states.length; i++) {
    const state = trace.states[i] as Record<string, unknown>;
    const action = variable(state, 'mbt::actionTaken') as string;
    actions.set(action, (actions.get(action) ?? 0) + 1);
    const taken = step(cluster, action, state, i, mids);
    const failure = taken.failure ?? compare(cluster, state)
      ?? compareAnswers(taken.record, state, mids);
    if (failure !== undefined) {
      return { steps: i, actions, answers, failure: `step ${i} ${action}:\n  ${failure}` };
    }
    for (const e of taken.record?.effects ?? []) {
      if (e.type === 'reply') answers.set(e.message.type, (answers.get(e.message.type) ?? 0) + 1);
    }
  }
  return { steps: trace.states.length - 1, actions, answers };
}
