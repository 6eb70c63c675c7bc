/**
 * The explorer: several replica statecharts in one process, driven by random or steered choices of
 * the spec's actions, with the Raft safety properties and the KV history checked after every
 * event. Random simulation of the spec is shallow (see the toolchain notes); this goes deeper
 * because it runs tens of thousands of events per second. Every run is a function of its seed.
 */
import type { NodeId } from '../wire/messages.js';
import { SafetyChecker, type Violation } from '../check/safety.js';
import type { RaftEvent } from '../core/machine.js';
import { quorum, type RaftState, type Role } from '../core/state.js';
import { machineWith, type Bug } from '../mutants/catalog.js';
import { Rng } from '../fault/rng.js';
import { Cluster, type StepRecord } from './cluster.js';
import { ExplorerClients, kvLinearizable } from './history.js';
import { progressOrder, stepProperties, VoteLedger } from '../check/stepRules.js';

export interface ExploreOptions {
  readonly servers: number;
  readonly steps: number;
  readonly seed: number;
  readonly bugs?: readonly Bug[];
  /**
   * etcd MCetcdraft-style bounds: at most `maxInFlight` messages, terms up to `maxTerm`, one
   * election at a time; they steer the run towards the deep interleavings (Figure 8) that a free
   * random walk rarely reaches.
   */
  readonly steered?: boolean;
  readonly maxInFlight?: number;
  readonly maxTerm?: number;
  /** Entries per AppendEntries: 1 makes partial replication, and so Figure 8, common. */
  readonly maxBatch?: number;
  /** Relative weights of the choices; the defaults suit a free random walk. */
  readonly weights?: Partial<Weights>;
}

export interface Weights {
  deliver: number; drop: number; duplicate: number; electionTimeout: number; replicate: number;
  checkQuorum: number; restart: number; client: number;
  /** Steered runs only: move the servers to new sides of a partition (or heal it). */
  repartition: number;
}

export const defaultWeights: Weights = {
  deliver: 12, drop: 1, duplicate: 1, electionTimeout: 1, replicate: 3, checkQuorum: 0.5,
  restart: 0.3, client: 2, repartition: 0.5,
};

export interface ExploreResult {
  readonly seed: number;
  readonly events: number;
  readonly violation?: Violation & { readonly step: number };
}

type Choice = { readonly weight: number; readonly run: () => StepRecord | boolean | undefined };

/** A leader's replicate step: a flush as the shell sends it, or a random non-empty set of peers. */
function replicateEvent(rng: Rng, peers: readonly NodeId[]): RaftEvent {
  const to = peers.filter(() => rng.float() < 0.5);
  return to.length === 0 ? { type: 'Flush' } : { type: 'Replicate', to };
}

export function explore(opts: ExploreOptions): ExploreResult {
  const rng = new Rng(opts.seed);
  const cluster = new Cluster(opts.servers, { maxBatch: opts.maxBatch ?? 3 }, opts.seed,
    'immediate', machineWith(opts.bugs ?? []));
  const safety = new SafetyChecker(quorum(cluster.state(cluster.ids[0] as NodeId).config));
  for (const id of cluster.ids) safety.step(cluster.state(id), cluster.role(id), 1);
  const history = new ExplorerClients();
  const maxInFlight = opts.maxInFlight ?? 10;
  const maxTerm = opts.maxTerm ?? 6;
  const w: Weights = { ...defaultWeights, ...opts.weights };
  const votes = new VoteLedger();
  let putValue = 0;
  let events = 0;
  let replies = 0;

  // Steered runs cut the cluster in two sides; a message across the cut is lost when picked.
  const side = new Map<NodeId, number>();
  const repartition = (): boolean => {
    const heal = rng.float() < 0.3;
    for (const id of cluster.ids) side.set(id, heal ? 0 : rng.int(2));
    return true;
  };
  const deliver = (key: string): StepRecord | boolean | undefined => {
    const m = cluster.bag.get(key)?.message;
    if (m !== undefined && side.get(m.src) !== side.get(m.dst)) return cluster.drop(key);
    return cluster.deliver(key);
  };

  const choices = (): Choice[] => {
    const states = cluster.states();
    const electing = cluster.ids.some((id) => cluster.role(id) === 'Candidate');
    const crowded = opts.steered === true && cluster.bag.size >= maxInFlight;
    const keys = cluster.inFlightKeys();
    const list: Choice[] = [];
    if (keys.length > 0) {
      list.push({ weight: w.deliver, run: () => deliver(rng.pick(keys) as string) });
      list.push({ weight: w.drop, run: () => cluster.drop(rng.pick(keys) as string) });
      list.push({ weight: crowded ? 0 : w.duplicate,
        run: () => cluster.duplicate(rng.pick(keys) as string) });
    }
    if (crowded) return list;
    if (opts.steered === true) list.push({ weight: w.repartition, run: repartition });
    for (const s of states) {
      const id = s.config.id;
      const leading = cluster.role(id) === 'Leader';
      const mayElect = opts.steered !== true || (!electing && s.currentTerm < maxTerm);
      if (!leading && mayElect) {
        list.push({ weight: w.electionTimeout,
          run: () => cluster.event(id, { type: 'ElectionTimeout' }) });
      }
      if (leading) {
        list.push({ weight: w.replicate, run: () => cluster.event(id, replicateEvent(rng,
          s.config.peers)) });
        list.push({ weight: w.checkQuorum, run: () => cluster.event(id, { type: 'CheckQuorum' }) });
      }
      list.push({ weight: w.restart, run: () => {
        safety.restarted(id);
        return cluster.restart(id);
      } });
      list.push({ weight: w.client, run: () => clientRequest(id) });
    }
    return list;
  };

  const clientRequest = (id: NodeId): StepRecord => {
    const mid = `m${events}`;
    const key = rng.pick(['a', 'b']) as string;
    const client = '00C0' as NodeId;
    // Mostly puts: only puts write the log (gets are reads, §6.4), and the log is what the bugs
    // hunted here corrupt.
    if (rng.float() < 0.8) {
      const value = String(++putValue);
      history.invoke(mid, 'put', key, value, client, id);
      return cluster.event(id,
        { type: 'put', src: client, dst: id, leader: id, MID: mid, key, value });
    }
    history.invoke(mid, 'get', key, undefined, client, id);
    return cluster.event(id, { type: 'get', src: client, dst: id, leader: id, MID: mid, key });
  };

  for (let step = 0; step < opts.steps; step++) {
    const list = choices();
    const total = list.reduce((a, c) => a + c.weight, 0);
    let r = rng.float() * total;
    const choice = list.find((c) => (r -= c.weight) < 0) ?? list[list.length - 1];
    if (choice === undefined) break;
    const before = new Map(cluster.ids.map((id) => [id, cluster.state(id)] as const));
    const record = choice.run();
    events++;
    const violation = checkStep(cluster, safety, record, history, replies)
      ?? stepRulesOf(record, before, cluster, votes);
    replies = cluster.replies.length;
    if (violation !== undefined) {
      return { seed: opts.seed, events, violation: { ...violation, step } };
    }
  }
  const end = kvLinearizable(history.history);
  if (end !== undefined) {
    const violation = { invariant: 'kvLinearizable', detail: end.detail, step: events };
    return { seed: opts.seed, events, violation };
  }
  return { seed: opts.seed, events };
}

/** The step rules and the vote ledger on a step that a server took (not a drop or a cut). */
function stepRulesOf(record: StepRecord | boolean | undefined,
  before: ReadonlyMap<NodeId, RaftState>, cluster: Cluster, votes: VoteLedger):
  Violation | undefined {
  if (typeof record !== 'object') return undefined;
  for (const e of record.effects) {
    const v = e.type === 'send' ? votes.sent(e.message) : undefined;
    if (v !== undefined) return v;
  }
  const was = before.get(record.server);
  return (was === undefined ? undefined
    : stepProperties(was, record.event, cluster.state(record.server),
      cluster.role(record.server), record.effects))
    ?? votes.backs(cluster.state(record.server), cluster.role(record.server))
    ?? progressOrder(cluster.state(record.server), cluster.role(record.server));
}

/**
 * After a step: every answer is the only one for its MID, and the safety properties hold (`check/safety.ts`, the checker the
 * deterministic simulation runs too: the server that stepped, then the disks if it committed).
 */
function checkStep(cluster: Cluster, safety: SafetyChecker, record: StepRecord | boolean | undefined,
  history: ExplorerClients, seenReplies: number): Violation | undefined {
  for (const reply of cluster.replies.slice(seenReplies)) {
    const v = history.answer(reply);
    if (v !== undefined) return { invariant: 'answeredOnce', detail: v.detail };
  }
  if (typeof record !== 'object') return undefined;
  let logFrom: number | undefined;
  for (const e of record.effects) {
    if (e.type === 'send' && 'term' in e.message) {
      safety.sent(record.server, e.message.type, e.message.term);
    }
    if (e.type === 'persist' && e.log !== undefined) {
      logFrom = Math.min(logFrom ?? Infinity, e.log.fromIndex);
    }
  }
  const restarted = record.event.type === 'Restart' ? 1 : logFrom;
  const v = safety.step(cluster.state(record.server), cluster.role(record.server), restarted);
  if (v !== undefined) return v;
  const disks = cluster.ids.map((id) => cluster.durable(id));
  const fresh = safety.takeFresh();
  return (fresh.length === 0 ? undefined : safety.durable(disks, fresh))
    ?? safety.guarded(cluster.ids, disks.map((d) => d.log));
}

/**
 * The steered profile: one entry per AppendEntries (so partial replication is common), a
 * partition that moves, frequent timeouts and restarts, bounded messages in flight. It reaches
 * the Figure 8 interleaving that a free random walk rarely does.
 */
export const steeredProfile: Omit<ExploreOptions, 'seed'> = {
  servers: 3, steps: 2000, steered: true, maxBatch: 1, maxInFlight: 10, maxTerm: 40,
  weights: { deliver: 6, drop: 1.5, electionTimeout: 3, restart: 1, client: 2, replicate: 2,
    checkQuorum: 1, duplicate: 0.2, repartition: 2 },
};

/** The free random walk: every action at its default weight, a few hundred steps. */
export const randomProfile: Omit<ExploreOptions, 'seed'> = { servers: 3, steps: 400 };

/** Run seeds `from..to` until one finds a violation. */
export function search(profile: Omit<ExploreOptions, 'seed'>, from: number, to: number):
  { found?: ExploreResult; seeds: number; events: number } {
  let events = 0;
  for (let seed = from; seed <= to; seed++) {
    const r = explore({ ...profile, seed });
    events += r.events;
    if (r.violation !== undefined) return { found: r, seeds: seed - from + 1, events };
  }
  return { seeds: to - from + 1, events };
}
