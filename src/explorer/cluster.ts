/**
 * N replica statecharts in one process over a network that is a bag of messages, exactly the
 * network of `spec/raft.qnt`: a send adds a copy, a delivery removes one, and the network may drop
 * or duplicate a copy. The explorer drives it with random choices, the conformance suites with the
 * spec's traces. It runs the machine through XState's pure `transition()`, so every step is a
 * function of the previous snapshot.
 *
 * Each server has a disk, as the spec's `durable` and `outbox`: a `persist` effect is a write that
 * completes only at the server's next `persist(id)` (a group commit's fdatasync), and a send
 * that follows an incomplete write waits in the server's outbox until then, as the shells' group
 * commit holds it (`replica/groupCommit.ts`). A restart starts from the disk. With `durability:
 * 'immediate'` (the explorer's default) every step's writes complete at its end.
 */
import { initialTransition } from 'xstate';
import type { ClientResponse, NodeId, PeerMessage } from '../wire/messages.js';
import { abstractMessage } from '../core/abstract.js';
import {
  pureStep, raftMachine, roleOf, type MachineSnapshot, type PureStep, type RaftMachine,
} from '../core/raft.js';
import type { RaftEvent } from '../core/machine.js';
import {
  defaultConfig, persistedOf, type Config, type Effect, type Persisted, type RaftState, type Role,
} from '../core/state.js';
import { applyWrite } from '../core/persisted.js';


/** JSON with object keys sorted: one string per value, whatever the key order it was built in. */
export function canonical(value: unknown): string {
  return canon(value) ?? 'undefined';
}

/**
 * `canonical` without `JSON.stringify`'s replacer, which builds a sorted copy of every object: the
 * exhaustive search encodes every state it reaches this way. The same text as
 * `JSON.stringify(value)` with keys sorted (`test/explorer/canonical.test.ts`): `toJSON` is
 * honoured, and a value JSON leaves out (undefined, a function, a symbol) is left out of an
 * object and written `null` in an array. Undefined for a value JSON leaves out.
 */
function canon(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string': return JSON.stringify(v);
    case 'number': return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean': return v ? 'true' : 'false';
    case 'object': break;
    case 'bigint': return JSON.stringify(v); // throws, as JSON does
    default: return undefined;
  }
  if (v === null) return 'null';
  const o = v as Record<string, unknown> & { toJSON?: unknown };
  if (typeof o.toJSON === 'function') return canon((o.toJSON as () => unknown)());
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += `${i === 0 ? '' : ','}${canon(v[i]) ?? 'null'}`;
    return `${out}]`;
  }
  // As an object built in sorted key order lists them: array-index keys first, in numeric order
  // (where `Object.keys` puts them), then the others sorted.
  const keys = Object.keys(o);
  let indices = 0;
  while (indices < keys.length && isIndex(keys[indices] as string)) indices++;
  const names = keys.slice(indices).sort();
  let out = '{';
  let first = true;
  for (const k of indices === 0 ? names : [...keys.slice(0, indices), ...names]) {
    const text = canon(o[k]);
    if (text === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${text}`;
    first = false;
  }
  return `${out}}`;
}

/** An array index as text ("0", "17"; not "01" or "4294967295"): a key objects list first. */
const isIndex = (k: string): boolean =>
  /^(?:0|[1-9]\d{0,9})$/.test(k) && Number(k) < 4294967295;

export const messageKey = (m: PeerMessage): string => canonical(abstractMessage(m));

export interface InFlight { readonly message: PeerMessage; readonly count: number }

export interface StepRecord {
  readonly server: NodeId;
  readonly event: RaftEvent;
  /** Spec actions the step took, in order (from the machine's `trace` effects). */
  readonly actions: string[];
  readonly effects: Effect[];
}

function addTo(bag: Map<string, InFlight>, message: PeerMessage, copies = 1): void {
  const key = messageKey(message);
  const inFlight = bag.get(key);
  bag.set(key, { message: inFlight?.message ?? message, count: (inFlight?.count ?? 0) + copies });
}

export function serverIds(n: number): NodeId[] {
  return Array.from({ length: n },
    (_, i) => i.toString(16).toUpperCase().padStart(4, '0') as NodeId);
}

/** A server's disk: what is durable, what its incomplete writes will make it, what waits. */
interface Disk {
  durable: Persisted;
  written: Persisted;
  unsynced: boolean;
  readonly outbox: Map<string, InFlight>;
}

export type Durability = 'immediate' | 'explicit';

export class Cluster {
  readonly ids: NodeId[];
  readonly snapshots = new Map<NodeId, MachineSnapshot>();
  readonly bag = new Map<string, InFlight>();
  readonly replies: ClientResponse[] = [];
  private readonly disks = new Map<NodeId, Disk>();
  private readonly stepOf: PureStep;

  constructor(n: number, config: Partial<Config> = {}, seed = 1,
    readonly durability: Durability = 'immediate',
    /** The statechart every server runs: a catalog mutant's in tests (`mutants/catalog.ts`). */
    private readonly machine: RaftMachine = raftMachine) {
    this.ids = serverIds(n);
    this.stepOf = pureStep(machine);
    for (const [i, id] of this.ids.entries()) {
      const peers = this.ids.filter((p) => p !== id);
      const input = { config: { ...defaultConfig, ...config, id, peers }, seed: seed * 1000 + i };
      const [snapshot] = initialTransition(machine, input);
      this.snapshots.set(id, snapshot);
      const p = persistedOf(snapshot.context);
      this.disks.set(id, { durable: p, written: p, unsynced: false, outbox: new Map() });
    }
  }

  private disk(id: NodeId): Disk {
    const d = this.disks.get(id);
    if (d === undefined) throw new Error(`no server ${id}`);
    return d;
  }

  /** What server `id`'s disk holds. */
  durable(id: NodeId): Persisted {
    return this.disk(id).durable;
  }

  /** The messages server `id` sent that wait for its writes to complete. */
  outbox(id: NodeId): ReadonlyMap<string, InFlight> {
    return this.disk(id).outbox;
  }

  /** Whether `persist(id)` would do anything: a write is incomplete, or a send waits. */
  canPersist(id: NodeId): boolean {
    const d = this.disk(id);
    return d.unsynced || d.outbox.size > 0;
  }

  /** Server `id`'s writes complete: they become durable, and what waited for them is sent. */
  persist(id: NodeId): void {
    const d = this.disk(id);
    d.durable = d.written;
    d.unsynced = false;
    for (const f of d.outbox.values()) this.add(f.message, f.count);
    d.outbox.clear();
  }

  /**
   * Server `id` crashes and starts again from its disk: incomplete writes and the sends that
   * waited for them are lost.
   */
  restart(id: NodeId): StepRecord {
    const d = this.disk(id);
    d.written = d.durable;
    d.unsynced = false;
    d.outbox.clear();
    return this.event(id, { type: 'Restart', persisted: d.durable });
  }

  /** The role server `id` is in: its statechart's state. */
  role(id: NodeId): Role {
    return roleOf(this.snapshot(id));
  }

  state(id: NodeId): RaftState {
    return this.snapshot(id).context;
  }

  states(): RaftState[] {
    return this.ids.map((id) => this.state(id));
  }

  snapshot(id: NodeId): MachineSnapshot {
    const s = this.snapshots.get(id);
    if (s === undefined) throw new Error(`no server ${id}`);
    return s;
  }

  /** Feed one event to one server and route what it emits. */
  event(id: NodeId, event: RaftEvent): StepRecord {
    const [next, effects] = this.stepOf(this.snapshot(id), event);
    this.snapshots.set(id, next);
    const taken: string[] = [];
    const d = this.disk(id);
    for (const effect of effects) {
      if (effect.type === 'persist') {
        d.written = applyWrite(d.written, effect);
        d.unsynced = true;
      } else if (effect.type === 'send') {
        // [Fig2 "respond after persisting"] a send waits for the writes emitted before it
        if (d.unsynced) addTo(d.outbox, effect.message);
        else this.add(effect.message);
      } else if (effect.type === 'reply') this.replies.push(effect.message);
      else if (effect.type === 'trace') taken.push(effect.action);
    }
    if (this.durability === 'immediate') this.persist(id);
    return { server: id, event, actions: taken, effects };
  }

  add(message: PeerMessage, copies = 1): void {
    addTo(this.bag, message, copies);
  }

  /** Remove one copy; returns the message, or undefined if none is in flight. */
  take(key: string): PeerMessage | undefined {
    const inFlight = this.bag.get(key);
    if (inFlight === undefined) return undefined;
    if (inFlight.count <= 1) this.bag.delete(key);
    else this.bag.set(key, { message: inFlight.message, count: inFlight.count - 1 });
    return inFlight.message;
  }

  /** Deliver one copy of the message under `key` to its destination. */
  deliver(key: string): StepRecord | undefined {
    const message = this.take(key);
    return message === undefined ? undefined : this.event(message.dst, message);
  }

  drop(key: string): boolean {
    return this.take(key) !== undefined;
  }

  duplicate(key: string): boolean {
    const inFlight = this.bag.get(key);
    if (inFlight === undefined) return false;
    this.add(inFlight.message);
    return true;
  }

  /** Keys of the messages in flight, in a deterministic order. */
  inFlightKeys(): string[] {
    return [...this.bag.keys()].sort();
  }
}
