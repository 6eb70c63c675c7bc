/**
 * The direct-mode replica's command line (`parseDirectArgs`): a full command line parses to the
 * options `startDirect` takes, and every malformed one is refused with a message naming what is
 * wrong, before anything binds or touches a disk.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDirectArgs } from '../../src/replica/directMain.js';

const FULL = ['--id', '0000', '--listen', '127.0.0.1:7100', '--peer', '0001=127.0.0.1:7101',
  '--peer', '0002=localhost:7102', '--data-dir', '/tmp/raftkv-0000'];

/** `FULL` with the flag `name` (and its value) removed. */
const without = (name: string): string[] => {
  const k = FULL.indexOf(name);
  return [...FULL.slice(0, k), ...FULL.slice(k + 2)];
};

const tmp = mkdtempSync(join(tmpdir(), 'raftkv-args-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('[direct CLI] parseDirectArgs', () => {
  it('accepts a full command line; localhost is 127.0.0.1; no secret by default', () => {
    const parsed = parseDirectArgs(FULL);
    // toMatchObject: options added later (as test-only ones) do not break this check
    expect(parsed).toMatchObject({
      id: '0000',
      listen: { host: '127.0.0.1', port: 7100 },
      peers: new Map([['0001', { host: '127.0.0.1', port: 7101 }],
        ['0002', { host: '127.0.0.1', port: 7102 }]]),
      dataDir: '/tmp/raftkv-0000',
      secret: undefined,
    });
  });

  it('reads the secret from --secret-file, without its trailing newline', () => {
    const file = join(tmp, 'secret');
    writeFileSync(file, 's3cret\n');
    const parsed = parseDirectArgs([...FULL, '--secret-file', file]);
    expect(typeof parsed === 'string' ? parsed : parsed.secret).toBe('s3cret');
  });

  it('rejects an empty secret file', () => {
    const file = join(tmp, 'empty');
    writeFileSync(file, '\n');
    expect(parseDirectArgs([...FULL, '--secret-file', file])).toMatch(/secret file ".*" is empty/);
  });

  it('rejects a missing --data-dir', () => {
    expect(parseDirectArgs(without('--data-dir'))).toBe('missing --data-dir');
  });

  it('rejects a missing or malformed --id, and the broadcast id FFFF', () => {
    expect(parseDirectArgs(without('--id'))).toMatch(/bad or missing --id/);
    for (const id of ['1', '00000', 'abcd', 'FFFF', 'GGGG']) {
      const args = FULL.map((a, k) => (k === 1 ? id : a));
      expect(parseDirectArgs(args), id).toMatch(/bad or missing --id/);
    }
  });

  it('rejects a bad --peer', () => {
    for (const peer of ['0001', '0001=', '=127.0.0.1:7101', '1=127.0.0.1:7101',
      '0001=127.0.0.1', '0001=127.0.0.1:0', '0001=127.0.0.1:70000', '0001=example.com:7101',
      '0001=127.0.0.1:7101=junk', '0001=999.999.999.999:7101', '0001=127.0.0.256:7101']) {
      const args = [...without('--peer'), '--peer', peer];
      expect(parseDirectArgs(args), peer).toBe(`bad --peer "${peer}": expected ID=HOST:PORT`);
    }
  });

  it('rejects its own id as a peer, and a replica without peers', () => {
    expect(parseDirectArgs([...FULL, '--peer', '0000=127.0.0.1:7103']))
      .toBe("--peer 0000 is this replica's own id");
    const noPeers = FULL.filter((a, k) => a !== '--peer' && FULL[k - 1] !== '--peer');
    expect(parseDirectArgs(noPeers)).toBe('at least one --peer is needed');
    expect(parseDirectArgs([...FULL, '--peer', '0003=127.0.0.1:7100']))
      .toBe("a --peer has this replica's own --listen address");
  });

  it('rejects an unknown option, and an option without a value', () => {
    expect(parseDirectArgs([...FULL, '--verbose', 'yes'])).toBe("Unknown option '--verbose'");
    expect(parseDirectArgs([...FULL, '--data-dir']))
      .toBe("Option '--data-dir <value>' argument missing");
    expect(parseDirectArgs([...FULL, 'stray'])).toBe('unexpected argument "stray"');
  });

  it('rejects a bad or missing --listen', () => {
    expect(parseDirectArgs(without('--listen')))
      .toBe('bad or missing --listen "": expected HOST:PORT');
    for (const listen of ['7100', '127.0.0.1', '127.0.0.1:', '127.0.0.1:0', '127.0.0.1:65536',
      'host:7100', '::1:7100']) {
      const args = FULL.map((a, k) => (k === 3 ? listen : a));
      expect(parseDirectArgs(args), listen)
        .toBe(`bad or missing --listen ${JSON.stringify(listen)}: expected HOST:PORT`);
    }
  });
});
