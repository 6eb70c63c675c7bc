/**
 * Skipping idle time (`src/core/timers.ts`): one `Tick` of `ticksUntilDue(s)` ticks must reach the
 * same state and effects as that many single ticks, and no timer may fire before it. The
 * deterministic simulation relies on this to jump over idle time.
 */
import { describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import type { NodeId } from '../../src/wire/messages.js';
import { effectsOf, raftMachine } from '../../src/core/raft.js';
import { ticksUntilDue } from '../../src/core/timers.js';
import { roleOf } from '../../src/core/raft.js';
import { canonical, Cluster } from '../../src/explorer/cluster.js';
import type { MachineSnapshot as Snapshot } from '../../src/core/raft.js';
import { Rng } from '../../src/fault/rng.js';

const CLIENT = '00C0' as NodeId;

function tickOnce(snap: Snapshot, ticks?: number): [Snapshot, string] {
  const [next, actions] = transition(raftMachine, snap,
    ticks === undefined ? { type: 'Tick' } : { type: 'Tick', ticks });
  return [next, canonical(effectsOf(actions))];
}

/** A cluster driven at random through elections, client requests, drops and ticks. */
function randomCluster(seed: number, steps: number): Cluster {
  const rng = new Rng(seed);
  const c = new Cluster(5, { heartbeatTicks: 3, electionTimeoutTicksMin: 10,
    electionTimeoutTicksMax: 20, campaignRetryTicksMin: 4, campaignRetryTicksMax: 8 }, seed);
  for (let i = 0; i < steps; i++) {
    const id = rng.pick(c.ids) as NodeId;
    const keys = c.inFlightKeys();
    const r = rng.float();
    if (r < 0.5 && keys.length > 0) c.deliver(rng.pick(keys) as string);
    else if (r < 0.55 && keys.length > 0) c.drop(rng.pick(keys) as string);
    else if (r < 0.6) {
      c.event(id, { type: 'put', src: CLIENT, dst: id, leader: id, MID: `m${i}`, key: 'k',
        value: `v${i}` } as never);
      c.event(id, { type: 'Flush' });
    } else c.event(id, { type: 'Tick' });
  }
  return c;
}

describe('[timers] a Tick of ticksUntilDue ticks equals that many single ticks', () => {
  it('same state and same effects, on every server of 40 random clusters', () => {
    let checked = 0;
    let fired = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const c = randomCluster(seed, 300);
      for (const id of c.ids) {
        const start = c.snapshot(id);
        const n = ticksUntilDue(start.context, roleOf(start));
        expect(n).toBeGreaterThanOrEqual(1);
        let single = start;
        for (let k = 1; k < n; k++) {
          const [next, effects] = tickOnce(single);
          expect(effects, `seed ${seed} ${id}: a timer fired at tick ${k} of ${n}`).toBe('[]');
          single = next;
        }
        const [byOne, lastEffects] = tickOnce(single);
        const [atOnce, jumpEffects] = tickOnce(start, n);
        expect(canonical(atOnce.context)).toBe(canonical(byOne.context));
        expect(atOnce.value).toEqual(byOne.value);
        expect(jumpEffects).toBe(lastEffects);
        if (lastEffects !== '[]') fired++;
        checked++;
      }
    }
    expect(checked).toBe(200);
    // The last tick is where a timer expires: a heartbeat, CheckQuorum or an election.
    expect(fired).toBeGreaterThan(100);
  });
});
