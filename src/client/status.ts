/** Ask replicas for their status (`wire/admin.ts`): role, term, commit and applied index. */
import { createSocket } from 'node:dgram';
import type { StatusReply } from '../wire/admin.js';
import { decodeStatusReply } from '../wire/admin.js';
import type { Address } from '../replica/address.js';
import { signer } from '../replica/auth.js';

/**
 * Each address's reply, or undefined if it gave none within `waitMs`. A cluster with a shared
 * secret answers only requests signed with it (`replica/auth.ts`).
 */
export async function queryStatus(addresses: readonly Address[], waitMs = 500,
  secret?: string): Promise<(StatusReply | undefined)[]> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '0.0.0.0', resolve));
  const replies: (StatusReply | undefined)[] = addresses.map(() => undefined);
  const mid = `status.${process.pid}.${Date.now()}`;
  return new Promise((resolve) => {
    const done = (): void => { clearTimeout(timer); socket.close(); resolve(replies); };
    const timer = setTimeout(done, waitMs);
    socket.on('message', (bytes, rinfo) => {
      const r = decodeStatusReply(bytes);
      if (r._tag === 'Left' || r.right.MID !== mid) return;
      const k = addresses.findIndex((a) => a.host === rinfo.address && a.port === rinfo.port);
      if (k >= 0) replies[k] = r.right;
      if (replies.every((x) => x !== undefined)) done();
    });
    const json = Buffer.from(JSON.stringify({ src: 'FFFE', type: 'status', MID: mid }));
    const request = secret === undefined ? json : signer(secret).sign(json);
    for (const a of addresses) socket.send(request, a.port, a.host);
  });
}

/** The replica that says it leads in the highest term, if any answered as leader. */
export function leaderOf(replies: readonly (StatusReply | undefined)[]): number | undefined {
  let best: number | undefined;
  replies.forEach((r, k) => {
    if (r?.role !== 'Leader') return;
    const b = best === undefined ? undefined : replies[best];
    if (b === undefined || r.currentTerm > b.currentTerm) best = k;
  });
  return best;
}
