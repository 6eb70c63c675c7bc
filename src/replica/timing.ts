/**
 * The replica's timing, in one place: the processes and the deterministic simulation run the same
 * timers, in ticks of `TICK_MS`.
 */

/**
 * Timers in ticks of 10 ms. The first election waits a second or more (the protocol asks for several
 * hundred ms). Heartbeats go only to peers the leader has not sent to for 300 ms: under load the
 * rotating flushes reach every peer sooner, so an idle cluster is where heartbeats cost messages.
 * A campaign without a quorum is retried after 400-800 ms: under heavy drops its requests, not its
 * peers, are what is missing.
 * A follower that heard from its leader within 20 ms redirects a client; otherwise it holds the
 * request until it hears from a leader.
 */
export const TIMING = { electionTimeoutTicksMin: 100, electionTimeoutTicksMax: 200,
  campaignRetryTicksMin: 40, campaignRetryTicksMax: 80, heartbeatTicks: 30,
  redirectFreshTicks: 2 } as const;

/** Real time per Tick, in the replica process and in the deterministic simulation. */
export const TICK_MS = 10;

/**
 * [§7] A replica snapshots its state machine every this many applied entries. A snapshot copies
 * every key and session once, so this keeps that cost small per entry while the log, and the
 * write-ahead log file, stay short.
 */
export const SNAPSHOT_ENTRIES = 2000;

/** The warm-up's default budget (`warmup.ts`), and the most requests it runs. */
export const WARMUP_MS = 300;
export const WARMUP_REQUESTS = 5000;
