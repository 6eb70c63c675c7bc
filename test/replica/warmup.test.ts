/**
 * The JIT warm-up runs a real scratch cluster of the statechart: it elects a leader and answers
 * requests through the wire codecs, within its budget, or stops at its request bound.
 */
import { describe, expect, it } from 'vitest';
import { TIMING } from '../../src/replica/timing.js';
import { warmUp } from '../../src/replica/warmup.js';

describe('[replica] JIT warm-up before serving', () => {
  it('elects a leader and answers requests in a scratch cluster, bounded by count', () => {
    const r = warmUp(TIMING, 60_000, 50);
    expect(r.requests).toBe(50);
    expect(r.answered).toBeGreaterThanOrEqual(45);
    // An election takes at least the election timeout in ticks, five replicas a tick.
    expect(r.steps).toBeGreaterThan(TIMING.electionTimeoutTicksMin * 5);
  });

  it('stops at its time budget', () => {
    const r = warmUp(TIMING, 50, 1e9);
    expect(r.ms).toBeGreaterThanOrEqual(50);
    expect(r.ms).toBeLessThan(5_000);
  });
});
