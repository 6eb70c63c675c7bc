/**
 * The compiled replica process under a minimal simulator that routes by `dst` exactly as the
 * protocol page says (loopback only; every process it starts is ended by PID).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltDist } from '../support/dist.js';

const IDS = ['0000', '0001', '0002'];
const CLIENT = '00C0';
const HEX4 = /^[0-9A-F]{4}$/;

interface Answer { type: string; MID: string; leader: string; value?: string }

class Router {
  readonly socket: Socket = createSocket('udp4');
  readonly addresses = new Map<string, RemoteInfo>();
  readonly answers: Answer[] = [];
  readonly errors: string[] = [];
  helloAt = new Map<string, number>();
  routed = 0;

  start(): Promise<number> {
    this.socket.on('message', (bytes, from) => this.route(bytes, from));
    return new Promise((resolve) => this.socket.bind(0, '127.0.0.1', () =>
      resolve(this.socket.address().port)));
  }

  private route(bytes: Buffer, from: RemoteInfo): void {
    const m = JSON.parse(bytes.toString('utf8')) as Record<string, string>;
    for (const f of ['src', 'dst', 'leader']) {
      if (!HEX4.test(String(m[f]))) this.errors.push(`bad ${f} in ${bytes.toString('utf8')}`);
    }
    const src = m['src'] as string;
    if (m['type'] === 'hello') {
      this.addresses.set(src, from);
      this.helloAt.set(src, Date.now());
      return;
    }
    const dst = m['dst'] as string;
    const targets = dst === 'FFFF' ? IDS.filter((id) => id !== src) : IDS.includes(dst) ? [dst] : [];
    if (targets.length === 0) {
      this.answers.push(m as unknown as Answer);
      return;
    }
    for (const t of targets) {
      const to = this.addresses.get(t);
      if (to !== undefined) this.socket.send(bytes, to.port, to.address);
      this.routed++;
    }
  }

  raw(to: string, text: string): void {
    const addr = this.addresses.get(to);
    if (addr !== undefined) this.socket.send(text, addr.port, addr.address);
  }

  request(to: string, body: Record<string, string>): void {
    const addr = this.addresses.get(to);
    if (addr === undefined) return;
    const m = JSON.stringify({ src: CLIENT, dst: to, leader: 'FFFF', ...body });
    this.socket.send(m, addr.port, addr.address);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Send a request, follow redirects with a new MID each time, until `ok` (bounded). */
async function call(router: Router, body: Record<string, string>): Promise<Answer | undefined> {
  let target = IDS[0] as string;
  for (let attempt = 0; attempt < 40; attempt++) {
    const MID = `${body['type']}-${attempt}-${Date.now()}`;
    router.request(target, { ...body, MID });
    for (let wait = 0; wait < 100; wait++) {
      const a = router.answers.find((x) => x.MID === MID);
      if (a?.type === 'ok') return a;
      if (a !== undefined) {
        target = a.leader !== 'FFFF' ? a.leader : IDS[(attempt + 1) % IDS.length] as string;
        break;
      }
      await sleep(10);
    }
  }
  return undefined;
}

describe('[replica] the compiled process speaks replica-udp.md', () => {
  const router = new Router();
  const children: ChildProcess[] = [];
  const startedAt = new Map<string, number>();
  let stderr = '';

  beforeAll(async () => {
    requireBuiltDist();
    const port = await router.start();
    for (const id of IDS) {
      startedAt.set(id, Date.now());
      children.push(spawn('node', ['dist/cli.js', 'replica', String(port), id,
        ...IDS.filter((x) => x !== id)], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] }));
      children.at(-1)?.stderr?.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    }
    for (let i = 0; i < 300 && router.addresses.size < IDS.length; i++) await sleep(10);
  }, 60_000);

  afterAll(() => {
    for (const child of children) {
      if (child.pid !== undefined) {
        try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      }
    }
    router.socket.close();
  });

  it('says hello, elects a leader, and answers a put and then a get with its value', async () => {
    expect(router.addresses.size).toBe(IDS.length);
    const startup = IDS.map((id) => (router.helloAt.get(id) ?? 0) - (startedAt.get(id) ?? 0));
    console.log(`[replica] spawn to hello: ${startup.join(', ')} ms (node start-up included)`);
    // bad input is counted and dropped, never a crash
    for (const id of IDS) {
      router.raw(id, 'not json');
      router.raw(id, JSON.stringify({ src: CLIENT, dst: id, leader: 'FFFF', type: 'put', MID: 7 }));
    }
    const put = await call(router, { type: 'put', key: 'k', value: 'v1' });
    expect(put?.type).toBe('ok');
    const get = await call(router, { type: 'get', key: 'k' });
    expect(get).toMatchObject({ type: 'ok', value: 'v1' });
    const mids = router.answers.map((a) => a.MID);
    expect(new Set(mids).size).toBe(mids.length); // one answer per MID
    expect(router.errors).toEqual([]);
    expect(router.routed).toBeGreaterThan(0);
    expect(children.every((c) => c.exitCode === null)).toBe(true);
    const logged = (): boolean => stderr.includes('(not-json)') && stderr.includes('(invalid)');
    for (let i = 0; i < 100 && !logged(); i++) {
      await sleep(10); // stderr arrives through a pipe, a little after the datagram
    }
    expect(stderr).toMatch(/dropped a datagram \(not-json\)/);
    expect(stderr).toMatch(/dropped a datagram \(invalid\)/);
  }, 30_000);
});
