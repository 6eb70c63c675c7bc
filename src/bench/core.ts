/**
 * Core throughput: AppendEntries events per second into a follower whose log holds 100 k entries,
 * through the path every replica loop uses (`pureStep`: the machine's own transition, the loop
 * holding the snapshot), through a live actor (the visualizer's path, and the replica's before
 * 2026-12-04), and through XState's `transition()`, which builds an actor scope on every call.
 * A benchmark, not a test: it prints figures.
 *   npm run bench
 */
import { cpus } from 'node:os';
import { createActor, initialTransition, transition } from 'xstate';
import type { Entry, NodeId, PeerMessage } from '../wire/messages.js';
import { pureInitial, pureStep, raftMachine } from '../core/raft.js';
import { lastLogIndex } from '../core/log.js';

const LEADER = '0001' as NodeId;
const ME = '0000' as NodeId;
const config = { id: ME, peers: [LEADER, '0002' as NodeId] };

function append(prev: number, count: number, commit: number): PeerMessage {
  const entries: Entry[] = Array.from({ length: count }, (_, k) => ({
    term: 1 as Entry['term'],
    cmd: { kind: 'put', client: '00C0' as NodeId, session: 0, seq: 0, key: `k${(prev + k) % 1000}`, value: `v${prev + k}` },
  }));
  return {
    type: 'AppendEntriesRequest', src: LEADER, dst: ME, leader: LEADER,
    term: 1, prevLogIndex: prev, prevLogTerm: prev === 0 ? 0 : 1, entries, leaderCommit: commit,
  } as PeerMessage;
}

function measure(label: string, events: number, run: (i: number) => void): void {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < events; i++) run(i);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${label.padEnd(58)} ${Math.round(events / s).toLocaleString('en').padStart(9)} events/s`);
}

const BASE = 100_000;
const EVENTS = 100_000;

// pureStep (the replica loop's path)
const step = pureStep(raftMachine);
let [held] = pureInitial(raftMachine, { config, seed: 7 });
let effects = 0;
for (let prev = 0; prev < BASE; prev += 64) [held] = step(held, append(prev, 64, prev));
console.log(`machine: node ${process.version}, ${cpus()[0]?.model ?? '?'}, follower log ${lastLogIndex(held.context.log)} entries`);
measure('pureStep: AppendEntries, 1 new entry each, commit follows', EVENTS, (i) => {
  const [next, emitted] = step(held, append(BASE + i, 1, BASE + i));
  held = next;
  effects += emitted.length;
});
measure('pureStep: heartbeat AppendEntries (no entries)', EVENTS, () => {
  const [next, emitted] = step(held, append(BASE + EVENTS, 0, BASE + EVENTS));
  held = next;
  effects += emitted.length;
});
measure('pureStep: Tick', EVENTS, () => {
  const [next, emitted] = step(held, { type: 'Tick' });
  held = next;
  effects += emitted.length;
});

// Live actor (the visualizer's path)
const actor = createActor(raftMachine, { input: { config, seed: 7 } });
actor.on('*', () => { effects++; });
actor.start();
for (let prev = 0; prev < BASE; prev += 64) actor.send(append(prev, 64, prev));
measure('live actor: AppendEntries, 1 new entry each, commit follows', EVENTS, (i) => {
  actor.send(append(BASE + i, 1, BASE + i));
});
measure('live actor: heartbeat AppendEntries (no entries)', EVENTS, () => {
  actor.send(append(BASE + EVENTS, 0, BASE + EVENTS));
});
measure('live actor: Tick', EVENTS, () => { actor.send({ type: 'Tick' }); });

// XState's transition(): a new actor scope per call
let [snap] = initialTransition(raftMachine, { config, seed: 7 });
for (let prev = 0; prev < BASE; prev += 64) [snap] = transition(raftMachine, snap, append(prev, 64, prev));
measure('xstate transition(): AppendEntries, 1 new entry each', EVENTS / 4, (i) => {
  [snap] = transition(raftMachine, snap, append(BASE + i, 1, BASE + i));
});
console.log(`effects emitted: ${effects}`);
