/** Where a datagram goes: an IPv4 host and a UDP port. The one home of `Address`. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** `localhost` is 127.0.0.1; other hosts must be IPv4 literals, compared as the socket reports. */
export function parseAddress(text: string): Address | undefined {
  const m = /^([^:]+):(\d{1,5})$/.exec(text);
  if (m === null) return undefined;
  const host = m[1] === 'localhost' ? '127.0.0.1' : (m[1] as string);
  const port = Number(m[2]);
  const octets = host.split('.');
  if (octets.length !== 4 || !octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)
    || port <= 0 || port > 65535) return undefined;
  return { host, port };
}
