/**
 * The explorer's client history is the fault model's (`fault/history.ts`): each request is an
 * operation of one attempt, times are the explorer's logical clock. Over it, the spec's
 * `kvLinearizable` property: every acknowledged get returns the value of a put acknowledged before
 * the get was invoked and not followed (in real time) by another such put, or of a put not yet
 * acknowledged then, or "" if no put of its key was acknowledged before. Put values must be unique
 * for this check to be exact. (The full linearizability checker, `fault/linearizability.ts`, runs
 * on the simulations' histories; this is the property the spec states, cheap enough for every
 * explorer seed.)
 */
import type { ClientResponse } from '../wire/messages.js';
import { History, type HistoryData } from '../fault/history.js';

export interface HistoryViolation { readonly mid: string; readonly detail: string }

/** The explorer's clients: their history, on a logical clock that ticks at every record. */
export class ExplorerClients {
  readonly history = new History();
  private clock = 0;

  /** A request leaves with `mid`, to `to`. */
  invoke(mid: string, kind: 'get' | 'put', key: string, value: string | undefined, client: string,
    to: string): void {
    const at = this.clock++;
    const op = this.history.invoke(client, kind, key, kind === 'put' ? value : undefined, at);
    this.history.send(op.id, mid, to, at);
  }

  /** Record an answer; a second answer to one MID, or one to a MID never sent, is a violation. */
  answer(reply: ClientResponse): HistoryViolation | undefined {
    const at = this.clock++;
    // its clients write without sessions: none can have expired
    if (reply.type === 'expired') return { mid: reply.MID, detail: 'expired, with no session' };
    const value = 'value' in reply ? reply.value : undefined;
    const first = this.history.attempt(reply.MID)?.answers[0];
    const seen = this.history.answer(reply.MID, { type: reply.type, atMs: at, from: reply.src,
      to: reply.dst, leader: reply.leader, value });
    if (seen === 'stray') return { mid: reply.MID, detail: 'answer to a request never sent' };
    if (seen === 'again') {
      return { mid: reply.MID, detail: `second answer ${reply.type} after ${first?.type}` };
    }
    const op = this.history.attempt(reply.MID)?.op as number;
    if (reply.type === 'ok') this.history.complete(op, at, value ?? '');
    return undefined;
  }
}

/** The spec's `kvLinearizable` over a history (see above). */
export function kvLinearizable(h: HistoryData): HistoryViolation | undefined {
  const puts = h.operations.filter((o) => o.kind === 'put');
  const acked = (o: HistoryData['operations'][number]): boolean => o.status === 'ok';
  for (const get of h.operations) {
    if (get.kind !== 'get' || !acked(get)) continue;
    const read = get.read ?? '';
    const onKey = puts.filter((p) => p.key === get.key);
    const ackedBefore = onKey.filter((p) => acked(p) && (p.okMs ?? Infinity) < get.invokedMs);
    const last = ackedBefore.filter((p) => !ackedBefore.some((q) =>
      q.invokedMs > (p.okMs ?? Infinity)));
    const concurrent = onKey.filter((p) => !ackedBefore.includes(p)
      && p.invokedMs < (get.okMs ?? Infinity));
    const allowed = new Set([...last, ...concurrent].map((p) => p.value ?? ''));
    if (ackedBefore.length === 0) allowed.add('');
    if (!allowed.has(read)) {
      const mid = get.mids[get.mids.length - 1] ?? String(get.id);
      return { mid, detail: `get ${get.key} read "${read}", allowed ${[...allowed]}` };
    }
  }
  return undefined;
}
