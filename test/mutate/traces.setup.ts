/** Vitest global setup of the mutation checks: the spec traces, made once per spec. */
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { specTraces } from '../conformance/quint.js';
import { RUNS, tracesDir } from './traces.js';

export default async function setup(): Promise<void> {
  const dir = tracesDir();
  if (existsSync(join(dir, 'complete'))) return;
  const made = await specTraces(RUNS);
  rmSync(dir, { recursive: true, force: true });
  cpSync(made, dir, { recursive: true });
  rmSync(made, { recursive: true, force: true });
  writeFileSync(join(dir, 'complete'), '');
}
