/** Run the Quint CLI from tests (offline: the TypeScript backend, see the toolchain notes). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const QUINT = join('node_modules', '.bin', 'quint');

export function quint(args: string[], timeoutMs = 240_000): string {
  return execFileSync(QUINT, args, { encoding: 'utf8', timeout: timeoutMs, stdio: 'pipe' });
}

export interface SpecDeclaration {
  readonly kind: string;
  readonly qualifier?: string;
  readonly name?: string;
  readonly expr?: { readonly kind: string; readonly params?: readonly { readonly name: string }[] };
}

/** Every declaration of every module of a spec file, from `quint parse --out`. */
export function parseSpec(file: string): SpecDeclaration[] {
  const out = join(mkdtempSync(join(tmpdir(), 'raftkv-parse-')), 'parsed.json');
  quint(['parse', file, '--out', out]);
  const parsed = JSON.parse(readFileSync(out, 'utf8')) as {
    modules: { declarations: SpecDeclaration[] }[];
  };
  return parsed.modules.flatMap((m) => m.declarations);
}

/** The spec's actions with their parameter names. */
export function specActions(file: string): Map<string, string[]> {
  const actions = new Map<string, string[]>();
  for (const d of parseSpec(file)) {
    if (d.kind !== 'def' || d.qualifier !== 'action' || d.name === undefined) continue;
    const params = d.expr?.kind === 'lambda' ? (d.expr.params ?? []).map((p) => p.name) : [];
    actions.set(d.name, params);
  }
  return actions;
}
