import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const FORBIDDEN: [RegExp, string][] = [
  [/from\s+['"]node:/, 'a node: import'],
  [/from\s+['"](fs|path|os|dgram|net|http|child_process|worker_threads|util|timers)['"]/,
    'a Node built-in import'],
  [/\bimport\s*\(/, 'a dynamic import'],
  [/\bconsole\.|\bglobalThis\b/, 'console or globalThis'],
  [/require\(/, 'require()'],
  [/\bMath\.random\b/, 'Math.random'],
  [/\bDate\.now\b|\bnew Date\b/, 'the wall clock'],
  [/\bperformance\.now\b/, 'performance.now'],
  [/\bprocess\./, 'process'],
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b/, 'a timer'],
  [/\bcrypto\b/, 'crypto'],
  [/\bafter\s*:\s*\{|\balways\s*:\s*[[{'"]|\binvoke\s*:\s*[[{]/,
    'an XState timer or invoke (time arrives as Tick)'],
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('[STYLE §1] src/core is pure', () => {
  const sources = files('src/core');

  it('has sources to check', () => {
    expect(sources.length).toBeGreaterThan(5);
  });

  it.each(sources)('%s uses no I/O, clock, randomness or Node API', (file) => {
    const text = readFileSync(file, 'utf8');
    const found = FORBIDDEN.filter(([re]) => re.test(text)).map(([, what]) => what);
    expect(found).toEqual([]);
  });

  it('the rule catches an impure line (the check itself is live)', () => {
    const impure = "import { readFileSync } from 'node:fs';\nconst t = Date.now();";
    const found = FORBIDDEN.filter(([re]) => re.test(impure)).map(([, what]) => what);
    expect(found).toEqual(['a node: import', 'the wall clock']);
  });
});
