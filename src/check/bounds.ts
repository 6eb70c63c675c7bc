/**
 * Resource bounds a replica keeps whatever its clients send: checked after every step of a
 * simulated replica.
 */
import { toArray } from '../core/chain.js';
import { waitingRequests } from '../core/rules/client.js';
import type { Config, RaftState } from '../core/state.js';
import type { Violation } from './safety.js';

/** The bounds the replicas were configured with (not what a replica's own state says). */
export type WaitingBounds = Pick<Config, 'maxWaitingRequests' | 'maxWaitingPerClient'>;

/**
 * [spec: overloaded] The requests a server keeps waiting (held, a leader's reads and pending
 * writes) never pass `maxWaitingRequests`, nor one client's `maxWaitingPerClient`: past them a
 * request is refused at once, whatever the role, so a flood cannot grow a replica's memory.
 */
export function waitingWithinBounds(id: string, s: RaftState, c: WaitingBounds):
  Violation | undefined {
  const waiting = waitingRequests(s);
  if (waiting > c.maxWaitingRequests) {
    return { invariant: 'overloadBound', detail: `${id} keeps ${waiting} requests waiting ` +
      `(bound ${c.maxWaitingRequests})` };
  }
  if (waiting <= c.maxWaitingPerClient) return undefined;
  const per = new Map<string, number>();
  const count = (client: string) => per.set(client, (per.get(client) ?? 0) + 1);
  for (const p of toArray(s.pending)) count(p.cmd.client);
  for (const r of s.reads) count(r.cmd.client);
  for (const h of s.held) count(h.cmd.client);
  for (const [client, n] of per) {
    if (n > c.maxWaitingPerClient) {
      return { invariant: 'overloadBound', detail: `${id} keeps ${n} requests of ${client} ` +
        `waiting (bound ${c.maxWaitingPerClient} per client)` };
    }
  }
  return undefined;
}
