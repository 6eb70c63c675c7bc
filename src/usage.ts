/**
 * The command line's help, in a module of its own (no imports) so that every command can print it
 * and `raftkv replica` still starts fast. `raftkv --help` prints the commands grouped by task;
 * `raftkv help CMD` and `raftkv CMD --help` print one command's usage and options.
 */

export interface CommandHelp {
  /** The command as typed after `raftkv`. */
  readonly name: string;
  readonly summary: string;
  /** Usage lines, each starting with `raftkv`. */
  readonly usage: readonly string[];
  /** Options and arguments, each with what it does. */
  readonly options: readonly (readonly [string, string])[];
  /** A few lines more: defaults, exit codes, where the output goes. */
  readonly notes?: readonly string[];
}

const CLUSTER: CommandHelp = {
  name: 'cluster',
  summary: 'start, inspect and stop a local direct-mode cluster',
  usage: [
    'raftkv cluster up [--replicas N] [--base-port P] [--secret-file F] [--snapshot-entries N] ' +
      '[--max-sessions N] [--data-dir DIR]',
    'raftkv cluster status|down [--data-dir DIR]',
    'raftkv cluster kill ID|leader [--data-dir DIR]',
  ],
  options: [
    ['--data-dir DIR', 'where the cluster lives (default raftkv-data): its layout, cluster.json, ' +
      'and one directory per replica with its write-ahead log and replica.log'],
    ['--replicas N', 'replicas of a new cluster, 2 to 15 (default 5); an existing cluster keeps ' +
      'its size, and a different --replicas is refused'],
    ['--base-port P', 'the first replica listens on 127.0.0.1:P, the next on P+1, ... ' +
      '(default 7100); ports held by any other process are refused'],
    ['--secret-file F', 'a shared secret: replicas sign their messages with it (HMAC) and ' +
      'drop unsigned ones; the layout records the file\'s path'],
    ['--snapshot-entries N', 'snapshot every N committed entries (default 2000)'],
    ['--max-sessions N', 'client sessions kept (default 1024): past it, the least recently ' +
      'used expires, and its client\'s next write fails as session expired'],
  ],
  notes: [
    '`up` starts what is not running and waits until every replica answers and follows one ' +
      'leader (at most 15 s); it exits 1, printing each replica\'s own error, if any does not.',
    'Each replica logs to DIR/<id>/replica.log. `kill` sends SIGKILL (a crash), `down` SIGTERM.',
  ],
};

const CLIENT_OPTIONS: readonly (readonly [string, string])[] = [
  ['--cluster HOST:PORT,...', 'replicas to ask; any one will do, a follower redirects'],
  ['--data-dir DIR', 'the cluster `raftkv cluster up` recorded there (default raftkv-data)'],
  ['--timeout MS', 'give up after MS milliseconds without an answer (default 5000)'],
  ['--json', 'print the answer as one line of JSON: { found, value }, and { swapped } for a ' +
    'comparison'],
];

/** usage.ts has no imports (start-up): the numbers are MAX_KEY_LENGTH and MAX_VALUE_LENGTH. */
const LIMITS = 'Keys are at most 4,096 characters and values 1,048,576 (1 MiB), counted in UTF-16 ' +
  'code units; a request over them is refused at once, before anything is sent.';

const EXIT_CODES = 'Exit codes: 0 done; 1 no leader answered in time (a write may or may not ' +
  'have happened); 2 a usage error; 3 the key is absent (get), or the comparison failed (cas, ' +
  'put --if-absent). `--` ends the options, so a key may start with `-`.';

const GET: CommandHelp = {
  name: 'get',
  summary: 'read a key (a linearizable read through the leader)',
  usage: ['raftkv get KEY [--cluster HOST:PORT,...] [--data-dir DIR] [--timeout MS] [--json]'],
  options: CLIENT_OPTIONS,
  notes: ['Prints the value, and nothing for an absent key (as etcdctl does), which exits 3: ' +
    'an absent key is not the empty value.', LIMITS, EXIT_CODES],
};

const PUT: CommandHelp = {
  name: 'put',
  summary: 'write a key, once a quorum has it on disk',
  usage: [
    'raftkv put KEY VALUE [--if-absent] [options]',
    'raftkv put KEY --value-file FILE [options]',
    'raftkv put KEY - [options]        (the value from standard input)',
  ],
  options: [...CLIENT_OPTIONS,
    ['--value-file FILE', 'the value is the file\'s contents, byte for byte (UTF-8 text)'],
    ['--if-absent', 'write only if the key is absent (a cas that expects no value); otherwise ' +
      'print the current value and exit 3']],
  notes: ['Prints nothing and exits 0 only when the leader answered that the write committed.',
    LIMITS, EXIT_CODES],
};

const DEL: CommandHelp = {
  name: 'del',
  summary: 'delete a key: it then reads as absent, not as the empty value',
  usage: ['raftkv del KEY [--cluster HOST:PORT,...] [--data-dir DIR] [--timeout MS] [--json]'],
  options: CLIENT_OPTIONS,
  notes: ['Prints how many keys it deleted, 1 or 0 (as etcdctl does); `--json` prints what the ' +
    'key held, { found, value }.', LIMITS, EXIT_CODES],
};

const CAS: CommandHelp = {
  name: 'cas',
  summary: 'compare-and-swap: write NEW only if the key holds EXPECTED, in one step of the log',
  usage: [
    'raftkv cas KEY EXPECTED NEW [options]',
    'raftkv cas KEY EXPECTED --value-file FILE [options]',
    'raftkv cas KEY EXPECTED - [options]        (NEW from standard input)',
  ],
  options: [...CLIENT_OPTIONS,
    ['--value-file FILE', 'NEW is the file\'s contents, byte for byte (UTF-8 text)']],
  notes: ['Prints nothing and exits 0 when it swapped. When the key held another value (or none), ' +
    'it writes nothing, prints the current value (nothing if absent) and exits 3. To expect the ' +
    'key absent, use `put --if-absent`.', LIMITS, EXIT_CODES],
};

const LS: CommandHelp = {
  name: 'ls',
  summary: 'list the keys that start with a prefix, in order, a page at a time',
  usage: ['raftkv ls [PREFIX] [--limit N] [--after KEY] [--cluster HOST:PORT,...] ' +
    '[--data-dir DIR] [--timeout MS] [--json]'],
  options: [...CLIENT_OPTIONS.filter(([o]) => o !== '--json'),
    ['PREFIX', 'list only the keys that start with it (default: every key)'],
    ['--limit N', 'list at most N keys; if more remain, standard error says where to go on'],
    ['--after KEY', 'start after KEY (where an earlier listing stopped)'],
    ['--json', 'print { pairs: [{ key, value }], next } on one line: next, when keys remain, ' +
      'is the --after to go on with']],
  notes: ['Prints one key per line, sorted by UTF-16 code units (as JavaScript compares strings). ' +
    'Each page of up to 1000 keys (fewer if their values are large) is a linearizable read of ' +
    'its own, through the leader: a listing of several pages is not one snapshot, and a key ' +
    'written while it runs shows only if it sorts after the pages already read.', EXIT_CODES],
};

const REPLICA: CommandHelp = {
  name: 'replica',
  summary: 'run one replica process',
  usage: [
    'raftkv replica --id ID --listen HOST:PORT --peer ID=HOST:PORT ... --data-dir DIR ' +
      '[--secret-file F] [--snapshot-entries N] [--max-sessions N] [--loop-delay]',
    'raftkv replica <port> <own id> <other id> [<other id> ...]   (simulator-routed mode)',
  ],
  options: [
    ['--id ID', 'this replica\'s id: four hex digits, not FFFF'],
    ['--listen HOST:PORT', 'where it receives datagrams (peers and clients alike)'],
    ['--peer ID=HOST:PORT', 'another member; give one per peer'],
    ['--data-dir DIR', 'its write-ahead log: created if absent, recovered if present'],
    ['--secret-file F', 'sign every message with this shared secret and drop unsigned ones'],
    ['--snapshot-entries N', 'snapshot every N committed entries (default 2000)'],
    ['--max-sessions N', 'client sessions kept (default 1024): past it, the least recently ' +
      'used expires, and its client\'s next write fails as session expired'],
    ['--loop-delay', 'sample the event loop\'s delay and report its maximum in status (a ' +
      'diagnostic: the sampling wakes the replica 100 times a second)'],
  ],
  notes: ['In simulator-routed mode (the protocol the graders use) every datagram goes through ' +
    'the simulator on 127.0.0.1:<port>, and nothing is written to disk.'],
};

const NETSIM: CommandHelp = {
  name: 'netsim',
  summary: 'the network simulator: real replica processes, routed and faulted over UDP',
  usage: ['raftkv netsim SCENARIO [--replica EXECUTABLE] [--seed N] [--lifetime S] [--quiet] ' +
    '[--verbose] [--json FILE]'],
  options: [
    ['SCENARIO', 'a scenario file, or the name of a shipped one (e.g. kill-leader-1)'],
    ['--replica EXECUTABLE', 'run this replica instead of raftkv\'s own'],
    ['--seed N', 'the simulator\'s seed (default: the scenario\'s)'],
    ['--lifetime S', 'shorten the scenario to S seconds of traffic'],
    ['--json FILE', 'write the report as JSON'],
  ],
};

const DETSIM: CommandHelp = {
  name: 'detsim',
  summary: 'the deterministic simulation: every replica in this process, in virtual time',
  usage: [
    'raftkv detsim SCENARIO [--seed N] [--lifetime S] [--bug NAME] [--trace FILE]',
    'raftkv detsim --mix --seed N [--bug NAME] [--trace FILE]',
  ],
  options: [
    ['SCENARIO', 'a scenario file, or the name of a shipped one'],
    ['--mix --seed N', 'one seed of the CI/soak mix of scenarios'],
    ['--seed N', 'the run\'s seed (default: the scenario\'s); the same seed replays the same run'],
    ['--lifetime S', 'shorten the scenario to S seconds of traffic'],
    ['--bug NAME', 'switch in a catalog bug, to watch the checkers catch it'],
    ['--trace FILE', 'write every step'],
  ],
};

const CRASHTEST: CommandHelp = {
  name: 'crashtest',
  summary: 'kill and restart a local cluster under load, checking every acknowledged write',
  usage: ['raftkv crashtest [--seed N] [--rounds N] [--replicas N] [--clients N] [--keys N] ' +
    '[--torn P] [--flip P] [--all P] [--snapshot-entries N]'],
  options: [
    ['--rounds N', 'kill-and-restart rounds'],
    ['--torn P, --flip P', 'the chance a killed replica\'s log tail is torn, or has a bit flipped'],
    ['--all P', 'the chance a round kills every replica at once'],
    ['--bug NAME',
      'run deliberately broken replicas of the catalog, to see the harness catch them'],
  ],
  notes: ['Exits 1 if an acknowledged write was lost or a history is not linearizable.'],
};

/** Every command, grouped by the task it serves, in the order `--help` lists them. */
export const GROUPS:
  readonly { readonly task: string; readonly commands: readonly CommandHelp[] }[] = [
    { task: 'Run a local cluster', commands: [CLUSTER] },
    { task: 'Read and write keys', commands: [GET, PUT, DEL, CAS, LS] },
    { task: 'Run one replica', commands: [REPLICA] },
    { task: 'Simulate, break and check', commands: [NETSIM, DETSIM, CRASHTEST] },
  ];

export const commandHelp = (name: string): CommandHelp | undefined =>
  GROUPS.flatMap((g) => g.commands).find((c) => c.name === name);

/** `raftkv --help`: the commands by task, with one usage line each. */
export function topHelp(): string {
  const lines = ['raftkv: a Raft-replicated key-value store', '',
    'usage: raftkv COMMAND [ARGS]   (raftkv help COMMAND, or raftkv COMMAND --help, for more)'];
  for (const g of GROUPS) {
    lines.push('', `${g.task}:`);
    for (const c of g.commands) lines.push(`  ${c.name.padEnd(10)} ${c.summary}`);
  }
  lines.push('', 'raftkv --version prints the version.');
  return lines.join('\n');
}

/** One command's help: usage, options, notes. */
export function showHelp(c: CommandHelp): string {
  const width = Math.max(0, ...c.options.map(([o]) => o.length));
  return [`raftkv ${c.name}: ${c.summary}`, '', 'usage:', ...c.usage.map((u) => `  ${u}`),
    ...(c.options.length === 0 ? [] : ['', 'options:',
      ...c.options.map(([o, d]) => `  ${o.padEnd(width)}  ${d}`)]),
    ...(c.notes === undefined ? [] : ['', ...c.notes]),
  ].join('\n');
}

/** A command's usage lines, for its usage errors. */
export const usageOf = (c: CommandHelp): string => `usage: ${c.usage.join('\n       ')}`;

export const REPLICA_USAGE = usageOf(REPLICA);
export const CLUSTER_USAGE = usageOf(CLUSTER);
