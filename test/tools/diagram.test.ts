import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { machineJson, machineMermaid } from '../../src/tools/diagram.js';

describe('docs/ shows the statechart as it is', () => {
  it('docs/machine.json is the current definition (run `npm run machine` after a change)', () => {
    expect(readFileSync('docs/machine.json', 'utf8')).toBe(machineJson());
  });

  it('docs/machine.mmd is the current diagram, and draws every role', () => {
    const diagram = machineMermaid();
    expect(readFileSync('docs/machine.mmd', 'utf8')).toBe(diagram);
    for (const role of ['follower', 'preCandidate', 'candidate', 'leader']) {
      expect(diagram).toContain(`--> ${role}`);
    }
  });
});
