/**
 * `raftkv get KEY`, `raftkv put KEY VALUE [--if-absent]`, `raftkv del KEY`, `raftkv cas KEY
 * EXPECTED NEW`, against `--cluster HOST:PORT,...` (or the cluster that `raftkv cluster up`
 * recorded in `--data-dir`, default `raftkv-data`). Prints a get's value, and nothing for an
 * absent key (as etcdctl does); `--json` prints `{ found, value }` instead. Exit codes: 0 done;
 * 1 no leader answered in time (`--timeout MS`, default 5000), naming what it tried; 2 a usage
 * error; 3 the key is absent (get), or the comparison failed (cas, put --if-absent), which then
 * prints the current value. `raftkv ls [PREFIX]` lists keys page by page (`lsMain`).
 *
 * [§6.3] Each one-shot write (put, del, cas) registers a session of its own through the log, then
 * writes in it: two commits, where a client that stays up pays the first once. A session kept
 * with the cluster's recorded state would save it, but two commands run at once would then share
 * one. Reads need none.
 */
import { resolve } from 'node:path';
import { parseAddress, type Address } from '../replica/address.js';
import {
  DEFAULT_DATA_DIR, layoutSecret, readLayout, recordLeader, type Layout,
} from '../cluster/cluster.js';
import { commandHelp, usageOf, type CommandHelp } from '../usage.js';
import { intArg, parseCommandArgs, readTextArg, shown, stringArg, type Parsed } from '../args.js';
import { MAX_KEY_LENGTH, MAX_LIST_LIMIT, MAX_VALUE_LENGTH } from '../wire/messages.js';
import {
  KvClient, SessionExpiredError, TimeoutError, type ClientOptions, type Found,
} from './client.js';

/** The commands of this module. */
export type ClientCommand = 'get' | 'put' | 'del' | 'cas' | 'ls';
/** The exit code of a get of an absent key, and of a comparison that failed. */
export const EXIT_NOT_FOUND = 3;

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
  'value-file': { type: 'string' }, 'if-absent': { type: 'boolean' }, json: { type: 'boolean' },
  limit: { type: 'string' }, after: { type: 'string' },
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
    return { refused: `the value on standard input has more than ${maxChars} characters: the ` +
      `limit is ${maxChars}` };
  }
  return text;
}

const argCount = (n: number): string => `${n} argument${n === 1 ? '' : 's'}`;

/**
 * The value a put or cas writes: its last argument, a file (`--value-file`), or standard input
 * (`-`). `before`: the arguments that come first (KEY; KEY EXPECTED for a cas).
 */
async function valueOf(args: readonly string[], file: string | undefined, before: string[]):
  Promise<string | { refused: string }> {
  const n = before.length;
  if (file !== undefined) {
    if (args.length !== n) {
      return { refused: `expected ${before.join(' ')} with --value-file, got ${argCount(args.length)}` };
    }
    const text = readTextArg('value file', file, MAX_VALUE_LENGTH * 4);
    if (typeof text !== 'string') return text;
    return text.length > MAX_VALUE_LENGTH ? { refused: `the value file ${shown(file)} has ` +
      `${text.length} characters: the limit is ${MAX_VALUE_LENGTH}` } : text;
  }
  if (args.length !== n + 1) {
    const head = before.join(' ');
    const name = n === 2 ? 'NEW' : 'VALUE';
    return { refused: `expected ${head} ${name} (or ${head} - for standard input, or ${head} ` +
      `--value-file F), got ${argCount(args.length)}` };
  }
  const value = args[n] as string;
  if (value === '-') return readStdin(MAX_VALUE_LENGTH);
  return value.length > MAX_VALUE_LENGTH ? { refused: `a value of ${value.length} characters: ` +
    `the limit is ${MAX_VALUE_LENGTH}` } : value;
}

function usageError(command: string, message: string): number {
  console.error(`raftkv ${command}: ${message}\n${usageOf(commandHelp(command) as CommandHelp)}`);
  return 2;
}

/** What a command prints, and its exit code, once a leader answered. */
interface Outcome { readonly text: string | undefined; readonly json: object; readonly code: number }

const foundJson = (f: Found): object => (f.found ? { found: true, value: f.value }
  : { found: false });

/** A get's answer: the value, or nothing and EXIT_NOT_FOUND for an absent key. */
const readOutcome = (f: Found): Outcome => ({ text: f.found ? f.value : undefined,
  json: foundJson(f), code: f.found ? 0 : EXIT_NOT_FOUND });

async function perform(client: KvClient, command: Exclude<ClientCommand, 'ls'>, key: string,
  value: string, expected: string | null | undefined): Promise<Outcome> {
  switch (command) {
    case 'get': return readOutcome(await client.get(key));
    case 'del': {
      const removed = await client.del(key);
      // as etcdctl: how many keys it deleted
      return { text: removed.found ? '1' : '0', json: foundJson(removed), code: 0 };
    }
    case 'put':
    case 'cas': {
      if (expected === undefined) {
        await client.put(key, value);
        return { text: undefined, json: {}, code: 0 };
      }
      const r = await client.cas(key, expected, value);
      return r.swapped ? { text: undefined, json: { swapped: true }, code: 0 }
        : { ...readOutcome(r.previous), json: { swapped: false, ...foundJson(r.previous) },
          code: EXIT_NOT_FOUND };
    }
  }
}

/** KEY, and for a cas KEY EXPECTED: the arguments before the value. */
function headArgs(command: Exclude<ClientCommand, 'ls'>, args: readonly string[]): string[] | string {
  const names = command === 'cas' ? ['KEY', 'EXPECTED'] : ['KEY'];
  if (args.length < names.length) {
    const value = command === 'put' ? ' VALUE' : command === 'cas' ? ' NEW' : '';
    return `expected ${names.join(' ')}${value}, ` +
      `got ${argCount(args.length)}`;
  }
  return names;
}

/** Runs `work` with a client of the target; exit 1 on a timeout. Records the leader it found. */
async function withClient(command: ClientCommand, target: Target, timeoutMs: number,
  work: (client: KvClient) => Promise<number>): Promise<number> {
  const client = await KvClient.open({ cluster: target.cluster, timeoutMs, ...recorded(target) });
  try {
    const code = await work(client);
    // the next one-shot command goes straight to the leader this one found
    const found = client.leaderId;
    const known = target.layout?.layout.leader;
    if (target.layout !== undefined && found !== undefined && found !== known) {
      recordLeader(target.layout.dir, found);
    }
    return code;
  } catch (e) {
    if (!(e instanceof TimeoutError) && !(e instanceof SessionExpiredError)) throw e;
    console.error(`raftkv ${command}: ${e.message}`);
    return 1;
  } finally {
    client.close();
  }
}

/**
 * `raftkv ls [PREFIX] [--limit N] [--after KEY]`: the keys that start with PREFIX, in order, one
 * per line (`--json`: `{ pairs: [{ key, value }], next }`), fetched a page at a time. Each page is
 * a linearizable read of its own, not one snapshot of the whole listing. With `--limit`, when keys
 * remain, standard error says how to list on from where it stopped (`next`).
 */
async function lsMain(p: Parsed, target: Target, timeoutMs: number): Promise<number> {
  const args = p.positionals;
  if (args.length > 1) return usageError('ls', `expected at most PREFIX, got ${argCount(args.length)}`);
  const prefix = args[0] ?? '';
  const limitText = stringArg(p, 'limit');
  const limit = limitText === undefined ? Infinity
    : intArg('limit', limitText, 1, Number.MAX_SAFE_INTEGER);
  if (typeof limit === 'string') return usageError('ls', limit);
  let after = stringArg(p, 'after');
  for (const [name, text] of [['prefix', prefix], ['--after', after ?? '']] as const) {
    if (text.length > MAX_KEY_LENGTH) {
      return usageError('ls', `a ${name} of ${text.length} characters: the limit is ` +
        `${MAX_KEY_LENGTH}`);
    }
  }
  return withClient('ls', target, timeoutMs, async (client) => {
    const json = p.values.json === true;
    // kept only for --json; otherwise each page is printed and let go
    const pairs: { key: string; value: string }[] = [];
    let listed = 0;
    let next: string | undefined;
    do {
      const page = await client.list(prefix, { limit: Math.min(MAX_LIST_LIMIT, limit - listed),
        ...(after === undefined ? {} : { after }) });
      listed += page.pairs.length;
      if (json) pairs.push(...page.pairs);
      else for (const { key } of page.pairs) console.log(key);
      next = page.next;
      after = next;
    } while (next !== undefined && listed < limit);
    if (json) {
      console.log(JSON.stringify(next === undefined ? { pairs } : { pairs, next }));
    } else if (next !== undefined) {
      console.error(`raftkv ls: more keys after ${JSON.stringify(next)}: list on with ` +
        `--after ${JSON.stringify(next)}`);
    }
    return 0;
  });
}

export async function clientMain(command: ClientCommand, argv: readonly string[]):
  Promise<number> {
  const p = parseCommandArgs(argv, OPTIONS);
  if (typeof p === 'string') return usageError(command, p);
  const args = p.positionals;
  const list = stringArg(p, 'cluster');
  const dir = resolve(stringArg(p, 'data-dir') ?? DEFAULT_DATA_DIR);
  const timeoutMs = intArg('timeout', stringArg(p, 'timeout') ?? '5000', 1, 3_600_000);
  if (typeof timeoutMs === 'string') return usageError(command, timeoutMs);
  if (command !== 'ls') {
    for (const option of ['limit', 'after'] as const) {
      if (p.values[option] !== undefined) {
        return usageError(command, `--${option} is an option of ls only`);
      }
    }
  } else {
    if (p.values['value-file'] !== undefined || p.values['if-absent'] === true) {
      return usageError(command, '--value-file and --if-absent are options of put (and cas)');
    }
    const target = targetOf(list, dir);
    if (typeof target === 'string') return usageError(command, target);
    return lsMain(p, target, timeoutMs);
  }
  const file = stringArg(p, 'value-file');
  const writes = command === 'put' || command === 'cas';
  if (!writes && file !== undefined) {
    return usageError(command, '--value-file is an option of put and cas only');
  }
  const ifAbsent = p.values['if-absent'] === true;
  if (command !== 'put' && ifAbsent) return usageError(command, '--if-absent is an option of put only');
  const head = headArgs(command, args);
  if (typeof head === 'string') return usageError(command, head);
  if (!writes && args.length !== 1) {
    return usageError(command, `expected KEY, got ${argCount(args.length)}`);
  }
  const key = args[0] as string;
  if (key.length > MAX_KEY_LENGTH) {
    return usageError(command, `a key of ${key.length} characters: the limit is ${MAX_KEY_LENGTH}`);
  }
  let value = '';
  if (writes) {
    const v = await valueOf(args, file, head);
    if (typeof v !== 'string') return usageError(command, v.refused);
    value = v;
  }
  const expected = command === 'cas' ? args[1] as string : ifAbsent ? null : undefined;
  if (typeof expected === 'string' && expected.length > MAX_VALUE_LENGTH) {
    return usageError(command, `an expected value of ${expected.length} characters: the limit ` +
      `is ${MAX_VALUE_LENGTH}`);
  }
  const target = targetOf(list, dir);
  if (typeof target === 'string') return usageError(command, target);
  return withClient(command, target, timeoutMs, async (client) => {
    const outcome = await perform(client, command, key, value, expected);
    if (p.values.json === true) console.log(JSON.stringify(outcome.json));
    else if (outcome.text !== undefined) console.log(outcome.text);
    return outcome.code;
  });
}
