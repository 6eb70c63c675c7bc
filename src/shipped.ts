/**
 * The shipped scenarios (`src/fault/scenarios/*.json`, in the package too): their names, and the
 * file a scenario argument names. File-system work, so kept out of the pure `src/fault`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shown } from './args.js';

/** Their directory, from `src/` and `dist/` alike. */
export const SHIPPED_SCENARIOS =
  fileURLToPath(new URL('../src/fault/scenarios/', import.meta.url));

/** The names of the shipped scenarios (their files without `.json`), sorted. */
export const shippedScenarioNames = (): string[] => readdirSync(SHIPPED_SCENARIOS)
  .filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();

/**
 * The file a scenario argument names: a path to a file, or the name of a shipped scenario
 * (`kill-leader-1`); neither, a message that lists the shipped names.
 */
export function scenarioFile(arg: string): string | { refused: string } {
  if (existsSync(arg)) return arg;
  const name = arg.endsWith('.json') ? arg.slice(0, -'.json'.length) : arg;
  const names = shippedScenarioNames();
  if (names.includes(name)) return join(SHIPPED_SCENARIOS, `${name}.json`);
  return { refused: `no scenario file ${shown(arg)} and no shipped scenario of that name; ` +
    `shipped: ${names.join(', ')}` };
}

