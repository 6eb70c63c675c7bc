/**
 * Code to spec: traces recorded from the statecharts under random choices are written as Quint
 * `run` tests; `quint test` checks that every recorded step is an enabled spec action that
 * reaches exactly the recorded state (servers and messages in flight).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClientResponse, NodeId, PeerMessage } from '../../src/wire/messages.js';
import type { AbstractCmd } from '../../src/core/abstract.js';
import type { Bug } from '../../src/mutants/catalog.js';
import { lastLogIndex } from '../../src/core/log.js';
import { membership, replicaPeers } from '../../src/core/state.js';
import { quintAsync } from './quint.js';
import { OVERLOAD, RECORDED_MAX_SESSIONS, Recorder } from './record.js';
import { quintModule, type RecordedStep } from '../../src/conformance/toQuint.js';

const PARAMS = 'Servers = Set("0000", "0001", "0002"), Clients = Set("00C0", "00C1", "00C2"), '
  + 'Keys = Set("a", "b"), MaxBatch = 2, MaxValue = 100000, MaxTerm = 1000, MaxLogLength = 1000, '
  + 'MaxMessages = 1000, MaxRestarts = 1000, MaxHistory = 100000, '
  + `MaxWaiting = ${OVERLOAD.maxWaitingRequests}, `
  + `MaxWaitingPerClient = ${OVERLOAD.maxWaitingPerClient}, `
  + `MaxUncommitted = ${OVERLOAD.maxUncommittedEntries}, MaxSessions = ${RECORDED_MAX_SESSIONS}`;
/**
 * One file per core, so both quint processes run at once. 8 traces (16 until the exhaustive
 * checker's own walks were validated the same way, `test/exhaustive/specVerdict.test.ts`, and the
 * spec verdict joined the CLI test): CI stays under its 20 minutes with a margin.
 */
const FILES = 2;
const TRACES_PER_FILE = 4;
const STEPS = 60;

function record(seed: number, bugs: Bug[] = []): RecordedStep[] {
  const r = new Recorder({ seed, steps: STEPS, maxBatch: 2, bugs });
  const initial = r.initial();
  return [initial, ...r.run()];
}

/** Write the traces as one module per file and run `quint test` on the files in parallel. */
async function validate(files: RecordedStep[][][]): Promise<{ code: number; out: string }[]> {
  const dir = mkdtempSync(join(tmpdir(), 'raftkv-trace-'));
  const spec = relative(dir, resolve('spec/raft'));
  return Promise.all(files.map((traces, i) => {
    const file = join(dir, `codeTrace${i}.qnt`);
    writeFileSync(file, quintModule(`codeTrace${i}`, spec, traces, PARAMS));
    return quintAsync(['test', '--backend=typescript', file], 600_000);
  }));
}

/**
 * A scripted scenario recorded from the real core and from a broken one: `quint test` accepts the
 * first and refuses the second with a failed run (not a type error).
 */
async function expectRefused(label: string, correct: RecordedStep[], broken: RecordedStep[]):
  Promise<void> {
  const [ok, bad] = await validate([[correct], [broken]]);
  console.log(`[code→spec] ${label}: correct core exit ${ok?.code}, broken exit ${bad?.code}: ` +
    `${bad?.out.match(/.*failed.*/)?.[0]?.trim() ?? ''}`);
  expect(ok?.code, ok?.out.slice(-2000)).toBe(0);
  expect(bad?.code).not.toBe(0);
  expect(bad?.out).toMatch(/trace0Test failed/);
}

describe('[conformance:code→spec] recorded traces are spec behaviours', () => {
  it('[Fig2 persist before send] rejects persistAfterSend\'s crash trace, accepts the core\'s',
    async () => {
      const correct = voteThenCrash([]);
      const broken = voteThenCrash(['persistAfterSend']);
      expect(correct.answerInFlight).toBe(false);
      expect(broken.answerInFlight).toBe(true); // a vote its voter no longer remembers
      await expectRefused('vote then crash (persistAfterSend)', correct.trace, broken.trace);
    }, 300_000);

  it(`${FILES * TRACES_PER_FILE} random traces of ${STEPS} steps validate in quint test`, async () => {
    const files = Array.from({ length: FILES }, (_, f) =>
      Array.from({ length: TRACES_PER_FILE }, (_, t) => record(1000 + f * TRACES_PER_FILE + t)));
    const results = await validate(files);
    const steps = files.flat().reduce((n, t) => n + t.length - 1, 0);
    const passed = results.reduce((n, r) => n + (r.out.match(/ok trace\d+Test/g)?.length ?? 0), 0);
    const answers = new Map<string, number>();
    for (const step of files.flat(2)) {
      for (const [event, n] of step.replies.flat()) {
        const ev = /ev: "(\w+)"/.exec(event)?.[1] ?? '?';
        answers.set(ev, (answers.get(ev) ?? 0) + n);
      }
    }
    console.log(`[code→spec] ${files.flat().length} traces, ${steps} steps validated; ` +
      `${passed} run tests passed; answers compared: ` +
      [...answers].sort().map(([a, n]) => `${a} ${n}`).join(', '));
    for (const kind of ['ok', 'redirect', 'fail']) expect(answers.get(kind) ?? 0, kind).toBeGreaterThan(0);
    for (const r of results) expect(r.code, r.out.slice(-3000)).toBe(0);
    expect(passed).toBe(FILES * TRACES_PER_FILE);
  }, 900_000);

  it('[§6.3] a scripted trace of sessions validates: registers, a write that keeps its session ' +
    'in use, a register that expires the least recently used, and the expired write', async () => {
    const { trace, answers } = sessionsExpire();
    expect(answers).toEqual(['ok', 'ok', 'ok', 'ok', 'expired', 'ok']);
    const [result] = await validate([[trace]]);
    console.log(`[code→spec] sessions expire: exit ${result?.code}`);
    expect(result?.code, result?.out.slice(-3000)).toBe(0);
  }, 300_000);

  it('[D§4] a scripted trace of configuration changes validates: a server removed, added back ' +
    'as a learner, promoted, then the leader removing itself and stepping down', async () => {
    const { trace, roles, configs } = reconfigure();
    expect(configs).toEqual(['0000,0001', '0000,0001 +0002', '0000,0001,0002', '0000,0002']);
    expect(roles).toEqual(['Leader', 'Leader', 'Leader', 'Follower']);
    const [result] = await validate([[trace]]);
    console.log(`[code→spec] reconfiguration: ${trace.length - 1} steps, exit ${result?.code}`);
    expect(result?.code, result?.out.slice(-3000)).toBe(0);
  }, 300_000);

  it('catches deliberately wrong answers: one request answered twice', async () => {
    const correct = putAnswered([]);
    const broken = putAnswered(['answerTwice']);
    expect(correct.oks).toBe(1);
    expect(broken.oks).toBe(2); // the same MID answered twice, in one step
    await expectRefused('scripted put answered', correct.trace, broken.trace);
  }, 300_000);

  it('catches a deliberately wrong guard: a vote granted without the up-to-date check', async () => {
    const correct = preVoteToStaleLog([]);
    const broken = preVoteToStaleLog(['voteWithoutUpToDateCheck']);
    expect(correct.granted).toBe(false);
    expect(broken.granted).toBe(true); // the broken code granted a pre-vote to an out-of-date log
    await expectRefused('scripted pre-vote to a stale log', correct.trace, broken.trace);
  }, 300_000);
});

/**
 * [Fig2 "respond after persisting"] A scripted crash point: 0000 grants 0001's vote and crashes
 * right after the step's first effect reached the shell, before its disk write completed. The
 * correct core emits the write first, so its answer waits and is lost with the crash; the
 * `persistAfterSend` core emits the answer first, so it is in flight while 0000 forgets the vote.
 */
function voteThenCrash(bugs: Bug[]): { trace: RecordedStep[]; answerInFlight: boolean } {
  const r = new Recorder({ seed: 6, steps: 0, maxBatch: 2, bugs });
  const initial = r.initial();
  const s0 = '0000' as NodeId;
  const s1 = '0001' as NodeId;
  const script = r.script();
  script.event(s1, { type: 'ElectionTimeout' });
  script.deliverWhere((m) => m.type === 'PreVoteRequest' && m.dst === s0);
  script.deliverWhere((m) => m.type === 'PreVoteResponse' && m.dst === s1); // 0001: candidate
  script.persist(s1);
  script.deliverWhere((m) => m.type === 'RequestVoteRequest' && m.dst === s0); // the vote
  script.restart(s0); // the crash, before 0000's write completes
  const answerInFlight = [...r.cluster.bag.values()].some((f) =>
    f.message.type === 'RequestVoteResponse' && f.message.voteGranted);
  return { trace: [initial, ...r.steps], answerInFlight };
}

/**
 * A scripted trace: 0001 leads, a client's put reaches it, and once 0000 acknowledges it the
 * leader commits and answers it: one `ok`.
 */
/**
 * 0001 wins an election with 0000's vote (0002 hears nothing); `commit` then sends a client's
 * request to 0001 and replicates it to 0000 until it is committed and answered: its replies.
 */
function leaderOf01(seed: number, bugs: Bug[] = []): { r: Recorder; initial: RecordedStep;
  commit: (cmd: AbstractCmd) => ClientResponse[] } {
  const r = new Recorder({ seed, steps: 0, maxBatch: 2, bugs });
  const initial = r.initial();
  const s0 = '0000' as NodeId;
  const s1 = '0001' as NodeId;
  const script = r.script();
  const between01 = (m: PeerMessage): boolean =>
    (m.src === s0 && m.dst === s1) || (m.src === s1 && m.dst === s0);
  script.event(s1, { type: 'ElectionTimeout' });
  for (let i = 0; i < 6; i++) { script.deliverWhere(between01); script.settle(); }
  expect(r.cluster.role(s1)).toBe('Leader');
  const commit = (cmd: AbstractCmd): ClientResponse[] => {
    const before = r.cluster.replies.length;
    script.request(s1, cmd);
    script.event(s1, { type: 'Replicate', to: [s0] });
    for (let i = 0; i < 4; i++) { script.settle(); script.deliverWhere(between01); }
    return r.cluster.replies.slice(before);
  };
  return { r, initial, commit };
}

function putAnswered(bugs: Bug[]): { trace: RecordedStep[]; oks: number } {
  const { r, initial, commit } = leaderOf01(7, bugs);
  const replies = commit({ kind: 'put', client: '00C0', session: 0, seq: 1, key: 'a', value: 1,
    expected: 0 });
  return { trace: [initial, ...r.steps], oks: replies.filter((m) => m.type === 'ok').length };
}

/**
 * [D§4.1] 0001 leads with 0000's help, commits a put (an entry of its term), then makes four
 * changes, each committed before the next: 0002 removed, added back as a learner (it catches up),
 * promoted, and 0001 itself removed, after which it steps down. Returns the trace, and 0001's
 * role and configuration (voters, then learners after `+`) after each change.
 */
function reconfigure(): { trace: RecordedStep[]; roles: string[]; configs: string[] } {
  const { r, initial, commit } = leaderOf01(9);
  const s1 = '0001' as NodeId;
  const script = r.script();
  commit({ kind: 'put', client: '00C0', session: 0, seq: 1, key: 'a', value: 1, expected: 0 });
  const roles: string[] = [];
  const configs: string[] = [];
  const change = (c: 'addLearner' | 'promote' | 'remove', id: string): void => {
    script.event(s1, { type: 'ChangeConfig', change: c, id: id as NodeId });
    for (let i = 0; i < 6 && r.cluster.role(s1) === 'Leader'; i++) {
      const to = replicaPeers(r.cluster.state(s1));
      if (to.length > 0) script.event(s1, { type: 'Replicate', to: [...to] });
      for (let k = 0; k < 3; k++) { script.settle(); script.deliverWhere(() => true); }
    }
    const m = membership(r.cluster.state(s1));
    roles.push(r.cluster.role(s1));
    configs.push(m.voters.join(',') + (m.learners.length > 0 ? ` +${m.learners.join(',')}` : ''));
  };
  change('remove', '0002');
  change('addLearner', '0002');
  change('promote', '0002');
  change('remove', '0001');
  return { trace: [initial, ...r.steps], roles, configs };
}

/**
 * [§6.3] A scripted trace with two sessions kept: 00C0 and 00C1 register; 00C0 writes, so 00C1's
 * is now the least recently used; 00C2's register expires it; 00C1's write is answered
 * `expired`, and 00C0's next write is still `ok`. Each request is committed and answered before
 * the next. Returns the trace and each request's answer.
 */
function sessionsExpire(): { trace: RecordedStep[]; answers: string[] } {
  const { r, initial, commit } = leaderOf01(8);
  const answers: string[] = [];
  const session = new Map<string, number>();
  let value = 0;
  const send = (client: string, seq: number, kind: 'register' | 'put'): void => {
    const put = kind === 'put';
    const reply = commit({ kind, client, session: put ? session.get(client) ?? 0 : 0, seq,
      key: put ? 'a' : '', value: put ? ++value : RECORDED_MAX_SESSIONS, expected: 0 })
      .find((m) => m.type === 'ok' || m.type === 'expired');
    answers.push(reply?.type ?? 'none');
    if (reply?.type === 'ok' && reply.session !== undefined) session.set(client, reply.session);
  };
  send('00C0', 1, 'register');
  send('00C1', 1, 'register');
  send('00C0', 2, 'put');
  send('00C2', 1, 'register');
  send('00C1', 2, 'put');
  send('00C0', 3, 'put');
  return { trace: [initial, ...r.steps], answers };
}

/**
 * A scripted trace: 0001 leads and replicates its no-op to 0000; 0002, whose log is empty, asks
 * 0000 for a pre-vote. The spec refuses it.
 */
function preVoteToStaleLog(bugs: Bug[]): { trace: RecordedStep[]; granted: boolean } {
  const r = new Recorder({ seed: 5, steps: 0, maxBatch: 2, bugs });
  const initial = r.initial();
  const s0 = '0000' as NodeId;
  const s1 = '0001' as NodeId;
  const s2 = '0002' as NodeId;
  const script = r.script();
  const toOrFrom0 = (m: PeerMessage): boolean => (m.dst === s0 || m.src === s0)
    && m.type !== 'AppendEntriesRequest' || (m.type === 'AppendEntriesRequest' && m.dst === s0);
  script.event(s1, { type: 'ElectionTimeout' });
  for (let i = 0; i < 6; i++) { // 0001 leads, 0000 has its no-op
    script.deliverWhere(toOrFrom0);
    script.settle();
  }
  expect(lastLogIndex(r.cluster.state(s0).log)).toBeGreaterThan(0);
  script.deliverWhere((m) => m.type === 'RequestVoteRequest' && m.dst === s2); // 0002: term 1
  script.settle();
  script.dropAll();
  script.event(s0, { type: 'ElectionTimeout' }); // 0000 forgets its leader: it may pre-vote
  script.dropAll();
  expect(lastLogIndex(r.cluster.state(s2).log)).toBe(0);
  script.event(s2, { type: 'ElectionTimeout' });
  script.deliverWhere((m) => m.type === 'PreVoteRequest' && m.dst === s0);
  const granted = [...r.cluster.bag.values()].some((f) =>
    f.message.type === 'PreVoteResponse' && f.message.voteGranted && f.message.dst === s2);
  return { trace: [initial, ...r.steps], granted };
}
