/**
 * `npm run inspect`: three live replica actors in one process, exchanging messages, under
 * inspection. Offline (default) every XState inspection event is written as one JSON line to
 * `raftkv-inspect.ndjson`; with `--sky` they stream to the Stately Inspector through
 * `@statelyai/inspect` (needs internet; it prints the inspector's URL).
 */
import { createWriteStream } from 'node:fs';
import { createActor, type InspectionEvent } from 'xstate';
import { createSkyInspector } from '@statelyai/inspect';
import type { NodeId, PeerMessage } from '../wire/messages.js';
import { raftMachine } from '../core/raft.js';
import type { Effect } from '../core/state.js';
import { serverIds } from '../explorer/cluster.js';

const ids = serverIds(3);
const out = createWriteStream('raftkv-inspect.ndjson');
const offline = (e: InspectionEvent): void => {
  const actor = (e.actorRef as { id?: string }).id;
  const event = 'event' in e ? (e.event as { type: string }).type : undefined;
  const value = e.type === '@xstate.snapshot' ? (e.snapshot as { value?: unknown }).value : undefined;
  out.write(`${JSON.stringify({ type: e.type, actor, event, value })}\n`);
};
const inspect = process.argv.includes('--sky') ? createSkyInspector().inspect : offline;

const queue: PeerMessage[] = [];
const actors = new Map(ids.map((id) => {
  const actor = createActor(raftMachine, { id: `replica-${id}`, inspect,
    input: { config: { id, peers: ids.filter((p) => p !== id) }, seed: Number.parseInt(id, 16) + 1 } });
  actor.on('*', (e: Effect) => { if (e.type === 'send') queue.push(e.message); });
  return [id, actor] as const;
}));
for (const actor of actors.values()) actor.start();

for (let tick = 0; tick < 200; tick++) {
  for (const actor of actors.values()) actor.send({ type: 'Tick' });
  for (let m = queue.shift(); m !== undefined; m = queue.shift()) actors.get(m.dst)?.send(m);
}
const roles = ids.map((id: NodeId) => `${id}:${actors.get(id)?.getSnapshot().value as string}`);
console.log(`after 200 ticks: ${roles.join(' ')}`);
out.end(() => console.log('inspection events written to raftkv-inspect.ndjson'));
