import { describe, expect, it } from 'vitest';
import { Clients, type RequestDatagram, type ResponseDatagram } from '../../src/fault/client.js';
import { History } from '../../src/fault/history.js';
import { Rng } from '../../src/fault/rng.js';
import type { ClusterView } from '../../src/fault/schedule.js';
import type { PlannedRequest } from '../../src/fault/workload.js';

function setup(live: string[] = ['0000', '0001', '0002'], maxAttempts?: number) {
  const sent: RequestDatagram[] = [];
  const view: ClusterView = { all: () => ['0000', '0001', '0002'], live: () => live,
    leader: () => undefined, dead: () => [] };
  const history = new History();
  const clients = new Clients({ ids: ['00C0', '00C1'], view, rng: new Rng(1), history,
    send: (m) => sent.push(m), ...(maxAttempts === undefined ? {} : { maxAttempts }) });
  return { sent, history, clients };
}

const put: PlannedRequest = { op: 0, atMs: 0, client: '00C0', kind: 'put', key: 'k1', value: 'v0' };
const get: PlannedRequest = { op: 1, atMs: 0, client: '00C0', kind: 'get', key: 'k1' };

const answer = (to: RequestDatagram, type: ResponseDatagram['type'], leader = 'FFFF',
  extra: Partial<ResponseDatagram> = {}): ResponseDatagram =>
  ({ src: to.dst, dst: to.src, leader, type, MID: to.MID, ...extra });

describe('[client] the clients of replica-udp.md', () => {
  it('sends a request to a live replica with leader FFFF while no leader is known', () => {
    const { sent, history, clients } = setup();
    clients.invoke(put, 10);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ src: '00C0', leader: 'FFFF', type: 'put', key: 'k1',
      value: 'v0' });
    expect(['0000', '0001', '0002']).toContain(sent[0]?.dst);
    expect(history.operations[0]).toMatchObject({ status: 'pending', invokedMs: 10 });
  });

  it('retries a redirect at once, with a new MID, to the leader the redirect names', () => {
    const { sent, history, clients } = setup();
    clients.invoke(put, 0);
    clients.receive(answer(sent[0] as RequestDatagram, 'redirect', '0002'), 5);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ dst: '0002', leader: '0002' });
    expect(sent[1]?.MID).not.toBe(sent[0]?.MID);
    expect(history.attempts.map((a) => a.sentMs)).toEqual([0, 5]);
    clients.receive(answer(sent[1] as RequestDatagram, 'ok', '0002'), 9);
    expect(history.operations[0]).toMatchObject({ status: 'ok', okMs: 9 });
    expect(sent).toHaveLength(2);
    // the client now sends straight to the leader it learned
    clients.invoke(get, 20);
    expect(sent[2]).toMatchObject({ dst: '0002', leader: '0002', type: 'get' });
    expect(clients.knownLeader('00C1')).toBeUndefined();
  });

  it('retries a fail at once with a new MID; a leader that is not live is not used', () => {
    const { sent, clients } = setup(['0000', '0001']);
    clients.invoke(put, 0);
    clients.receive(answer(sent[0] as RequestDatagram, 'fail', '0002'), 1);
    expect(sent).toHaveLength(2);
    expect(['0000', '0001']).toContain(sent[1]?.dst);
    expect(new Set(sent.map((m) => m.MID)).size).toBe(2);
  });

  it('never retries on silence, and only the latest MID of an operation moves it on', () => {
    const { sent, history, clients } = setup();
    clients.invoke(put, 0);
    expect(sent).toHaveLength(1);
    const first = sent[0] as RequestDatagram;
    clients.receive(answer(first, 'redirect'), 1);
    // a second answer to the first MID neither retries nor completes the operation
    clients.receive(answer(first, 'ok'), 2);
    expect(sent).toHaveLength(2);
    expect(history.operations[0]?.status).toBe('pending');
    expect(history.attempt(first.MID)?.answers.map((a) => a.type)).toEqual(['redirect', 'ok']);
  });

  it('learns the leader from every response, FFFF included', () => {
    const { sent, clients } = setup();
    clients.invoke(put, 0);
    clients.receive(answer(sent[0] as RequestDatagram, 'ok', '0001'), 1);
    expect(clients.knownLeader('00C0')).toBe('0001');
    clients.invoke(get, 2);
    clients.receive(answer(sent[1] as RequestDatagram, 'ok', 'FFFF', { value: 'v0' }), 3);
    expect(clients.knownLeader('00C0')).toBeUndefined();
  });

  it('gives up after the retry cap, and when no replica is live', () => {
    const { sent, history, clients } = setup(undefined, 3);
    clients.invoke(put, 0);
    for (let i = 0; i < 5; i++) {
      const last = sent[sent.length - 1] as RequestDatagram;
      clients.receive(answer(last, 'redirect'), i + 1);
    }
    expect(sent).toHaveLength(3);
    expect(history.operations[0]?.status).toBe('abandoned');
    const none = setup([]);
    none.clients.invoke(put, 0);
    expect(none.sent).toHaveLength(0);
    expect(none.history.operations[0]?.status).toBe('unsent');
  });
});
