/** The command line's usage lines, in a module of their own so every command can print them. */
export const REPLICA_USAGE = 'usage: raftkv replica <port> <own id> <other id> [<other id> ...]';
export const SIM_USAGE = '       raftkv netsim <scenario.json> [--replica <executable>] [--seed N] ' +
  '[--lifetime S] [--quiet] [--verbose] [--json <file>]   (the network simulator)';

export const SIMULATE_USAGE = '       raftkv detsim <scenario.json> | --mix --seed N ' +
  '[--bug NAME] ' +
  '[--trace FILE] ...   (the deterministic simulation)';

export const DIRECT_USAGE = '       raftkv replica --id ID --listen HOST:PORT ' +
  '--peer ID=HOST:PORT ... --data-dir DIR [--secret-file FILE] [--snapshot-entries N]';
export const CLUSTER_USAGE = '       raftkv cluster up [--replicas N] [--data-dir DIR] ' +
  '[--snapshot-entries N] ' +
  '| status | down | ' +
  'kill ID|leader';
export const CLIENT_USAGE = '       raftkv get KEY | put KEY VALUE | del KEY ' +
  '[--cluster HOST:PORT,...] [--data-dir DIR] [--timeout MS]';

