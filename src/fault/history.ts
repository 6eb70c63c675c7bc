/**
 * The client history of a run: logical operations (what a client wanted, from its first invoke to
 * its final answer) and the attempts that carried them (one MID each, with every answer that MID
 * got). Plain data that the checkers read after the run; times are ms on the driver's clock.
 */
import type { OpKind } from './workload.js';

export type AnswerType = 'ok' | 'fail' | 'redirect' | 'expired';

export interface Answer {
  readonly type: AnswerType;
  readonly atMs: number;
  /** The replica that answered. */
  readonly from: string;
  /** The client the answer was addressed to. */
  readonly to: string;
  readonly leader: string;
  /** A get's `ok` carries the value read. */
  readonly value: string | undefined;
  /** A list's `ok` carries a page. */
  readonly page?: ListAnswer;
}

export interface Attempt {
  readonly mid: string;
  readonly op: number;
  readonly client: string;
  /** The replica the request was sent to. */
  readonly to: string;
  readonly sentMs: number;
  readonly answers: readonly Answer[];
}

/**
 * pending: the last attempt is unanswered; ok: answered ok; abandoned: retried too often;
 * unsent: no live replica to send to; expired: a write answered `expired` [§6.3] (that copy did
 * nothing, an earlier one may have: its outcome is unknown, as an unanswered write's).
 */
export type OpStatus = 'pending' | 'ok' | 'abandoned' | 'unsent' | 'expired';

export interface Operation {
  readonly id: number;
  readonly client: string;
  readonly kind: OpKind;
  readonly key: string;
  /** A put's or cas's value. */
  readonly value: string | undefined;
  /** A cas's expected value (`null`: the key absent). */
  readonly expected?: string | null;
  readonly invokedMs: number;
  readonly mids: readonly string[];
  readonly status: OpStatus;
  /** When the `ok` arrived. */
  readonly okMs: number | undefined;
  /** What a get read, or a del or cas found: the `ok`'s value (none: absent, in direct mode). */
  readonly read: string | undefined;
  /** A list's page request (`key` is its prefix): after which key, how many at most. */
  readonly after?: string;
  readonly limit?: number;
  /** What a list's `ok` carried. */
  readonly page?: ListAnswer;
}

/** A page of a listing as its `ok` carried it: pairs, and `next` when keys remain. */
export interface ListAnswer {
  readonly pairs: readonly (readonly [string, string])[];
  readonly next: string | undefined;
}

/** An answer to a MID that no client sent. */
export interface StrayAnswer extends Answer {
  readonly mid: string;
}

/** What the checkers read. */
export interface HistoryData {
  readonly operations: readonly Operation[];
  readonly attempts: readonly Attempt[];
  readonly strays: readonly StrayAnswer[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type OperationRecord = Mutable<Operation> & { mids: string[] };
type AttemptRecord = Attempt & { answers: Answer[] };

export class History implements HistoryData {
  private readonly ops: OperationRecord[] = [];
  private readonly byMid = new Map<string, AttemptRecord>();
  private readonly sent: AttemptRecord[] = [];
  private readonly stray: StrayAnswer[] = [];

  get operations(): readonly Operation[] { return this.ops; }
  get attempts(): readonly Attempt[] { return this.sent; }
  get strays(): readonly StrayAnswer[] { return this.stray; }

  operation(id: number): Operation | undefined {
    return this.ops[id];
  }

  attempt(mid: string): Attempt | undefined {
    return this.byMid.get(mid);
  }

  /** A new logical operation; its id is its index. */
  invoke(client: string, kind: OpKind, key: string, value: string | undefined,
    atMs: number, expected?: string | null, page?: { after?: string; limit?: number }):
    Operation {
    const op: OperationRecord = { id: this.ops.length, client, kind, key, value, invokedMs: atMs,
      mids: [], status: 'pending', okMs: undefined, read: undefined,
      ...(expected === undefined ? {} : { expected }),
      ...(page?.after === undefined ? {} : { after: page.after }),
      ...(page?.limit === undefined ? {} : { limit: page.limit }) };
    this.ops.push(op);
    return op;
  }

  /** An attempt of `op` left with a MID never used before. */
  send(op: number, mid: string, to: string, atMs: number): void {
    const record = this.ops[op];
    if (record === undefined) throw new Error(`send for unknown operation ${op}`);
    if (this.byMid.has(mid)) throw new Error(`MID ${mid} used twice`);
    const attempt: AttemptRecord = { mid, op, client: record.client, to, sentMs: atMs,
      answers: [] };
    record.mids.push(mid);
    this.byMid.set(mid, attempt);
    this.sent.push(attempt);
  }

  /** Record an answer: the first to its MID, a further one, or one to a MID never sent. */
  answer(mid: string, answer: Answer): 'first' | 'again' | 'stray' {
    const attempt = this.byMid.get(mid);
    if (attempt === undefined) {
      this.stray.push({ ...answer, mid });
      return 'stray';
    }
    attempt.answers.push(answer);
    return attempt.answers.length === 1 ? 'first' : 'again';
  }

  complete(op: number, atMs: number, read: string | undefined, page?: ListAnswer): void {
    const record = this.ops[op];
    if (record === undefined || record.status !== 'pending') return;
    record.status = 'ok';
    record.okMs = atMs;
    record.read = read;
    if (page !== undefined) record.page = page;
  }

  giveUp(op: number, status: 'abandoned' | 'unsent' | 'expired'): void {
    const record = this.ops[op];
    if (record !== undefined && record.status === 'pending') record.status = status;
  }
}
