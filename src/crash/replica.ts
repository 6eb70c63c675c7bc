/**
 * The crash harness's own replica entry point: `raftkv replica`'s direct mode, plus `--bug NAME`
 * flags that switch in deliberately wrong rules (`mutants/catalog.ts`) or the shell's
 * `ackBeforeSync`, so the harness can show it catches a broken replica. Not part of the CLI:
 *   node dist/crash/replica.js [--bug NAME ...] --id ID --listen HOST:PORT --peer ... --data-dir DIR
 */
import { BUGS, isBug, machineWith, type Bug } from '../mutants/catalog.js';
import { directMain } from '../replica/directMain.js';
import { ackBeforeSync } from './ackBeforeSync.js';

/** The shell's own broken variant: answers leave before the writes they depend on are durable. */
export const SHELL_BUGS = ['ackBeforeSync'] as const;

/** Split `--bug NAME` flags from the replica's own arguments. */
export function splitBugs(args: readonly string[]):
  { bugs: Bug[]; ackBeforeSync: boolean; rest: string[] } | string {
  const bugs: Bug[] = [];
  let ackBeforeSync = false;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== '--bug') {
      rest.push(args[i] as string);
      continue;
    }
    const name = args[++i] ?? '';
    if (name === 'ackBeforeSync') ackBeforeSync = true;
    else if (isBug(name)) bugs.push(name);
    else return `unknown --bug ${name}; known: ${[...BUGS, ...SHELL_BUGS].join(', ')}`;
  }
  return { bugs, ackBeforeSync, rest };
}

const split = splitBugs(process.argv.slice(2));
if (typeof split === 'string') {
  console.error(split);
  process.exit(2);
}
void directMain(split.rest, { machine: machineWith(split.bugs),
  ...(split.ackBeforeSync ? { wrapDurability: ackBeforeSync } : {}) });
