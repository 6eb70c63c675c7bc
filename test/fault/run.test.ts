/**
 * The shared fault model driven in virtual time by a fake in-process cluster: the same `FaultRun`
 * the network simulator drives with sockets, without processes. An honest fake passes; a lying
 * one, and one that breaks the protocol, must fail the verdict.
 */
import { describe, expect, it } from 'vitest';
import { verdict, type Report } from '../../src/fault/report.js';
import { FaultRun, buildTimeline } from '../../src/fault/run.js';
import type { Scenario } from '../../src/fault/scenario.js';

type Msg = Record<string, unknown> & { src: string; dst: string; type: string };

/** A replica: given a datagram, what it sends back. 0000 leads; the others redirect to it. */
type Behaviour = (self: string, m: Msg, store: Map<string, string>) => Msg[];

const honest: Behaviour = (self, m, store) => {
  if (m.type !== 'get' && m.type !== 'put') return [];
  const base = { src: self, dst: m.src, leader: '0000', MID: m['MID'] };
  if (self !== '0000') return [{ ...base, type: 'redirect' }];
  if (m.type === 'put') store.set(m['key'] as string, m['value'] as string);
  const heartbeat = { src: self, dst: 'FFFF', leader: self, type: 'Heartbeat' };
  return m.type === 'put' ? [heartbeat, { ...base, type: 'ok' }]
    : [{ ...base, type: 'ok', value: store.get(m['key'] as string) ?? '' }];
};

/** Answers every get with a made-up value, and every third request twice. */
const liar: Behaviour = (self, m) => {
  if (m.type !== 'get' && m.type !== 'put') return [];
  const ok = { src: self, dst: m.src, leader: '0000', MID: m['MID'], type: 'ok',
    ...(m.type === 'get' ? { value: 'made-up' } : {}) };
  return Number(String(m['MID']).split('-')[1]) % 3 === 0 ? [ok, ok] : [ok];
};

const scenario: Scenario = { lifetime: 2, replicas: 3, requests: 60, mix: 0.5, drops: 0, seed: 9,
  start_wait: 0.1, end_wait: 0.2, events: [], clients: 2, keys: 4, thresholds: {}, network: {} };

/** Run a scenario to its end, 1 ms at a time, every datagram delivered 1 ms after it is sent. */
function simulate(s: Scenario, behaviour: Behaviour,
  tweak?: (say: (from: string, m: unknown) => void, t: number) => void):
  { report: Report; killed: string[] } {
  const inbox: { at: number; to: string; text: string }[] = [];
  const killed: string[] = [];
  const run = new FaultRun(s, {
    send: (address, p) => inbox.push({ at: t + 1, to: address,
      text: p.text ?? JSON.stringify(p.value) }),
    kill: (id) => killed.push(id),
  });
  const stores = new Map(run.network.all().map((id) => [id, new Map<string, string>()]));
  let t = 0;
  const say = (from: string, m: unknown): void => run.datagram(JSON.stringify(m), from, t);
  for (const id of run.network.all()) say(id, { src: id, dst: 'FFFF', leader: 'FFFF',
    type: 'hello' });
  run.begin(t);
  for (; !run.isOver(t); t++) {
    run.advance(t);
    tweak?.(say, t);
    const due = inbox.filter((d) => d.at <= t);
    inbox.splice(0, inbox.length, ...inbox.filter((d) => d.at > t));
    for (const d of due) {
      if (killed.includes(d.to)) continue;
      for (const out of behaviour(d.to, JSON.parse(d.text) as Msg, stores.get(d.to) ?? new Map())) {
        say(d.to, out);
      }
    }
  }
  run.stop();
  return { report: run.report(t, { tool: 'netsim', replicaCommand: 'fake', rerun: 'fake' }), killed };
}

describe('[run] the fault model end to end in virtual time', () => {
  it('an honest cluster passes: every request answered, leader tracked, messages counted', () => {
    const { report } = simulate(scenario, honest);
    expect(verdict(report, scenario)).toEqual([]);
    expect(report.clients).toMatchObject({ ops: 60, planned: 60, unanswered: 0, duplicates: 0,
      incorrect: 0 });
    expect(report.leaders.at(-1)?.[1]).toBe('0000');
    expect(report.network.messages).toBe(2 * report.clients.puts);
    expect(report.latency?.medianMs).toBeGreaterThan(0);
  });

  it('replays exactly from its seed', () => {
    expect(simulate(scenario, honest).report).toEqual(simulate(scenario, honest).report);
  });

  it('a lying cluster fails: incorrect and duplicate answers', () => {
    const { report } = simulate(scenario, liar);
    const reasons = verdict(report, scenario).map((r) => r.text);
    expect(report.clients.incorrect).toBeGreaterThan(0);
    expect(report.clients.duplicates).toBeGreaterThan(0);
    expect(reasons).toEqual(expect.arrayContaining([expect.stringMatching(/incorrect answers/),
      expect.stringMatching(/duplicate answers/)]));
    expect(report.incorrect[0]?.detail).toMatch(/read "made-up": no put ever wrote this value/);
  });

  it('a kill aims at the leader; messages to it count, its own are ignored', () => {
    const s: Scenario = { ...scenario, events: [{ type: 'kill_leader', time: 1 }] };
    const { report, killed } = simulate(s, honest, (say, t) => {
      if (t > 1500) say('0000', { src: '0000', dst: '0001', leader: '0000', type: 'Late' });
    });
    expect(killed).toEqual(['0000']);
    expect(report.events).toMatchObject([{ type: 'kill_leader', action: { kind: 'kill',
      id: '0000' } }]);
    expect(report.leaders.at(-1)?.[1]).toBe('none');
    expect(report.network.fromDead).toBeGreaterThan(0);
    expect(report.clients.unanswered).toBeGreaterThan(0);
  });

  it('protocol errors fail the run: bad ids, unknown addresses, answers to nobody', () => {
    const { report } = simulate(scenario, honest, (say, t) => {
      if (t !== 5) return;
      say('0001', { src: '0001', dst: '0002', leader: 'nope', type: 'X' });
      say('0001', { src: '0002', dst: '0000', leader: 'FFFF', type: 'X' });
      say('elsewhere', { src: '0009', dst: 'FFFF', leader: 'FFFF', type: 'hello' });
      say('0001', { src: '0001', dst: '0ABC', leader: 'FFFF', type: 'X' });
      say('0001', { src: '0001', dst: '00C0', leader: 'FFFF', type: 'ok' });
    });
    expect(report.errorCount).toBe(5);
    expect(report.errors.join('\n')).toMatch(/leader: expected a node id/);
    expect(verdict(report, scenario).map((r) => r.text)).toContainEqual(
      expect.stringMatching(/^5 protocol errors/));
  });
});

describe('[run] the timeline', () => {
  it('puts events before requests at the same time', () => {
    const items = buildTimeline([{ op: 0, atMs: 1000, client: '00C0', kind: 'get', key: 'k0' }],
      [{ type: 'part_end', time: 1 }, { type: 'part_hard', time: 0.5 }]);
    expect(items.map((i) => i.kind)).toEqual(['event', 'event', 'request']);
  });
});
