/**
 * Resource bounds a replica keeps whatever its clients send: checked after every step of a
 * simulated replica.
 */
import { toArray } from '../core/chain.js';
import { entryAt, lastLogIndex } from '../core/log.js';
import { kvGet } from '../core/kv.js';
import type { RaftEvent } from '../core/machine.js';
import { SMALL_REQUEST, waitingRequests } from '../core/rules/client.js';
import type { Config, Effect, RaftState, Role } from '../core/state.js';
import { MAX_PAGE_BYTES, type Cmd } from '../wire/messages.js';
import type { Violation } from './safety.js';

/** The bounds the replicas were configured with (not what a replica's own state says). */
export type WaitingBounds = Pick<Config, 'maxWaitingRequests' | 'maxWaitingPerClient'
  | 'maxWaitingBytes'>;

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

/** The units of a command's key and values; a page weighs the most its pairs may take. */
function weight(c: Cmd | { kind: 'list' }): number {
  switch (c.kind) {
    case 'list': return MAX_PAGE_BYTES;
    case 'noop': case 'register': case 'config': return 0;
    case 'put': return c.key.length + c.value.length;
    case 'cas': return c.key.length + c.value.length + (c.expected?.length ?? 0);
    default: return c.key.length;
  }
}

/**
 * The units a server keeps for waiting requests: held ones, and a leader's reads (a get weighs
 * its key and the value it will read) and uncommitted entries, which its pending writes share.
 */
function unitsWaiting(s: RaftState, role: Role): number {
  let n = 0;
  for (const h of s.held) n += weight(h.cmd);
  if (role !== 'Leader') return n;
  for (const r of s.reads) {
    n += r.cmd.kind === 'list' ? MAX_PAGE_BYTES
      : r.cmd.key.length + (kvGet(s.kv, s.log, r.cmd.key)?.length ?? 0);
  }
  for (let i = s.commitIndex + 1; i <= lastLogIndex(s.log); i++) {
    const e = entryAt(s.log, i);
    if (e !== undefined) n += weight(e.cmd);
  }
  return n;
}

/**
 * [client.ts: overloaded, the deviation for large requests] A request that weighs more than the
 * simulator-routed protocol's largest (`SMALL_REQUEST`) is kept waiting only if what waits, with
 * it, stays within `maxWaitingBytes`: so neither what a server keeps nor what one read round
 * answers can fill its memory. Checked at the step that received it, when it was neither refused
 * nor answered there.
 */
export function largeWithinBytes(id: string, before: RaftState, event: RaftEvent, role: Role,
  after: RaftState, effects: readonly Effect[], c: WaitingBounds): Violation | undefined {
  let size: number;
  switch (event.type) {
    case 'put': size = event.key.length + event.value.length; break;
    case 'cas': size = event.key.length + event.value.length + (event.expected?.length ?? 0); break;
    case 'del': size = event.key.length; break;
    case 'get': size = event.key.length + (kvGet(before.kv, before.log, event.key)?.length ?? 0);
      break;
    case 'list': size = MAX_PAGE_BYTES; break;
    default: return undefined;
  }
  if (size <= SMALL_REQUEST) return undefined;
  const mid = event.MID;
  if (effects.some((e) => e.type === 'reply' && 'MID' in e.message && e.message.MID === mid)) {
    return undefined;
  }
  const units = unitsWaiting(after, role);
  if (units <= c.maxWaitingBytes) return undefined;
  return { invariant: 'overloadBound', detail: `${id} kept ${event.type} ${mid} of ${size} units ` +
    `waiting, with ${units} units in all (bound ${c.maxWaitingBytes})` };
}
