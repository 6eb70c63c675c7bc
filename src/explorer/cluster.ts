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
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
  });
}

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
