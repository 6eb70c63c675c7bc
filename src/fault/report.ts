/**
 * The report of a run: what the network carried, what the clients got, which faults fired, and
 * whether the run passes. Built from plain data, so every driver prints the same report.
 */
import { undecidedOf, violationsOf, type CheckResult, type Violation } from './checkers.js';
import type { HistoryData } from './history.js';
import type { LeaderChange, NetworkCounters } from './network.js';
import type { Scenario, EventType } from './scenario.js';
import { describeAction, type FaultAction } from './schedule.js';

export interface ClientSummary {
  readonly planned: number;
  readonly ops: number;
  readonly gets: number;
  /** Writes: puts, and a direct-mode run's deletes and compare-and-swaps. */
  readonly puts: number;
  readonly attempts: number;
  readonly getsAnswered: number;
  readonly putsAnswered: number;
  readonly redirects: number;
  /** `fail` answers (first answers to their MID). */
  readonly failures: number;
  readonly duplicates: number;
  readonly incorrect: number;
  /** Operations never answered ok; abandoned and unsent ones are among them. */
  readonly unanswered: number;
  readonly abandoned: number;
  readonly unsent: number;
}

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly medianMs: number;
  readonly p99Ms: number;
}

export interface AppliedEvent {
  readonly type: EventType;
  /** When the scenario asked for it and when it fired, ms after clients start. */
  readonly plannedMs: number;
  readonly firedMs: number;
  readonly action: FaultAction;
}

export interface Death {
  readonly id: string;
  readonly atMs: number;
  readonly how: string;
}

/** Every time is in ms after clients start (negative: during start-up). */
export interface Report {
  readonly scenario: Scenario;
  /** Which simulator ran it: the network simulator or the deterministic simulation. */
  readonly tool: 'netsim' | 'detsim';
  readonly replicaCommand: string;
  readonly rerun: string;
  readonly endMs: number;
  readonly leaders: readonly LeaderChange[];
  readonly network: NetworkCounters;
  readonly clients: ClientSummary;
  readonly latency: LatencySummary | undefined;
  readonly events: readonly AppliedEvent[];
  readonly check: CheckResult;
  /** The violations of kind `incorrect`, with details (at most MAX_LISTED). */
  readonly incorrect: readonly Violation[];
  readonly killed: readonly string[];
  /** Replicas that died without being killed: each one fails the run. */
  readonly deaths: readonly Death[];
  /** Protocol errors (bad ids, datagrams from unknown addresses...): each one fails the run. */
  readonly errors: readonly string[];
  readonly errorCount: number;
}

export const MAX_LISTED = 50;

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? Number.NaN;
}

export function summarizeLatency(h: HistoryData): LatencySummary | undefined {
  const ms = h.operations.flatMap((o) => (o.status === 'ok' ? [(o.okMs as number) - o.invokedMs]
    : [])).sort((a, b) => a - b);
  if (ms.length === 0) return undefined;
  return { count: ms.length, meanMs: ms.reduce((a, b) => a + b, 0) / ms.length,
    medianMs: percentile(ms, 0.5), p99Ms: percentile(ms, 0.99) };
}

export function summarizeClients(h: HistoryData, planned: number, check: CheckResult):
  ClientSummary {
  const ops = h.operations;
  const count = (f: (o: HistoryData['operations'][number]) => boolean): number =>
    ops.filter(f).length;
  const firstAnswers = h.attempts.flatMap((a) => a.answers.slice(0, 1));
  const answered = count((o) => o.status === 'ok');
  return {
    planned,
    ops: ops.length,
    gets: count((o) => o.kind === 'get' || o.kind === 'list'),
    puts: count((o) => o.kind !== 'get' && o.kind !== 'list'),
    attempts: h.attempts.length,
    getsAnswered: count((o) => (o.kind === 'get' || o.kind === 'list') && o.status === 'ok'),
    putsAnswered: count((o) => o.kind !== 'get' && o.kind !== 'list' && o.status === 'ok'),
    redirects: firstAnswers.filter((a) => a.type === 'redirect').length,
    failures: firstAnswers.filter((a) => a.type === 'fail').length,
    duplicates: violationsOf(check, 'duplicate').length,
    incorrect: violationsOf(check, 'incorrect').length,
    unanswered: ops.length - answered,
    abandoned: count((o) => o.status === 'abandoned'),
    unsent: count((o) => o.status === 'unsent'),
  };
}

export interface VerdictReason {
  /**
   * correctness: a wrong, duplicated or non-linearizable answer, a history the checker could not
   * decide, a crash or a protocol error;
   * availability: most requests unanswered; threshold: a performance limit of the scenario. The
   * network simulator fails on any; the deterministic simulation, whose chaos schedules may leave
   * no majority for long, fails on correctness only.
   */
  readonly kind: 'correctness' | 'availability' | 'threshold';
  readonly text: string;
}

function correctness(r: Report): string[] {
  const c = r.clients;
  const out: string[] = [];
  if (c.incorrect > 0) out.push(`${c.incorrect} incorrect answers`);
  if (c.duplicates > 0) out.push(`${c.duplicates} duplicate answers`);
  const history = violationsOf(r.check, 'history');
  if (history.length > 0) {
    // A detail may span lines (a failing sub-history): indent it under the reason.
    out.push(`history check failed${history.length > 1 ? ` (${history.length} violations, the ` +
      'first shown)' : ''}:\n${(history[0]?.detail ?? '').replace(/^/gm, '    ')}`);
  }
  // A key left undecided is a key unchecked: not a pass.
  for (const u of undecidedOf(r.check)) out.push(`history check undecided: ${u}`);
  for (const d of r.deaths) out.push(`replica ${d.id} died unexpectedly (${d.how})`);
  if (r.errorCount > 0) out.push(`${r.errorCount} protocol errors, first: ${r.errors[0] ?? ''}`);
  return out;
}

function availability(r: Report): string[] {
  const c = r.clients;
  const out: string[] = [];
  if (c.getsAnswered * 2 < c.gets) out.push(`only ${c.getsAnswered} of ${c.gets} gets answered`);
  if (c.putsAnswered * 2 < c.puts) out.push(`only ${c.putsAnswered} of ${c.puts} puts answered`);
  return out;
}

function thresholdsMissed(r: Report, s: Scenario): string[] {
  const t = s.thresholds;
  const c = r.clients;
  const out: string[] = [];
  const limit = (name: string, value: number, max: number | undefined): void => {
    if (max !== undefined && !(value <= max)) out.push(`${name} ${fmt(value)} > ${fmt(max)}`);
  };
  limit('messages', r.network.messages, t.messages_max);
  limit('failures', c.failures, t.failures_max);
  limit('unanswered', c.unanswered, t.unanswered_max);
  limit('failures + unanswered', c.failures + c.unanswered, t.failures_plus_unanswered_max);
  // No answered operation means no median: that misses any latency limit.
  limit('median latency (ms)', r.latency?.medianMs ?? Infinity, t.latency_median_ms_max);
  limit('duplicates', c.duplicates, t.duplicates_max);
  limit('redirects', c.redirects, t.redirects_max);
  return out;
}

/** Why the run fails; empty when it passes. */
export function verdict(r: Report, s: Scenario): VerdictReason[] {
  return [...correctness(r).map((text) => ({ kind: 'correctness' as const, text })),
    ...availability(r).map((text) => ({ kind: 'availability' as const, text })),
    ...thresholdsMissed(r, s).map((text) => ({ kind: 'threshold' as const, text }))];
}

export function reportJson(r: Report, reasons?: readonly VerdictReason[]): string {
  const verdictPart = reasons === undefined ? {} : { verdict: { passed: reasons.length === 0,
    reasons } };
  return `${JSON.stringify({ ...r, ...verdictPart }, null, 2)}\n`;
}

const fmt = (n: number): string => (Number.isInteger(n) ? n.toLocaleString('en')
  : n.toLocaleString('en', { maximumFractionDigits: 1 }));
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const pct = (x: number): string => `${Math.round(x * 100)} %`;

/** Lines of `label  text`, the labels padded to one column; continuation lines indented. */
function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.flatMap(([label, text]) => text.split('\n')
    .map((line, i) => `${(i === 0 ? label : '').padEnd(width)}${line}`));
}

/** Leader changes closer together than this are folded in the text (the JSON keeps them all). */
const LEADER_FLAP_MS = 50;

/**
 * The leader changes worth reading. Followers that learn of an election at different moments
 * name different leaders (or FFFF) for a few ms; those flaps are folded into the last of them.
 */
export function foldLeaderFlaps(changes: readonly LeaderChange[]): LeaderChange[] {
  const settled = changes.filter(([t], i) => {
    const next = changes[i + 1];
    return next === undefined || next[0] - t >= LEADER_FLAP_MS;
  });
  return settled.filter(([, id], i) => i === 0 || settled[i - 1]?.[1] !== id);
}

function leaderLine(r: Report): string {
  if (r.leaders.length === 0) return 'none ever known';
  const all = foldLeaderFlaps(r.leaders).map(([t, id]) => `${secs(t)} ${id}`);
  // Keep the report on one screen: a flapping leader shows its first and last changes.
  const shown = all.length <= 12 ? all : [...all.slice(0, 6), `... ${all.length - 12} more`,
    ...all.slice(-6)];
  return shown.reduce<string[]>((lines, item) => {
    const last = lines[lines.length - 1];
    if (last !== undefined && last.length + item.length < 70) lines[lines.length - 1] =
      `${last}, ${item}`;
    else lines.push(item);
    return lines;
  }, []).join('\n');
}

function networkLine(r: Report): string {
  const n = r.network;
  return `${fmt(n.messages)} between replicas: delivered ${fmt(n.delivered)}, dropped ` +
    `${fmt(n.dropped)}, partitioned ${fmt(n.partitioned)}, to dead ${fmt(n.toDead)}` +
    (n.beforeHello > 0 ? `, before hello ${fmt(n.beforeHello)}` : '') +
    (n.fromDead > 0 ? `\n${fmt(n.fromDead)} from dead replicas ignored` : '');
}

function clientRows(r: Report): [string, string][] {
  const c = r.clients;
  const l = r.latency;
  return [
    ['requests', `${fmt(c.ops)} of ${fmt(c.planned)} planned (${fmt(c.gets)} gets, ` +
      `${fmt(c.puts)} puts), ${fmt(c.attempts)} attempts`],
    ['answered', `gets ${fmt(c.getsAnswered)}/${fmt(c.gets)}, puts ${fmt(c.putsAnswered)}/` +
      `${fmt(c.puts)}`],
    ['unanswered', `${fmt(c.unanswered)} (abandoned after too many retries ${fmt(c.abandoned)}, ` +
      `no live replica ${fmt(c.unsent)})`],
    ['answers', `redirects ${fmt(c.redirects)}, failures ${fmt(c.failures)}, ` +
      `failures + unanswered ${fmt(c.failures + c.unanswered)}`],
    ['wrong answers', `duplicates ${fmt(c.duplicates)}, incorrect ${fmt(c.incorrect)}`],
    ['latency', l === undefined ? 'no operation answered' : `median ${fmt(l.medianMs)} ms, ` +
      `mean ${fmt(l.meanMs)} ms, p99 ${fmt(l.p99Ms)} ms (${fmt(l.count)} ok)`],
  ];
}

/** The report as text for a terminal: one screen, labels aligned. */
export function formatReport(r: Report, reasons?: readonly VerdictReason[]): string {
  const s = r.scenario;
  const events = r.events.map((e) => `${secs(e.firedMs)} ${e.type}: ${describeAction(e.action)}`);
  const checks = r.check.checks.map((c) => `${c.name} ${c.violations.length}`).join(', ');
  const rows: [string, string][] = [
    ['replica', r.replicaCommand],
    ['leaders', leaderLine(r)],
    ['events', events.length === 0 ? 'none' : events.join('\n')],
    ['messages', networkLine(r)],
    ...clientRows(r),
    ['history check', [`${r.check.passed ? 'passed' : 'FAILED'} (violations: ${checks})`,
      ...undecidedOf(r.check)].join('\n')],
    ['deaths', r.deaths.length === 0 ? 'none unexpected' + (r.killed.length > 0
      ? `; killed ${r.killed.join(' ')}` : '') : r.deaths.map((d) =>
      `${d.id} at ${secs(d.atMs)}: ${d.how}`).join('\n')],
    ['errors', r.errorCount === 0 ? 'none' : `${fmt(r.errorCount)}: ` +
      r.errors.slice(0, 3).join('\n')],
  ];
  const incorrect = r.incorrect.slice(0, 5).map((v) => `  ${v.detail}`);
  const head = [`raftkv ${r.tool}: ${s.name ?? 'scenario'} - ${s.replicas} replicas, ${s.lifetime} s, ` +
    `${s.requests} requests, ${pct(s.mix)} gets, ${pct(s.drops)} drops, seed ${s.seed}`,
  `rerun: ${r.rerun}`, ''];
  const verdictLines = reasons === undefined ? [] : ['', reasons.length === 0 ? 'verdict: PASS'
    : `verdict: FAIL\n${reasons.map((x) => `  ${x.kind}: ${x.text}`).join('\n')}`];
  return [...head, ...table(rows), ...(incorrect.length > 0 ? ['incorrect answers (first 5):',
    ...incorrect] : []), ...verdictLines].join('\n');
}
