/**
 * Reading Quint's ITF traces (Informal Trace Format) into plain values shaped like the code's
 * abstract state: integers as numbers, sets as sorted arrays, string- or int-keyed maps as objects
 * with sorted keys (ints as text), other maps as arrays of [key, value] pairs, variants without
 * payload as their tag.
 */
export type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const byCanonical = (a: Plain, b: Plain): number =>
  JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0;

export function plain(v: unknown): Plain {
  if (Array.isArray(v)) return v.map(plain);
  if (!isObj(v)) return v as Plain;
  if ('#bigint' in v) return Number(v['#bigint']);
  if ('#set' in v) return (v['#set'] as unknown[]).map(plain).sort(byCanonical);
  if ('#tup' in v) return (v['#tup'] as unknown[]).map(plain);
  if ('#map' in v) {
    const pairs = (v['#map'] as [unknown, unknown][]).map(([k, x]) => [plain(k), plain(x)] as const);
    if (pairs.every(([k]) => typeof k === 'string')) {
      const out: Record<string, Plain> = {};
      for (const [k, x] of [...pairs].sort((a, b) => byCanonical(a[0], b[0]))) out[k as string] = x;
      return out;
    }
    // int-keyed (sessions by id): an object keyed by the ints as text, as `abstractServer` has it
    if (pairs.every(([k]) => typeof k === 'number')) {
      const out: Record<string, Plain> = {};
      for (const [k, x] of [...pairs].sort((a, b) => (a[0] as number) - (b[0] as number))) {
        out[String(k)] = x;
      }
      return out;
    }
    return pairs.map(([k, x]) => [k, x]).sort(byCanonical);
  }
  if ('tag' in v && 'value' in v && Object.keys(v).length === 2) {
    const value = plain(v['value']);
    if (Array.isArray(value) && value.length === 0) return v['tag'] as string;
    return { tag: v['tag'] as string, value };
  }
  const out: Record<string, Plain> = {};
  for (const k of Object.keys(v).sort()) out[k] = plain(v[k]);
  return out;
}

export interface ItfTrace {
  readonly vars: string[];
  readonly states: Record<string, unknown>[];
}

/** The value of a state variable, whatever instance path prefixes its name (`a::b::servers`). */
export function variable(state: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(state).find((k) => k === name || k.endsWith(`::${name}`));
  if (key === undefined) throw new Error(`ITF state has no variable ${name}`);
  return state[key];
}

/** The nondet pick `name` of a step: `undefined` when the action did not pick it. */
export function pick(state: Record<string, unknown>, name: string): unknown {
  const picks = variable(state, 'mbt::nondetPicks') as Record<string, unknown>;
  const option = picks[name];
  if (!isObj(option) || option['tag'] !== 'Some') return undefined;
  return option['value'];
}
