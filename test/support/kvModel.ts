/**
 * The key-value state machine by its definition (`spec/raft.qnt`: `applyCmd`, `answerOf`,
 * `expire`), written as plainly as possible, for property tests of `core/kv.ts`: a map of values,
 * a session table kept in use order, and the answer of each command. No sharing, no versions, no
 * byte counters: those are what the tests compare against it.
 */
import type { PageQuery } from '../../src/core/kv.js';
import type { Cmd, Session } from '../../src/wire/messages.js';

export const MODEL_EXPIRED = 'expired' as const;
export type ModelAnswer = string | null | undefined | typeof MODEL_EXPIRED;

export interface KvModel {
  readonly data: Map<string, string>;
  /** Least recently used first. */
  readonly sessions: [number, Session][];
}

export const emptyModel = (): KvModel => ({ data: new Map(), sessions: [] });

export const copyModel = (m: KvModel): KvModel =>
  ({ data: new Map(m.data), sessions: m.sessions.map(([id, s]) => [id, { ...s }]) });

/** Apply the entry at `index`; its answer. Mutates `m`. */
export function modelApply(m: KvModel, cmd: Cmd, index: number): ModelAnswer {
  if (cmd.kind === 'noop' || cmd.kind === 'config') return undefined;
  if (cmd.kind === 'register') {
    m.sessions.push([index, { seq: 0, value: null, last: index } as Session]);
    m.sessions.splice(0, Math.max(0, m.sessions.length - cmd.keep));
    return undefined;
  }
  const found = m.data.get(cmd.key) ?? null;
  if (cmd.kind === 'get') return found;
  const at = m.sessions.findIndex(([id]) => id === cmd.session);
  if (cmd.session > 0) {
    if (at < 0) return MODEL_EXPIRED;
    const session = (m.sessions[at] as [number, Session])[1];
    if (cmd.seq <= session.seq) return session.value;
  }
  let answer: string | null = found;
  if (cmd.kind === 'put') {
    m.data.set(cmd.key, cmd.value);
    answer = cmd.value;
  } else if (cmd.kind === 'del') m.data.delete(cmd.key);
  else if (found === cmd.expected) m.data.set(cmd.key, cmd.value);
  if (cmd.session > 0) {
    m.sessions.splice(at, 1);
    m.sessions.push([cmd.session, { seq: cmd.seq, value: cmd.kind === 'put' ? null : answer,
      last: index } as Session]);
  }
  return answer;
}

/** The lengths (UTF-16 units) of every key and value held, the values sessions keep included. */
export function modelBytes(m: KvModel): number {
  let n = 0;
  for (const [k, v] of m.data) n += k.length + v.length;
  for (const [, s] of m.sessions) n += s.value?.length ?? 0;
  return n;
}

/** A command's size by its definition: the lengths of the key and values it carries. */
export function modelCmdSize(cmd: Cmd): number {
  if (cmd.kind === 'noop' || cmd.kind === 'register' || cmd.kind === 'config') return 0;
  return [cmd.key, 'value' in cmd ? cmd.value : '', 'expected' in cmd ? cmd.expected ?? '' : '']
    .reduce((n, s) => n + s.length, 0);
}

/** The JSON size a page counts for one pair (`kvList`): its UTF-8 bytes and a separator. */
export const pairBytes = (pair: [string, string]): number =>
  Buffer.byteLength(JSON.stringify(pair)) + 1;

/** The page by definition: sort every matching key, take the first `limit`, then cut by bytes. */
export function modelPage(data: ReadonlyMap<string, string>, q: PageQuery) {
  const keys = [...data.keys()].filter((k) => k.startsWith(q.prefix)
    && (q.after === null || k > q.after)).sort();
  const pairs: [string, string][] = [];
  let bytes = 0;
  for (const k of keys.slice(0, q.limit)) {
    const pair: [string, string] = [k, data.get(k) as string];
    bytes += pairBytes(pair);
    if (pairs.length > 0 && bytes > q.maxBytes) break;
    pairs.push(pair);
  }
  return { pairs, next: pairs.length < keys.length ? (pairs.at(-1) as [string, string])[0] : null };
}
