/**
 * `raftkv get KEY`, `raftkv put KEY VALUE`, `raftkv del KEY`, against `--cluster HOST:PORT,...`
 * (or the cluster that `raftkv cluster up` recorded in `--data-dir`, default `raftkv-data`).
 * Prints a get's value; exits 1 with a message naming what it tried when no leader answers in
 * time (`--timeout MS`, default 5000).
 */
import { resolve } from 'node:path';
import { parseAddress, type Address } from '../replica/address.js';
import {
  DEFAULT_DATA_DIR, layoutSecret, readLayout, recordLeader, type Layout,
} from '../cluster/cluster.js';
import { commandHelp, usageOf, type CommandHelp } from '../usage.js';
import { intArg, parseCommandArgs, readTextArg, shown, stringArg } from '../args.js';
import { MAX_KEY_LENGTH, MAX_VALUE_LENGTH } from '../wire/messages.js';
import { KvClient, NoLeaderError, type ClientOptions } from './client.js';

/** Where the client goes: a list of addresses, or a recorded cluster with its ids and leader. */
interface Target {
  readonly cluster: Address[];
  readonly layout?: { readonly dir: string; readonly layout: Layout };
}

function targetOf(list: string | undefined, dir: string): Target | string {
  if (list !== undefined) {
    const addresses = list.split(',').map(parseAddress);
    if (addresses.some((a) => a === undefined)) {
      return `bad --cluster ${shown(list)}: expected HOST:PORT,...`;
    }
    return { cluster: addresses as Address[] };
  }
  const layout = readLayout(dir);
  if (layout === undefined) return `no --cluster given and no cluster recorded in ${shown(dir)}`;
  return { cluster: layout.members.map((m) => m.address), layout: { dir, layout } };
}

/** The options a recorded cluster gives a client: its members, its leader, its secret. */
function recorded(t: Target): Partial<ClientOptions> {
  if (t.layout === undefined) return {};
  const { layout } = t.layout;
  const secret = layoutSecret(layout);
  return { members: new Map(layout.members.map((m) => [m.id, m.address])),
    ...(layout.leader === undefined ? {} : { leader: layout.leader }),
    ...(secret === undefined ? {} : { secret }) };
}

const OPTIONS = {
  cluster: { type: 'string' }, 'data-dir': { type: 'string' }, timeout: { type: 'string' },
  'value-file': { type: 'string' },
} as const;

/** Standard input, whole, if it holds at most `maxChars` characters; else a message. */
async function readStdin(maxChars: number): Promise<string | { refused: string }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of process.stdin) {
    const b = chunk as Buffer;
    bytes += b.length;
    // a UTF-8 character is at most 4 bytes: past that many bytes, it cannot fit
    if (bytes > maxChars * 4) break;
    chunks.push(b);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (bytes > maxChars * 4 || text.length > maxChars) {
    return { refused: `the value on standard input is over ${maxChars} characters: the limit` };
  }
  return text;
}

/** The value of a put: its argument, a file (`--value-file`), or standard input (`-`). */
async function valueOf(args: readonly string[], file: string | undefined):
  Promise<string | { refused: string }> {
  if (file !== undefined) {
    if (args.length !== 1) return { refused: `expected KEY with --value-file, got ${args.length} ` +
      `argument${args.length === 1 ? '' : 's'}` };
    const text = readTextArg('value file', file, MAX_VALUE_LENGTH * 4);
    if (typeof text !== 'string') return text;
    return text.length > MAX_VALUE_LENGTH ? { refused: `the value file ${shown(file)} has ` +
      `${text.length} characters: the limit is ${MAX_VALUE_LENGTH}` } : text;
  }
  if (args.length !== 2) {
    return { refused: `expected KEY VALUE (or KEY - for standard input, or KEY --value-file F), ` +
      `got ${args.length} argument${args.length === 1 ? '' : 's'}` };
  }
  const value = args[1] as string;
  if (value === '-') return readStdin(MAX_VALUE_LENGTH);
  return value.length > MAX_VALUE_LENGTH ? { refused: `a value of ${value.length} characters: ` +
    `the limit is ${MAX_VALUE_LENGTH}` } : value;
}

function usageError(command: string, message: string): number {
  console.error(`raftkv ${command}: ${message}\n${usageOf(commandHelp(command) as CommandHelp)}`);
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
  const file = stringArg(p, 'value-file');
  if (command !== 'put' && file !== undefined) {
    return usageError(command, '--value-file is an option of put only');
  }
  if ((command !== 'put' && args.length !== 1) || args.length === 0) {
    return usageError(command, `expected ${command === 'put' ? 'KEY VALUE' : 'KEY'}, got ` +
      `${args.length} argument${args.length === 1 ? '' : 's'}`);
  }
  const key = args[0] as string;
  if (key.length > MAX_KEY_LENGTH) {
    return usageError(command, `a key of ${key.length} characters: the limit is ${MAX_KEY_LENGTH}`);
  }
  let value = '';
  if (command === 'put') {
    const v = await valueOf(args, file);
    if (typeof v !== 'string') return usageError(command, v.refused);
    value = v;
  }
  const target = targetOf(list, dir);
  if (typeof target === 'string') return usageError(command, target);
  const client = await KvClient.open({ cluster: target.cluster, timeoutMs, ...recorded(target) });
  try {
    if (command === 'get') console.log(await client.get(key));
    else if (command === 'put') await client.put(key, value);
    else await client.del(key);
    // the next one-shot command goes straight to the leader this one found
    const found = client.leaderId;
    const known = target.layout?.layout.leader;
    if (target.layout !== undefined && found !== undefined && found !== known) {
      recordLeader(target.layout.dir, found);
    }
    return 0;
  } catch (e) {
    if (!(e instanceof NoLeaderError)) throw e;
    console.error(`raftkv ${command}: ${e.message}`);
    return 1;
  } finally {
    client.close();
  }
}
