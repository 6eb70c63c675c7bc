/**
 * io-ts helpers for the fault model's inputs: scenario files and the datagrams replicas send to
 * the simulator. Every error names its path (`events.1.type: ...`), as the wire codecs do.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import { ClientResponse, NodeId } from '../wire/messages.js';

/** A codec whose value is its input once `guard` accepts it; `expected` is its error message. */
export function refined<A>(name: string, guard: (u: unknown) => u is A, expected: string):
  t.Type<A, A, unknown> {
  return new t.Type<A, A, unknown>(
    name,
    guard,
    (u, c) => (guard(u) ? t.success(u) : t.failure(u, c, expected)),
    t.identity,
  );
}

export const isObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u);

type ClosedType<P extends t.Props, O extends t.Props> =
  t.TypeOf<t.TypeC<P>> & t.TypeOf<t.PartialC<O>>;

/**
 * An object of `props` and, possibly absent, `optionalProps`, that also refuses fields it does
 * not know: a misspelt `end_wiat` in a scenario would otherwise be ignored silently and the run
 * would use the default.
 */
export function closedObject<P extends t.Props, O extends t.Props = Record<never, t.Mixed>>(
  name: string, props: P, optionalProps?: O): t.Type<ClosedType<P, O>, ClosedType<P, O>, unknown> {
  const base = t.intersection([t.type(props), t.partial(optionalProps ?? {})]);
  const known = new Set([...Object.keys(props), ...Object.keys(optionalProps ?? {})]);
  return new t.Type<ClosedType<P, O>, ClosedType<P, O>, unknown>(
    name,
    (u): u is ClosedType<P, O> => base.is(u) && Object.keys(u).every((k) => known.has(k)),
    (u, c) => {
      if (!isObject(u)) return t.failure(u, c, 'expected an object');
      const extra: t.ValidationError[] = Object.keys(u).filter((k) => !known.has(k)).map((k) => ({
        value: u[k], context: t.appendContext(c, k, t.never, u[k]), message: 'unknown field' }));
      const decoded = base.validate(u, c) as t.Validation<ClosedType<P, O>>;
      if (extra.length === 0) return decoded;
      return t.failures(E.isLeft(decoded) ? [...decoded.left, ...extra] : extra);
    },
    t.identity,
  );
}

/** A field that may be absent: `fallback` is its value then. */
export function withDefault<A, O>(codec: t.Type<A, O, unknown>, fallback: A):
  t.Type<A, O, unknown> {
  return new t.Type<A, O, unknown>(
    codec.name,
    codec.is,
    (u, c) => (u === undefined ? t.success(fallback) : codec.validate(u, c)),
    codec.encode,
  );
}

/** A short rendering of an input value for an error (never a whole object). */
function show(u: unknown): string {
  if (u === undefined) return 'nothing';
  if (typeof u === 'string') return JSON.stringify(u.length > 32 ? `${u.slice(0, 32)}...` : u);
  if (Array.isArray(u)) return `an array of length ${u.length}`;
  if (u === null || typeof u !== 'object') return String(u);
  return 'an object';
}

/**
 * The data path of an io-ts context. Entries that do not descend into the data (intersections,
 * unions, our wrappers) have the same input as their parent and are skipped.
 */
function pathOf(context: t.Context): string {
  const keys: string[] = [];
  for (let i = 1; i < context.length; i++) {
    const entry = context[i];
    const parent = context[i - 1];
    if (entry === undefined || parent === undefined || entry.actual === parent.actual) continue;
    keys.push(entry.key);
  }
  return keys.join('.');
}

/** One `path: reason` line per offending path, in the order io-ts found them. */
export function describeErrors(errors: t.Errors): string[] {
  const lines = new Map<string, string>();
  for (const error of errors) {
    const path = pathOf(error.context) || '(top)';
    if (lines.has(path)) continue;
    const last = error.context[error.context.length - 1];
    const expected = error.message ?? `expected ${last?.type.name ?? 'a value'}`;
    const reason = error.value === undefined && error.message !== 'unknown field'
      ? `missing (${expected})` : `${expected}, got ${show(error.value)}`;
    lines.set(path, `${path}: ${reason}`);
  }
  return [...lines.values()];
}

/** What the simulator reads of every replica datagram (extra fields are the replica's own). */
export const Envelope = t.type({ src: NodeId, dst: NodeId, leader: NodeId, type: t.string },
  'Envelope');
export type Envelope = t.TypeOf<typeof Envelope>;

/** JSON text -> an envelope, or one line that says what is wrong with it. */
export function decodeEnvelope(text: string): E.Either<string, { envelope: Envelope;
  body: Record<string, unknown> }> {
  let u: unknown;
  try {
    u = JSON.parse(text);
  } catch {
    return E.left(`not JSON: ${show(text)}`);
  }
  if (!isObject(u)) return E.left(`not a JSON object: ${show(u)}`);
  const decoded = Envelope.decode(u);
  if (E.isLeft(decoded)) return E.left(describeErrors(decoded.left).join('; '));
  return E.right({ envelope: decoded.right, body: u });
}

/** A client response (`ok`, `fail`, `redirect`) as the wire codecs define it. */
export function decodeResponse(body: Record<string, unknown>): E.Either<string, ClientResponse> {
  const decoded = ClientResponse.decode(body);
  return E.isLeft(decoded) ? E.left(describeErrors(decoded.left).join('; ')) : decoded;
}
