/**
 * The Quint CLI of this package's dev dependencies, run offline (the TypeScript backend: see the
 * toolchain notes), by the conformance tests and by `check:exhaustive`'s spec verdict.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** From `src/conformance` and `dist/conformance` alike: the package's own `node_modules`. */
export const QUINT = fileURLToPath(new URL('../../node_modules/.bin/quint', import.meta.url));

/** Run the Quint CLI without blocking, so two runs can share the two cores. */
export function quintAsync(args: readonly string[], timeoutMs = 300_000):
  Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(QUINT, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, out: `${stdout}${stderr}` });
      });
  });
}
