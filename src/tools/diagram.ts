/**
 * The statechart as data: its definition (JSON, from `machine.toJSON()`) and a Mermaid
 * `stateDiagram-v2` drawn from it. `npm run machine` writes both to `docs/`; a test fails when the
 * committed files differ from what the machine now says.
 */
import { raftMachine } from '../core/raft.js';

export function machineJson(): string {
  return `${JSON.stringify(raftMachine.toJSON(), null, 2)}\n`;
}

type Named = string | { readonly type: string };
const name = (a: Named): string => (typeof a === 'string' ? a : a.type);

/** A Mermaid state diagram: every change of role, with its event, guard and spec action. */
export function machineMermaid(): string {
  const lines = ['stateDiagram-v2', '  [*] --> follower'];
  for (const node of Object.values(raftMachine.root.states)) {
    for (const [event, defs] of node.transitions) {
      for (const t of defs) {
        const target = t.target?.[0];
        if (target === undefined) continue;
        const guard = t.guard === undefined ? '' : ` [${name(t.guard as Named)}]`;
        const actions = t.actions.map((a) => name(a as Named)).filter((a) => a !== 'tick');
        lines.push(`  ${node.key} --> ${target.key}: ${event}${guard} / ${actions.join(', ')}`);
      }
    }
  }
  for (const [event, defs] of raftMachine.root.transitions) {
    for (const t of defs) {
      const actions = t.actions.map((a) => name(a as Named)).join(', ');
      lines.push(`  note right of follower: from any role, ${event} / ${actions}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
