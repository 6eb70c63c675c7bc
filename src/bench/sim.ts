/**
 * Simulation speed: simulated cluster-seconds per wall-clock second of the deterministic
 * simulation, one thread, 5 replicas under client load, every checker on. A benchmark, not a test.
 *   npm run bench:sim [-- --seeds N]
 * Loads: the shipped default scenario (5 replicas, 500 requests in 30 s, 10 % drops, a partition
 * and a leader kill) and the same cluster at 4x and 16x the request rate, without faults.
 */
import { cpus } from 'node:os';
import type { Scenario } from '../fault/scenario.js';
import { shippedScenarios } from '../detsim/mix.js';
import { simulate } from '../detsim/simulation.js';

const i = process.argv.indexOf('--seeds');
const seeds = i >= 0 ? Number(process.argv[i + 1]) : 10;
const base = shippedScenarios().find((s) => s.name === 'default') as Scenario;
const loads: [string, Scenario][] = [
  ['default (17 req/s, faults)', base],
  ['steady 67 req/s', { ...base, requests: 2000, drops: 0, events: [] }],
  ['steady 267 req/s', { ...base, requests: 8000, drops: 0, events: [] }],
];

console.log(`raftkv bench:sim on ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), ` +
  `Node ${process.version}, ${seeds} seeds per load after 2 warm-up seeds`);
for (const [label, scenario] of loads) {
  let simulatedMs = 0;
  let wallMs = 0;
  let steps = 0;
  for (let seed = 1; seed <= seeds + 2; seed++) {
    const t0 = performance.now();
    const r = simulate({ scenario: { ...scenario, seed } });
    const ms = performance.now() - t0;
    if (r.failures.length > 0) throw new Error(`${label} seed ${seed}: ${r.failures[0]}`);
    if (seed <= 2) continue;
    simulatedMs += r.simulatedMs;
    wallMs += ms;
    steps += r.steps;
  }
  console.log(`${label.padEnd(28)} ${(simulatedMs / wallMs).toFixed(0).padStart(5)} simulated ` +
    `s per wall s, ${(steps / (wallMs / 1000)).toFixed(0)} replica steps/s, ` +
    `${(wallMs / seeds).toFixed(0)} ms per ${(simulatedMs / seeds / 1000).toFixed(1)} s run`);
}
