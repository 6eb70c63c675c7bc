/**
 * The statechart as data: its definition (JSON, from `machine.toJSON()`) and a Mermaid
 * `stateDiagram-v2` drawn from it. `npm run machine` writes both to `docs/`; a test fails when the
 * committed files differ from what the machine now says.
 */
import { raftMachine } from '../core/raft.js';

interface TransitionJson {
  readonly target?: readonly string[];
  readonly guard?: { readonly type: string } | string;
  readonly actions: readonly (string | { readonly type: string })[];
  readonly eventType: string;
}
interface StateJson {
  readonly key: string;
  readonly transitions: readonly TransitionJson[];
}

export function machineJson(): string {
  return `${JSON.stringify(raftMachine.toJSON(), null, 2)}\n`;
}

const name = (a: string | { readonly type: string }): string => (typeof a === 'string' ? a : a.type);
const targetKey = (t: string): string => t.split('.').pop() ?? t;

export function machineMermaid(): string {
  const root = raftMachine.toJSON() as unknown as {
    states: Record<string, StateJson>;
    transitions: readonly TransitionJson[];
  };
  const lines = ['stateDiagram-v2', '  [*] --> follower'];
  for (const state of Object.values(root.states)) {
    for (const t of state.transitions) {
      const target = t.target?.[0];
      if (target === undefined) continue;
      const guard = t.guard === undefined ? '' : ` [${typeof t.guard === 'string' ? t.guard : t.guard.type}]`;
      const actions = t.actions.map(name).filter((a) => a !== 'tick').join(', ');
      lines.push(`  ${state.key} --> ${targetKey(target)}: ${t.eventType}${guard} / ${actions}`);
    }
  }
  for (const t of root.transitions) {
    lines.push(`  note right of follower: any role, on ${t.eventType} / ${t.actions.map(name).join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}
