/**
 * The leader's message budget: what its pacing promises to cost (`core/pacing.ts`, the design it
 * states), checked from what the leader sends, step by step, whatever the faults. Pacing cannot
 * break safety (the spec lets a leader replicate to any peer at any time), so a replica that
 * sends more than it should passes every safety check; this is the property that notices.
 *
 * A leader sends AppendEntries or a snapshot to a peer in a step only when:
 * - **election**: it has just become leader (its first round goes to every peer);
 * - **heartbeat**: it has sent that peer nothing for `heartbeatTicks` (its own clock, in ticks);
 * - **catch-up**: the step handles that peer's AppendEntriesResponse of its term, and the response
 *   is a rejection, or acknowledges more than the peer ever acknowledged before while the leader
 *   holds entries past it (a duplicated or stale acknowledgement asks for nothing);
 * - **flush**: the step ends a batch of client requests (`Flush`), and it sends new entries, not a
 *   snapshot, to at most `quorum - 1` peers besides those due a heartbeat: enough to commit them.
 *
 * And at most one AppendEntries to a peer per step, which fits in one datagram unless it carries a
 * single entry (`replication.ts`: a batch stops before it could outgrow one). Anything else is a
 * datagram the design did not pay for. Counted per leadership (a new term, or a restart, starts
 * again).
 */
import type { RaftEvent } from '../core/machine.js';
import { lastLogIndex } from '../core/log.js';
import { quorum, type Effect, type RaftState, type Role } from '../core/state.js';
import { encodeMessage, MAX_DATAGRAM_BYTES, utf8ByteLength } from '../wire/codec.js';
import type { AppendEntriesRequest } from '../wire/messages.js';
import type { Violation } from './safety.js';

/** Characters of keys and values below which a batch cannot outgrow a datagram: not encoded. */
const SURELY_FITS = 6_000;

interface Leadership {
  readonly term: number;
  /** The leader's clock (ticks) at its last send to each peer. */
  readonly sentAt: Map<string, number>;
  /** The highest index each peer acknowledged to this leader. */
  readonly acked: Map<string, number>;
}

type Sent = 'AppendEntries' | 'snapshot';

export class CostChecker {
  private readonly leading = new Map<string, Leadership>();

  /** The process of replica `id` ended: its leadership with it. */
  stopped(id: string): void {
    this.leading.delete(id);
  }

  /** Replica `id` handled `event` in `before`, and is now `role` in `s`, having sent `effects`. */
  stepped(id: string, before: RaftState, event: RaftEvent, role: Role, s: RaftState,
    effects: readonly Effect[]): Violation | undefined {
    if (role !== 'Leader') {
      this.leading.delete(id);
      return undefined;
    }
    const sent = new Map<string, Sent>();
    for (const e of effects) {
      if (e.type !== 'send') continue;
      const m = e.message;
      if (m.type === 'AppendEntriesRequest') {
        if (sent.has(m.dst)) {
          return over(id, s, `sent ${m.dst} two AppendEntries in one step (${event.type})`);
        }
        sent.set(m.dst, 'AppendEntries');
        const bytes = m.entries.length > 1 ? batchBytes(m) : 0;
        if (bytes > MAX_DATAGRAM_BYTES) {
          return over(id, s, `sent ${m.dst} ${m.entries.length} entries in ${bytes} bytes, ` +
            `more than a datagram holds (${MAX_DATAGRAM_BYTES})`);
        }
      } else if (m.type === 'InstallSnapshotRequest') {
        sent.set(m.dst, 'snapshot');
      }
    }
    let l = this.leading.get(id);
    const elected = l === undefined || l.term !== s.currentTerm;
    if (l === undefined || elected) {
      l = { term: s.currentTerm, sentAt: new Map(), acked: new Map() };
      this.leading.set(id, l);
    }
    const v = elected ? undefined : this.justify(id, l, before, event, s, sent);
    for (const peer of sent.keys()) l.sentAt.set(peer, s.now);
    if (event.type === 'AppendEntriesResponse' && event.term === s.currentTerm && event.success) {
      l.acked.set(event.src, Math.max(l.acked.get(event.src) ?? 0, event.matchIndex));
    }
    return v;
  }

  private justify(id: string, l: Leadership, before: RaftState, event: RaftEvent, s: RaftState,
    sent: ReadonlyMap<string, Sent>): Violation | undefined {
    const c = s.config;
    let flushed = 0;
    for (const [peer, kind] of sent) {
      const last = l.sentAt.get(peer);
      if (last === undefined || s.now - last >= c.heartbeatTicks) continue;
      const what = `${kind} to ${peer} ${s.now - last} tick(s) after the last ` +
        `(heartbeat every ${c.heartbeatTicks})`;
      if (event.type === 'AppendEntriesResponse' && event.src === peer) {
        if (event.term !== s.currentTerm) {
          return over(id, s, `sent ${what}, on a response of term ${event.term}`);
        }
        if (!event.success) continue;
        const acked = l.acked.get(peer) ?? 0;
        if (event.matchIndex > acked && event.matchIndex < lastLogIndex(before.log)) continue;
        return over(id, s, `sent ${what}, on an acknowledgement of ${event.matchIndex} ` +
          `(${peer} had acknowledged ${acked}; the leader's log ends at ` +
          `${lastLogIndex(before.log)}): nothing new to catch up`);
      }
      if (event.type === 'Flush' && kind === 'AppendEntries' && ++flushed < quorum(c)) continue;
      return over(id, s, event.type === 'Flush'
        ? `flushed to more than ${quorum(c) - 1} peer(s) not due a heartbeat (${what})`
        : `sent ${what}, on ${event.type}`);
    }
    return undefined;
  }
}

/** The bytes of a batch on the wire; 0 when its keys and values are too few to matter. */
function batchBytes(m: AppendEntriesRequest): number {
  let chars = 0;
  for (const e of m.entries) {
    const c = e.cmd;
    if (c.kind === 'put' || c.kind === 'cas') chars += c.key.length + c.value.length;
  }
  return chars < SURELY_FITS ? 0 : utf8ByteLength(encodeMessage(m));
}

function over(id: string, s: RaftState, detail: string): Violation {
  return { invariant: 'messageBudget', detail: `${id}, leader of term ${s.currentTerm}, ${detail}` };
}
