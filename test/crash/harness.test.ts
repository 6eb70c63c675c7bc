/**
 * [Fig2:State, §5.4 Leader Completeness] Crash tests with real processes: replicas killed with
 * SIGKILL (alone, the leader among them, and all at once), logs torn and bit-flipped, data
 * directories emptied; no acknowledged put may be lost and the history must be linearizable.
 * Replicas snapshot often, so the restarted ones catch up by InstallSnapshot [§7].
 * The checkers are shown to catch a replica that answers before its writes are durable.
 */
import { describe, expect, it } from 'vitest';
import { crashTest } from '../../src/crash/harness.js';
import { passed, summary } from '../../src/crash/main.js';
import { requireBuiltDist } from '../support/dist.js';

describe('[Fig2:State] crash tests with real processes', () => {
  it('loses nothing acknowledged through kills (all at once too), torn tails and bit flips',
    async () => {
      requireBuiltDist();
      const r = await crashTest({ seed: 11, replicas: 5, rounds: 8, clients: 3, keys: 4,
        tornChance: 0.5, flipChance: 0.3, allChance: 0.25, snapshotEntries: 50 });
      console.log(summary(r).join('\n'));
      expect(r.kills).toBeGreaterThanOrEqual(8);
      // [§7] replicas restarted behind the leader's snapshot (or emptied) caught up from it
      expect(r.snapshotsInstalled).toBeGreaterThan(0);
      expect(r.putsAcknowledged).toBeGreaterThan(50);
      // the clients delete and compare-and-swap too, through the kills
      expect(r.answered.del).toBeGreaterThan(20);
      expect(r.answered.swapped).toBeGreaterThan(10);
      expect(r.answered.refused).toBeGreaterThan(0);
      expect(r.lost).toEqual([]);
      expect(r.history.result).not.toBe('illegal');
      // every refusal names the log file and the offset of the bad record
      for (const line of r.refusals) {
        expect(line).toMatch(/raft\.wal: corrupt record at offset \d+/);
      }
      expect(r.final.every((s) => s !== undefined)).toBe(true);
      expect(passed(r)).toBe(true);
    }, 120_000);

  it('catches a replica that answers before its writes are durable', async () => {
    requireBuiltDist();
    const r = await crashTest({ seed: 12, replicas: 3, rounds: 3, clients: 3, keys: 3,
      tornChance: 0, flipChance: 0, allChance: 1, bugs: ['ackBeforeSync'], snapshotEntries: 2000 });
    console.log(summary(r).slice(0, 5).join('\n'));
    expect(r.allKilled).toBe(3);
    expect(r.lost.length).toBeGreaterThan(0);
    expect(passed(r)).toBe(false);
  }, 120_000);
});
