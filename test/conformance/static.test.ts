import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { raftMachine } from '../../src/core/raft.js';
import { codeOnly, environmentActions, specInternal, specMap } from '../../src/core/specMap.js';
import { specActions } from './quint.js';
import { OVERLOAD } from './record.js';

type Named = string | { readonly type: string } | ((...a: never[]) => unknown);
interface Node {
  readonly path: readonly string[];
  readonly states: Record<string, Node>;
  readonly transitions: Map<string, readonly { readonly guard?: Named;
    readonly actions: readonly Named[] }[]>;
}

/** Events, guards and actions of the machine's own state nodes, and any unnamed (inline) ones. */
function machineParts(): { events: Set<string>; guards: Set<string>; actions: Set<string>;
  inline: string[] } {
  const parts = { events: new Set<string>(), guards: new Set<string>(), actions: new Set<string>(),
    inline: [] as string[] };
  const nameOf = (x: Named, where: string): string | undefined => {
    if (typeof x === 'function') { parts.inline.push(where); return undefined; }
    return typeof x === 'string' ? x : x.type;
  };
  const visit = (node: Node): void => {
    for (const [event, defs] of node.transitions) {
      parts.events.add(event);
      const where = `${node.path.join('.') || 'raft'} on ${event}`;
      for (const def of defs) {
        const guard = def.guard === undefined ? undefined : nameOf(def.guard, `guard ${where}`);
        if (guard !== undefined) parts.guards.add(guard);
        for (const a of def.actions) {
          const action = nameOf(a, `action ${where}`);
          if (action !== undefined) parts.actions.add(action);
        }
      }
    }
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(raftMachine.root as unknown as Node);
  return parts;
}

describe('[conformance:static] every spec action maps to the statechart and back', () => {
  let spec: Map<string, string[]>;
  const machine = machineParts();
  const mapped = Object.values(specMap);

  beforeAll(() => {
    spec = specActions('spec/raft.qnt');
  }, 60_000);

  it('every spec action is mapped, with the same parameters', () => {
    const unmapped = [...spec.keys()].filter((a) =>
      !(a in specMap) && !(a in environmentActions) && !(a in specInternal));
    expect(unmapped).toEqual([]);
    for (const [name, m] of Object.entries({ ...specMap })) {
      expect(spec.get(name), `spec action ${name}`).toEqual([...m.params]);
    }
    for (const [name, params] of Object.entries(environmentActions)) {
      expect(spec.get(name), `spec action ${name}`).toEqual([...params]);
    }
  });

  it('the mapping names no spec action that does not exist', () => {
    const names = [...Object.keys(specMap), ...Object.keys(environmentActions),
      ...Object.keys(specInternal)];
    expect(names.filter((n) => !spec.has(n))).toEqual([]);
  });

  it('every machine event, guard and action is mapped or declared code-only', () => {
    const events = new Set([...mapped.flatMap((m) => m.events), ...codeOnly.events]);
    const guards = new Set(mapped.flatMap((m) => m.guards));
    const actions = new Set([...mapped.flatMap((m) => m.actions), ...codeOnly.actions]);
    expect([...machine.events].filter((e) => !events.has(e))).toEqual([]);
    expect([...machine.guards].filter((g) => !guards.has(g))).toEqual([]);
    expect([...machine.actions].filter((a) => !actions.has(a))).toEqual([]);
  });

  it('the mapping names only events, guards and actions the machine has', () => {
    expect(mapped.flatMap((m) => m.events).filter((e) => !machine.events.has(e))).toEqual([]);
    expect(mapped.flatMap((m) => m.guards).filter((g) => !machine.guards.has(g))).toEqual([]);
    expect(mapped.flatMap((m) => m.actions).filter((a) => !machine.actions.has(a))).toEqual([]);
  });

  it('no guard or action is inline (unnamed ones vanish from the definition)', () => {
    expect(machine.inline).toEqual([]);
  });

  it('the replays run the code with the overload and session bounds of the spec\'s instances', () => {
    for (const file of ['spec/instance.qnt', 'spec/instance5.qnt']) {
      const text = readFileSync(file, 'utf8');
      const bound = (name: string): number =>
        Number(new RegExp(`\\b${name} = (\\d+)`).exec(text)?.[1]);
      expect([bound('MaxWaiting'), bound('MaxWaitingPerClient'), bound('MaxUncommitted'),
        bound('MaxSessions')], file)
        .toEqual([OVERLOAD.maxWaitingRequests, OVERLOAD.maxWaitingPerClient,
          OVERLOAD.maxUncommittedEntries, OVERLOAD.maxSessions]);
    }
  });
});
