/**
 * The timing properties of a run in simulated time: what a replica's timers promise, as seen
 * from the network, whatever the faults. Each is stated by the rule it follows from, with one tick
 * of slack for a step that happens at the instant the timer falls due.
 *
 * - **Heartbeat** [§5.2]: a leader sends each peer an AppendEntries (or a snapshot) at least every
 *   `heartbeatTicks`, so a follower that can hear it never times out. Its own sends, so drops
 *   cannot excuse a gap.
 * - **CheckQuorum** [§6.2, etcd's `checkQuorum`]: a leader that has had no AppendEntries response of
 *   its term from a quorum (itself included) for two `electionTimeoutTicksMin` periods is not a
 *   leader any more: the check every period clears what it heard, and the next finds nothing.
 * - **Redirect freshness** (`leaderFresh`, `redirectFreshTicks`): a follower redirects a client
 *   only to a leader it received an AppendEntries or snapshot from lately; otherwise it holds the
 *   request, rather than send clients to a leader that may be gone.
 *
 * Fed by the simulation: every datagram delivered, every message sent, every step of a replica.
 */
import { quorum, type Config, type Effect, type RaftState, type Role } from '../core/state.js';
import type { Violation } from './safety.js';

/** The `leader` field of a message from a replica that knows none (`replica-udp.md`). */
const NO_LEADER = 'FFFF';

/** What only a leader sends: a snapshot travels as chunks, each of which counts as heard. */
const FROM_LEADER: ReadonlySet<string> = new Set(['AppendEntriesRequest',
  'InstallSnapshotRequest', 'InstallSnapshotChunk']);

interface Leadership {
  readonly term: number;
  readonly sinceMs: number;
  /** When this leader last sent AppendEntries or a snapshot to each peer. */
  readonly sentMs: Map<string, number>;
}

export class TimingChecker {
  /** Per receiver and sender: the last AppendEntriesResponse delivered, its term and time. */
  private readonly acks = new Map<string, Map<string, { term: number; atMs: number }>>();
  /** Per receiver and sender: when an AppendEntries or snapshot was last delivered. */
  private readonly fromLeader = new Map<string, Map<string, number>>();
  private readonly leading = new Map<string, Leadership>();

  constructor(private readonly tickMs: number) {}

  /** A datagram reached replica `to`. */
  delivered(to: string, value: unknown, atMs: number): void {
    if (typeof value !== 'object' || value === null) return;
    const { type, src, term } = value as { type?: unknown; src?: unknown; term?: unknown };
    if (typeof src !== 'string') return;
    if (type === 'AppendEntriesResponse' && typeof term === 'number') {
      mapOf(this.acks, to).set(src, { term, atMs });
    } else if (typeof type === 'string' && FROM_LEADER.has(type)) {
      mapOf(this.fromLeader, to).set(src, atMs);
    }
  }

  /** The process of replica `id` ended: what it heard and sent as leader goes with it. */
  stopped(id: string): void {
    this.leading.delete(id);
    this.acks.delete(id);
    this.fromLeader.delete(id);
  }

  /**
   * Replica `id` took a step, is now `role` in `s`, and produced `effects` (sent when durable: the
   * properties are about what it decides, so they count from the step).
   */
  stepped(id: string, role: Role, s: RaftState, effects: readonly Effect[], atMs: number):
    Violation | undefined {
    for (const e of effects) {
      if (e.type !== 'reply' || e.message.type !== 'redirect') continue;
      const v = this.redirect(id, s.config, e.message.leader, atMs);
      if (v !== undefined) return v;
    }
    if (role !== 'Leader') {
      this.leading.delete(id);
      return undefined;
    }
    let l = this.leading.get(id);
    if (l === undefined || l.term !== s.currentTerm) {
      l = { term: s.currentTerm, sinceMs: atMs, sentMs: new Map() };
      this.leading.set(id, l);
    }
    for (const e of effects) {
      if (e.type === 'send' && FROM_LEADER.has(e.message.type)) l.sentMs.set(e.message.dst, atMs);
    }
    const c = s.config;
    const beat = (c.heartbeatTicks + 1) * this.tickMs;
    for (const peer of c.peers) {
      const last = l.sentMs.get(peer) ?? l.sinceMs;
      if (atMs - last > beat) {
        return { invariant: 'heartbeat', detail: `${id}, leader of term ${l.term}, has sent ` +
          `${peer} nothing for ${(atMs - last).toFixed(0)} ms (heartbeat every ` +
          `${c.heartbeatTicks * this.tickMs} ms)` };
      }
    }
    const window = (2 * c.electionTimeoutTicksMin + 1) * this.tickMs;
    if (atMs - l.sinceMs <= window) return undefined;
    const acks = this.acks.get(id);
    let heard = 1;
    for (const peer of c.peers) {
      const a = acks?.get(peer);
      if (a !== undefined && a.term === l.term && atMs - a.atMs <= window) heard++;
    }
    if (heard >= quorum(c)) return undefined;
    return { invariant: 'checkQuorum', detail: `${id} is still leader of term ${l.term} ` +
      `${(atMs - l.sinceMs).toFixed(0)} ms after it was elected, but heard from ${heard} of ` +
      `${c.peers.length + 1} (itself included) in the last ${window} ms` };
  }

  private redirect(from: string, config: Config, leader: string | undefined, atMs: number):
    Violation | undefined {
    // a leader redirects to itself a request whose entry another took the place of: retry here
    if (leader === undefined || leader === from || leader === NO_LEADER) return undefined;
    const heard = this.fromLeader.get(from)?.get(leader);
    const fresh = (config.redirectFreshTicks + 1) * this.tickMs;
    if (heard !== undefined && atMs - heard <= fresh) return undefined;
    return { invariant: 'redirectFresh', detail: `${from} redirected a client to ${leader}, ` +
      (heard === undefined ? 'which it never heard from as leader'
        : `last heard from ${(atMs - heard).toFixed(0)} ms before`) +
      ` (fresh: within ${config.redirectFreshTicks * this.tickMs} ms)` };
  }
}

function mapOf<V>(m: Map<string, Map<string, V>>, k: string): Map<string, V> {
  let v = m.get(k);
  if (v === undefined) {
    v = new Map();
    m.set(k, v);
  }
  return v;
}
