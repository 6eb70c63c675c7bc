/**
 * io-ts helpers for the fault model's inputs: scenario files and the datagrams replicas send to
 * the simulator. Every error names its path (`events.1.type: ...`), as the wire codecs do.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts/lib/index.js';
import { ClientResponse, NodeId, refined } from '../wire/messages.js';
import { DATAGRAM_JSON, pathOf, reasonOf, show } from '../wire/codec.js';
import { parseBoundedJson } from '../wire/json.js';

export { refined };

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

/** One `path: reason` line per offending path, in the order io-ts found them. */
export function describeErrors(errors: t.Errors): string[] {
  const lines = new Map<string, string>();
  for (const error of errors) {
    const path = pathOf(error.context) || '(top)';
    if (lines.has(path)) continue;
    // an unknown field is never "missing", even when its value is undefined
    const reason = error.message === 'unknown field'
      ? `unknown field, got ${show(error.value)}` : reasonOf(error);
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
  const parsed = parseBoundedJson(text, DATAGRAM_JSON);
  return E.isLeft(parsed) ? E.left(parsed.left.detail) : decodeEnvelopeOf(parsed.right);
}

/** A parsed JSON value -> an envelope, or one line that says what is wrong with it. */
export function decodeEnvelopeOf(u: unknown): E.Either<string, { envelope: Envelope;
  body: Record<string, unknown> }> {
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
