/**
 * raftkv as a library (`import { KvClient } from 'raftkv'`): a client of a direct-mode cluster,
 * one started by `raftkv cluster up` or by `raftkv replica --id ...` processes. The package's
 * `exports` name this module only; its declarations are `dist/index.d.ts`.
 *
 * ```ts
 * const client = await KvClient.open({ cluster: ['127.0.0.1:7100'] });
 * await client.put('colour', 'blue');
 * const r = await client.get('colour'); // { found: true, value: 'blue' }, or { found: false }
 * client.close();
 * ```
 */
export {
  KvClient, NoLeaderError, SessionExpiredError, TimeoutError, TooLargeError,
  type CasResult, type ClientOptions, type Found, type ListOptions, type ListPage,
} from './client/client.js';
export { parseAddress, type Address } from './replica/address.js';
export { MAX_KEY_LENGTH, MAX_LIST_LIMIT, MAX_VALUE_LENGTH } from './wire/messages.js';
