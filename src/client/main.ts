/**
 * `raftkv get KEY`, `raftkv put KEY VALUE`, `raftkv del KEY`, against `--cluster HOST:PORT,...`
 * (or the cluster that `raftkv cluster up` recorded in `--data-dir`, default `raftkv-data`).
 * Prints a get's value; exits 1 with a message naming what it tried when no leader answers in
 * time (`--timeout MS`, default 5000).
 */
import { resolve } from 'node:path';
import { parseAddress, type Address } from '../replica/direct.js';
import { DEFAULT_DATA_DIR, readLayout } from '../cluster/cluster.js';
import { CLIENT_USAGE } from '../usage.js';
import { intArg, parseCommandArgs, shown, stringArg } from '../args.js';
import { MAX_KEY_LENGTH, MAX_VALUE_LENGTH } from '../wire/messages.js';
import { KvClient, NoLeaderError } from './client.js';


function clusterOf(list: string | undefined, dir: string): Address[] | string {
  if (list !== undefined) {
    const addresses = list.split(',').map(parseAddress);
    if (addresses.some((a) => a === undefined)) {
      return `bad --cluster ${shown(list)}: expected HOST:PORT,...`;
    }
    return addresses as Address[];
  }
  const layout = readLayout(dir);
  if (layout === undefined) return `no --cluster given and no cluster recorded in ${shown(dir)}`;
  return layout.members.map((m) => m.address);
}

const OPTIONS = {
  cluster: { type: 'string' }, 'data-dir': { type: 'string' }, timeout: { type: 'string' },
} as const;

function usageError(command: string, message: string): number {
  console.error(`raftkv ${command}: ${message}\n${CLIENT_USAGE.trim()}`);
  return 2;
}

export async function clientMain(command: 'get' | 'put' | 'del', argv: readonly string[]):
  Promise<number> {
  const p = parseCommandArgs(argv, OPTIONS);
  if (typeof p === 'string') return usageError(command, p);
  const args = p.positionals;
  const list = stringArg(p, 'cluster');
  const dir = resolve(stringArg(p, 'data-dir') ?? DEFAULT_DATA_DIR);
  const timeoutMs = intArg('timeout', stringArg(p, 'timeout') ?? '5000', 1, 3_600_000);
  if (typeof timeoutMs === 'string') return usageError(command, timeoutMs);
  const want = command === 'put' ? 2 : 1;
  if (args.length !== want) {
    return usageError(command, `expected ${command === 'put' ? 'KEY VALUE' : 'KEY'}, ` +
      `got ${args.length} argument${args.length === 1 ? '' : 's'}`);
  }
  const [key, value] = args as [string, string];
  if (key.length > MAX_KEY_LENGTH) {
    return usageError(command, `a key of ${key.length} characters: the limit is ${MAX_KEY_LENGTH}`);
  }
  if (value !== undefined && value.length > MAX_VALUE_LENGTH) {
    return usageError(command,
      `a value of ${value.length} characters: the limit is ${MAX_VALUE_LENGTH}`);
  }
  const cluster = clusterOf(list, dir);
  if (typeof cluster === 'string') {
    console.error(cluster);
    return 2;
  }
  const client = await KvClient.open({ cluster, timeoutMs });
  try {
    if (command === 'get') console.log(await client.get(key));
    else if (command === 'put') await client.put(key, value);
    else await client.del(key);
    return 0;
  } catch (e) {
    if (!(e instanceof NoLeaderError)) throw e;
    console.error(`raftkv ${command}: ${e.message}`);
    return 1;
  } finally {
    client.close();
  }
}
