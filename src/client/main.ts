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
import { KvClient, NoLeaderError } from './client.js';


function take(args: string[], name: string): string | undefined {
  const k = args.indexOf(name);
  if (k < 0) return undefined;
  const [, value] = args.splice(k, 2);
  return value;
}

function clusterOf(list: string | undefined, dir: string): Address[] | string {
  if (list !== undefined) {
    const addresses = list.split(',').map(parseAddress);
    if (addresses.some((a) => a === undefined)) return `bad --cluster ${list}`;
    return addresses as Address[];
  }
  const layout = readLayout(dir);
  if (layout === undefined) return `no --cluster given and no cluster recorded in ${dir}`;
  return layout.members.map((m) => m.address);
}

export async function clientMain(command: 'get' | 'put' | 'del', argv: readonly string[]):
  Promise<number> {
  const args = [...argv];
  const list = take(args, '--cluster');
  const dir = resolve(take(args, '--data-dir') ?? DEFAULT_DATA_DIR);
  const timeoutMs = Number(take(args, '--timeout') ?? 5000);
  const want = command === 'put' ? 2 : 1;
  if (args.length !== want || !(timeoutMs > 0)) {
    console.error(`raftkv ${command}: expected ${command === 'put' ? 'KEY VALUE' : 'KEY'}\n` +
      CLIENT_USAGE.trim());
    return 2;
  }
  const cluster = clusterOf(list, dir);
  if (typeof cluster === 'string') {
    console.error(cluster);
    return 2;
  }
  const client = await KvClient.open({ cluster, timeoutMs });
  try {
    const [key, value] = args as [string, string];
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
