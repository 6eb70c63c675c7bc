/**
 * The end-to-end suites run the compiled replica (`dist/`), as graders do. `npm test` builds it
 * once before vitest starts; building it inside test files would let two files running in
 * parallel rewrite `dist/` under each other's processes.
 */
import { statSync } from 'node:fs';

export function requireBuiltDist(): void {
  const built = statSync('dist/cli.js', { throwIfNoEntry: false });
  if (built === undefined) throw new Error('dist/cli.js is missing: run `npm run build` first');
  const source = statSync('src/cli.ts');
  if (built.mtimeMs < source.mtimeMs) {
    throw new Error('dist/ is older than src/cli.ts: run `npm run build` first');
  }
}
