/**
 * A host runs the statechart as the replica shells do, with a disk: persist before send, and
 * group commit (the replica keeps stepping while a sync is in flight; one sync per batch).
 */
import { describe, expect, it } from 'vitest';
import type { Message, NodeId } from '../../src/wire/messages.js';
import { defaultConfig } from '../../src/core/state.js';
import { lastLogIndex } from '../../src/core/log.js';
import { Rng } from '../../src/fault/rng.js';
import { Host, type HostDriver, type HostStep } from '../../src/sim/host.js';

class Recorder implements HostDriver {
  readonly out: Message[] = [];
  readonly syncs: number[] = [];
  readonly wakes: number[] = [];
  readonly steps: HostStep[] = [];
  flushes = 0;
  emit(_h: Host, m: Message): void { this.out.push(m); }
  startSync(_h: Host, upTo: number): void { this.syncs.push(upTo); }
  wakeAt(_h: Host, atMs: number): void { this.wakes.push(atMs); }
  flushSoon(): void { this.flushes++; }
  stepped(_h: Host, step: HostStep): void { this.steps.push(step); }
}

const config = { ...defaultConfig, id: '0000' as NodeId, peers: ['0001', '0002'] as NodeId[],
  electionTimeoutTicksMin: 10, electionTimeoutTicksMax: 11 };

describe('[host] the shell contract in virtual time', () => {
  it('holds the vote requests of a campaign until its term and vote are synced', () => {
    const d = new Recorder();
    const h = new Host('0000', { ...config, bugs: [] }, 10, d);
    h.start(0, 1);
    expect(d.wakes).toEqual([100]); // the election timeout: 10 ticks of 10 ms
    h.wake(1, 100);
    // Pre-vote first (nothing to persist), then the pre-votes win and the campaign persists.
    expect(d.out.map((m) => m.type)).toEqual(['PreVoteRequest', 'PreVoteRequest']);
    for (const src of ['0001', '0002']) {
      h.arrive({ type: 'PreVoteResponse', src, dst: '0000', leader: 'FFFF', term: 1,
        voteGranted: true } as Message as never, 101);
    }
    expect(d.syncs).toEqual([1]);
    expect(d.out.filter((m) => m.type === 'RequestVoteRequest')).toEqual([]);
    h.synced(1);
    expect(d.out.filter((m) => m.type === 'RequestVoteRequest').length).toBe(2);
    expect(h.disk.durable().currentTerm).toBe(1);
    expect(h.disk.durable().votedFor).toBe('0000');
  });

  it('a crash before the sync loses the write, and what waited for it never leaves', () => {
    const d = new Recorder();
    const h = new Host('0000', { ...config, bugs: [] }, 10, d);
    h.start(0, 1);
    h.wake(1, 100);
    for (const src of ['0001', '0002']) {
      h.arrive({ type: 'PreVoteResponse', src, dst: '0000', leader: 'FFFF', term: 1,
        voteGranted: true } as Message as never, 101);
    }
    h.kill();
    const after = h.disk.crash(new Rng(3));
    h.synced(1); // the sync completes after the crash: too late
    expect(d.out.filter((m) => m.type === 'RequestVoteRequest')).toEqual([]);
    h.start(200, 2, after);
    expect(h.state.currentTerm).toBe(after.currentTerm);
  });

  it('a Tick never jumps past a due timer: idle time is crossed in timer-sized steps', () => {
    const d = new Recorder();
    const h = new Host('0000', { ...config, bugs: [] }, 10, d);
    h.start(0, 1);
    h.arrive({ type: 'PreVoteResponse', src: '0001', dst: '0000', leader: 'FFFF', term: 0,
      voteGranted: false } as Message as never, 1000);
    const ticks = d.steps.filter((s) => s.event.type === 'Tick')
      .map((s) => (s.event as { ticks?: number }).ticks);
    expect(ticks[0]).toBe(10);
    expect(ticks.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(100);
  });

  it('a wake always delivers its tick, even where float time rounds the elapsed ticks down', () => {
    // A start time like a restart's, chosen so that (due - start) / 10 rounds to just under the
    // whole number of ticks: counting elapsed ticks from milliseconds alone would deliver no tick
    // and schedule the same wake again at the same instant, forever.
    const startMs = 474.448516;
    const d = new Recorder();
    const h = new Host('0000', { ...config, bugs: [] }, 10, d);
    h.start(startMs, 1);
    const due = d.wakes[0] as number;
    const dueTicks = Math.round((due - startMs) / 10);
    expect(Math.floor((due - startMs) / 10)).toBeLessThan(dueTicks); // the trap is really here
    h.wake(1, due);
    const ticks = d.steps.filter((s) => s.event.type === 'Tick')
      .reduce((n, s) => n + ((s.event as { ticks?: number }).ticks ?? 1), 0);
    expect(ticks).toBe(dueTicks);
    expect(d.wakes.length).toBe(2);
    expect(d.wakes[1]).toBeGreaterThan(due);
  });

  it('group commit: appends that arrive during a sync are made durable by one next sync', () => {
    const d = new Recorder();
    const h = new Host('0000', { ...config, bugs: [] }, 10, d);
    h.start(0, 1);
    const append = (index: number): Message => ({ src: '0001', dst: '0000', leader: '0001',
      type: 'AppendEntriesRequest', term: 1, prevLogIndex: index - 1,
      prevLogTerm: index > 1 ? 1 : 0, leaderCommit: 0,
      entries: [{ term: 1, cmd: { kind: 'put', client: '001C', seq: 0, key: 'k',
        value: `v${index}` } }] } as Message);
    const acks = (): number[] => d.out.filter((m) => m.type === 'AppendEntriesResponse')
      .map((m) => (m as { matchIndex: number }).matchIndex);
    h.arrive(append(1) as never, 5);
    expect(d.syncs).toEqual([1]);
    h.arrive(append(2) as never, 5.1);
    h.arrive(append(3) as never, 5.2);
    // both were stepped (the log holds 3 entries) but wait for the sync in flight to end
    expect(lastLogIndex(h.state.log)).toBe(3);
    expect(d.syncs).toEqual([1]);
    expect(acks()).toEqual([]);
    h.synced(1);
    expect(acks()).toEqual([1]);
    expect(d.syncs).toEqual([1, 3]); // one sync for the two writes issued meanwhile
    h.synced(3);
    expect(acks()).toEqual([1, 2, 3]);
    expect(h.disk.syncs).toBe(2);
    expect(h.disk.writesSynced).toBe(3);
  });
});
