/**
 * A client history of puts and gets, and the spec's `kvLinearizable` property over it: every
 * acknowledged get returns the value of a put acknowledged before the get was invoked and not
 * followed (in real time) by another such put, or of a put not yet acknowledged then, or "" if no
 * put of its key was acknowledged before. Put values must be unique for this check to be exact.
 * (A full linearizability checker is another module; this is the property the spec states.)
 */
import type { ClientResponse } from '../wire/messages.js';

interface Op {
  readonly mid: string;
  readonly kind: 'get' | 'put';
  readonly key: string;
  readonly value: string;
  readonly invokedAt: number;
  answeredAt?: number;
  answer?: ClientResponse;
}

export interface HistoryViolation { readonly mid: string; readonly detail: string }

export class KvHistory {
  private readonly ops = new Map<string, Op>();
  private clock = 0;

  invoke(mid: string, kind: 'get' | 'put', key: string, value = ''): void {
    this.ops.set(mid, { mid, kind, key, value, invokedAt: this.clock++ });
  }

  /** Record an answer; a second answer to one MID is itself a violation. */
  answer(reply: ClientResponse): HistoryViolation | undefined {
    const op = this.ops.get(reply.MID);
    if (op === undefined) return { mid: reply.MID, detail: 'answer to a request never sent' };
    if (op.answer !== undefined) {
      return { mid: reply.MID, detail: `second answer ${reply.type} after ${op.answer.type}` };
    }
    op.answer = reply;
    op.answeredAt = this.clock++;
    return undefined;
  }

  check(): HistoryViolation | undefined {
    const puts = [...this.ops.values()].filter((o) => o.kind === 'put');
    for (const get of this.ops.values()) {
      if (get.kind !== 'get' || get.answer?.type !== 'ok') continue;
      const read = get.answer.value ?? '';
      const onKey = puts.filter((p) => p.key === get.key);
      const ackedBefore = onKey.filter((p) => p.answer?.type === 'ok'
        && (p.answeredAt ?? Infinity) < get.invokedAt);
      const last = ackedBefore.filter((p) => !ackedBefore.some((q) =>
        q.invokedAt > (p.answeredAt ?? Infinity)));
      const concurrent = onKey.filter((p) => !ackedBefore.includes(p)
        && p.invokedAt < (get.answeredAt ?? Infinity));
      const allowed = new Set([...last, ...concurrent].map((p) => p.value));
      if (ackedBefore.length === 0) allowed.add('');
      if (!allowed.has(read)) {
        return { mid: get.mid, detail: `get ${get.key} read "${read}", allowed ${[...allowed]}` };
      }
    }
    return undefined;
  }
}
