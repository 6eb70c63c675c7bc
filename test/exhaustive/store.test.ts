/**
 * The exhaustive checker's state store: a fingerprint is stored once, whatever thread stores it;
 * each state's path back to the initial state reads out as the moves that reached it; a full
 * store says so. Replaying a path reaches the same state the search stored.
 */
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { raftMachine } from '../../src/core/raft.js';
import { Model, type Bounds, type World } from '../../src/exhaustive/model.js';
import { BOUNDS } from '../../src/exhaustive/main.js';
import { fingerprint, StateStore } from '../../src/exhaustive/store.js';
import { replay, worldAt } from '../../src/exhaustive/search.js';
import { requireBuiltDist } from '../support/dist.js';

describe('[exhaustive] the state store', () => {
  it('stores a fingerprint once; paths read back; a full store refuses more', () => {
    const store = StateStore.create(4);
    const a = fingerprint('a');
    expect(a).not.toBe(fingerprint('b'));
    expect(fingerprint('a')).toBe(a);
    // fingerprints with the top bit set (the table holds them unsigned)
    const high = (1n << 63n) | 5n;
    const root = store.add(a, -1, 0);
    expect(root).toBe(0);
    expect(store.add(a, -1, 0)).toBe(-1);
    const child = store.add(high, root, 7);
    expect(store.add(high, root, 7)).toBe(-1);
    const grandchild = store.add(fingerprint('c'), child, 3);
    expect(store.path(grandchild)).toEqual([7, 3]);
    expect(store.path(root)).toEqual([]);
    expect(store.size).toBe(3);
    expect(store.add(fingerprint('d'), root, 1)).toBe(3);
    expect(store.full).toBe(false);
    expect(store.add(fingerprint('e'), root, 1)).toBe(-1);
    expect(store.full).toBe(true);
  });

  it('two threads adding the same fingerprints store each once', async () => {
    requireBuiltDist();
    const store = StateStore.create(50_000);
    // each thread runs the compiled store over the same shared buffers
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.module).then(({ StateStore }) => {
        const store = new StateStore(workerData.buffers);
        let mine = 0;
        for (let k = 1; k <= 20000; k++) {
          const fp = (BigInt(k) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
          if (store.add(fp, -1, 0) >= 0) mine++;
        }
        parentPort.postMessage(mine);
      });`;
    const module = pathToFileURL(resolve('dist/exhaustive/store.js')).href;
    const run = (): Promise<number> => new Promise((done, fail) => {
      const w = new Worker(code, { eval: true, workerData: { module, buffers: store.buffers } });
      w.once('message', done);
      w.once('error', fail);
    });
    const [x, y] = await Promise.all([run(), run()]);
    expect((x as number) + (y as number)).toBe(20000);
    expect(store.size).toBe(20000);
  });

  it('replaying a path reaches the state the path was taken to', () => {
    const bounds: Bounds = { ...BOUNDS['default'] as Bounds, symmetry: false };
    const model = new Model(bounds, raftMachine);
    let w: World = model.initial();
    const path: number[] = [];
    for (let step = 0; step < 12; step++) {
      const moves = model.moves(w);
      const k = (step * 5) % moves.length;
      const out = model.apply(w, moves[k] as never);
      if (out?.world === undefined) continue;
      path.push(k);
      w = out.world;
    }
    expect(path.length).toBeGreaterThan(5);
    expect(model.key(worldAt(model, path))).toBe(model.key(w));
    const r = replay(model, path);
    expect(r.lines).toHaveLength(path.length);
    expect(r.violation).toBeUndefined();
  });
});
