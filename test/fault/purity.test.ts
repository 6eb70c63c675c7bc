/**
 * The fault model is shared by the network simulator and a later in-process simulation in virtual
 * time, so it must not reach for I/O, a clock or randomness of its own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const FORBIDDEN: [RegExp, string][] = [
  [/from\s+['"]node:/, 'a node: import'],
  [/\bimport\s*\(/, 'a dynamic import'],
  [/\bconsole\.|\bglobalThis\b/, 'console or globalThis'],
  [/\bMath\.random\b/, 'Math.random'],
  [/\bDate\.now\b|\bnew Date\b/, 'the wall clock'],
  [/\bperformance\.now\b/, 'performance.now'],
  [/\bprocess\./, 'process'],
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b/, 'a timer'],
];

const check = (text: string): string[] =>
  FORBIDDEN.filter(([re]) => re.test(text)).map(([, what]) => what);

describe('[STYLE §1, §5] src/fault is pure: time and randomness are passed in', () => {
  const sources = readdirSync('src/fault').filter((f) => f.endsWith('.ts'))
    .map((f) => join('src/fault', f));

  it('has sources to check', () => {
    expect(sources.length).toBeGreaterThanOrEqual(10);
  });

  it.each(sources)('%s uses no I/O, clock, timer or Math.random', (file) => {
    expect(check(readFileSync(file, 'utf8'))).toEqual([]);
  });

  it('the rule catches an impure line (the check itself is live)', () => {
    expect(check('const t = performance.now(); setTimeout(f, 1);'))
      .toEqual(['performance.now', 'a timer']);
  });
});
