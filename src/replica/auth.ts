/**
 * Optional peer authentication: with a shared secret, every datagram between replicas carries an
 * HMAC-SHA256 of its bytes, and a replica drops a peer message whose MAC is missing or wrong.
 * Client datagrams are not signed (clients hold no secret); they can only ask, and a peer message
 * can never pass as one since the receiver checks the type of what it decoded.
 * The MAC is the datagram's last field, `,"mac":"<64 hex>"}`, over the JSON object before it was
 * added: the bytes stay one JSON object that any tool can read.
 * Not covered: replay. A recorded datagram can be sent again to the replica it was for; Raft
 * tolerates duplicated and stale messages by design, so that can delay but not corrupt. Sent to
 * another replica, it is dropped there: a replica admits only messages addressed to itself or
 * broadcast (`direct.ts`), so a vote or an acknowledgement cannot be counted twice.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A shared secret file holds a short key, not a document: longer files are refused. */
export const MAX_SECRET_BYTES = 4096;

const HEAD = Buffer.from(',"mac":"');
const MAC_HEX = 64;
/** `,"mac":"` + 64 hex digits + `"}` */
const SUFFIX_BYTES = HEAD.length + MAC_HEX + 2;

export interface Signer {
  sign(json: Buffer): Buffer;
  /** The datagram without its MAC if the MAC is right; undefined if it is missing or wrong. */
  verify(bytes: Buffer): Buffer | undefined;
}

export function signer(secret: string): Signer {
  const mac = (body: Buffer): Buffer => createHmac('sha256', secret).update(body).digest();
  return {
    sign: (json) => {
      // every datagram has fields (`src`, `dst`, `type`): `{}` would need no comma before the MAC
      if (json.length < 3) throw new Error('sign: an empty object has nothing to authenticate');
      const body = json.subarray(0, json.length - 1); // without the closing brace
      const hex = mac(json).toString('hex');
      return Buffer.concat([body, HEAD, Buffer.from(`${hex}"}`)]);
    },
    verify: (bytes) => {
      if (bytes.length < SUFFIX_BYTES + 2) return undefined;
      const at = bytes.length - SUFFIX_BYTES;
      if (!bytes.subarray(at, at + HEAD.length).equals(HEAD)) return undefined;
      const hex = bytes.subarray(at + HEAD.length, at + HEAD.length + MAC_HEX).toString('latin1');
      // the MAC's closing quote, then the object's closing brace
      if (!/^[0-9a-f]{64}$/.test(hex) || bytes[bytes.length - 2] !== 0x22
        || bytes[bytes.length - 1] !== 0x7d) return undefined;
      const json = Buffer.concat([bytes.subarray(0, at), Buffer.from('}')]);
      return timingSafeEqual(mac(json), Buffer.from(hex, 'hex')) ? json : undefined;
    },
  };
}
