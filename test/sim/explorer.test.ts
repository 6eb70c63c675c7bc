import { describe, expect, it } from 'vitest';
import { explore } from '../../src/sim/explorer.js';

describe('explorer smoke', () => {
  it('runs', () => {
    let leaders = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const r = explore({ servers: 3, steps: 300, seed });
      expect(r.violation).toBeUndefined();
      leaders += r.events;
    }
    expect(leaders).toBeGreaterThan(0);
  });
});
