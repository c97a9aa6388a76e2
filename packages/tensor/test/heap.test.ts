// Tensor storage inside the shared WebAssembly memory (src/cpu/heap.ts): which arrays live there,
// that blocks come back on dispose and on garbage collection, that the allocator reuses and
// coalesces them, that the cap falls back to ordinary arrays, that extensions get addresses, and
// that kernels reading and writing storage in place give the bits of the copying path.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { buf, cpu } from '../src/cpu/backend.js';
import { cpuFill, freeResident, residentAddress, residentStats, setResidentLimit } from '../src/cpu/heap.js';
import { RESIDENT_BASE, reserve } from '../src/cpu/wasm.js';
import * as sp from '../src/index.js';
import { BackendError } from '../src/index.js';

const DEFAULT_LIMIT = residentStats().limit;
afterEach(() => setResidentLimit(DEFAULT_LIMIT));

const rand = (shape: number[], seed: number) => {
  sp.manualSeed(seed);
  return sp.randn(shape);
};
const resident = (t: sp.Tensor) => residentAddress(buf(t)) !== undefined;

describe('resident tensor storage', () => {
  it('holds large float32 and int32 tensors in the memory, from RESIDENT_BASE up; small and other dtypes stay ordinary', () => {
    const big = sp.zeros([64, 64]); // 16 KiB
    const small = sp.zeros([63, 64]);
    const ints = sp.full([64, 64], 3, { dtype: 'int32' });
    const doubles = sp.zeros([64, 64], { dtype: 'float64' });
    expect(resident(big)).toBe(true);
    expect(buf(big).byteOffset).toBeGreaterThanOrEqual(RESIDENT_BASE);
    expect(buf(big).buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(resident(small)).toBe(false);
    expect(resident(ints)).toBe(true);
    expect(buf(ints)).toBeInstanceOf(Int32Array);
    expect(resident(doubles)).toBe(false);
    // int32 storage reused dirty is zeroed too
    const intsAt = buf(ints).byteOffset;
    ints.dispose();
    const zeroInts = sp.zeros([64, 64], { dtype: 'int32' });
    expect(buf(zeroInts).byteOffset).toBe(intsAt);
    expect(zeroInts.dataSync().every((v) => v === 0)).toBe(true);
    for (const t of [doubles, zeroInts]) t.dispose();
    // zeros really are zeros when a dirty block is reused
    const dirty = sp.full([64, 64], 7);
    const at = buf(dirty).byteOffset;
    dirty.dispose();
    const again = sp.zeros([64, 64]);
    expect(buf(again).byteOffset).toBe(at);
    expect(again.dataSync().every((v) => v === 0)).toBe(true);
    for (const t of [big, small, again]) t.dispose();
  });

  it('returns blocks on dispose (after the last view) and coalesces neighbours', () => {
    const before = residentStats();
    const [a, b, c] = [0, 1, 2].map(() => sp.zeros([16384]));
    const aAt = buf(a).byteOffset;
    const view = b.reshape([128, 128]);
    expect(residentStats().blocks).toBe(before.blocks + 3);
    b.dispose();
    expect(residentStats().blocks).toBe(before.blocks + 3); // the view holds it
    view.dispose();
    a.dispose();
    expect(residentStats().blocks).toBe(before.blocks + 1);
    // a's and b's blocks merged: twice their size fits where a was
    const ab = sp.zeros([32768]);
    expect(buf(ab).byteOffset).toBe(aAt);
    ab.dispose();
    c.dispose();
    // all free again: the span drops back
    expect(residentStats()).toEqual(before);
  });

  it('cpuAddress gives extensions the address of storage that lives in the memory', () => {
    const t = sp.zeros([128, 128]);
    const at = sp.cpuAddress(buf(t));
    expect(at).toBe(buf(t).byteOffset);
    const rows = sp.slice(t, [[2]]);
    expect(sp.cpuAddress(sp.readContiguous(rows))).toBe(at! + 2 * 128 * 4);
    rows.dispose();
    expect(sp.cpuAddress(new Float32Array(16384))).toBeUndefined();
    expect(sp.cpuAddress(reserve(16).f32)).toBeUndefined(); // scratch is not storage
    expect(() => sp.cpuAddress(null as never)).toThrow(/cpuAddress: expected a typed array, got null/);
    t.dispose();
  });

  it('cpuFill fills views of the memory (on the threads) and other shared arrays as fill does', () => {
    const t = sp.zeros([300000]);
    const arrays = [
      buf(t) as Float32Array, // resident: the fillWords kernel, split over the threads
      reserve(300000).f32.subarray(0, 300000), // scratch: the same
      new Float32Array(new SharedArrayBuffer(4 * 300000)), // elsewhere: copies of a chunk
    ];
    for (const a of arrays)
      for (const [v, from, to] of [
        [1.5, 5, 39003],
        [-0, 0, 300000],
        [Number.NaN, 3, 299999],
        [0, 17, 200001],
        [7, 9, 20], // short: plain fill
      ]) {
        const want = new Float32Array(300000).fill(3);
        want.fill(v, from, to);
        a.fill(3);
        cpuFill(a, v, from, to);
        // the first element whose bits differ (toEqual on 300K elements takes seconds)
        const bad = a.findIndex((x, i) => !Object.is(x, want[i]));
        expect(bad, `value ${v} from ${from} to ${to}`).toBe(-1);
      }
    // Array.prototype.fill's bounds: negative from the end, clamped
    const a = arrays[0];
    a.fill(3);
    sp.cpuFill(a, 2, -200000, 1e9);
    expect([a[99999], a[100000], a[299999]]).toEqual([3, 2, 2]);
    expect(() => sp.cpuFill([1, 2] as never, 0)).toThrow(/cpuFill: expected a Float32Array, got object/);
    expect(() => sp.cpuFill(a, 'x' as never)).toThrow(/cpuFill: value, start and end must be numbers/);
    t.dispose();
  });

  it('frees only arrays it handed out, and never caches a view of the memory', () => {
    const t = sp.zeros([16384]);
    const a = buf(t);
    expect(freeResident(a.subarray(0))).toBe(false);
    expect(freeResident(new Float32Array(16384))).toBe(false);
    t.dispose();
    // freed twice (a bug elsewhere): the block is not handed out again through the cache
    const cached = sp.cachedMemory();
    cpu.free(a, 'float32', 16384);
    expect(sp.cachedMemory()).toBe(cached);
  });

  it('gets blocks back from tensors nobody disposed, through the garbage collector', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const before = residentStats().blocks;
    (() => {
      for (let i = 0; i < 20; i++) sp.zeros([16384]);
    })();
    expect(residentStats().blocks).toBe(before + 20);
    for (let i = 0; i < 5 && residentStats().blocks > before; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(residentStats().blocks).toBe(before);
  });

  it('falls back to ordinary arrays at the cap, and gets back to resident ones below it', () => {
    const before = residentStats();
    setResidentLimit(before.bytes + 4 * 65536);
    const ts = Array.from({ length: 6 }, (_, i) => sp.full([16384], i));
    expect(ts.map(resident)).toEqual([true, true, true, true, false, false]);
    expect(ts.map((t) => t.dataSync()[16383])).toEqual([0, 1, 2, 3, 4, 5]);
    const sum = sp.add(ts[3], ts[5]); // one resident operand, one ordinary, an ordinary result
    expect(resident(sum)).toBe(false);
    expect(sum.dataSync().every((v) => v === 8)).toBe(true);
    ts[0].dispose();
    const again = sp.zeros([16384]);
    expect(resident(again)).toBe(true);
    for (const t of [...ts, sum, again]) t.dispose();
    setResidentLimit(0);
    const t = sp.zeros([16384]);
    expect(resident(t)).toBe(false);
    t.dispose();
  });

  it('refuses scratch above the storage with a clear error', () => {
    expect(() => reserve(RESIDENT_BASE / 4 + 1)).toThrow(BackendError);
    expect(() => reserve(RESIDENT_BASE / 4 + 1)).toThrow(/1024 MiB.*smaller batch/);
  });
});

describe('kernels on resident storage give the bits of the copying path', () => {
  // Each case builds its inputs from a seed and returns every output's values.
  const cases: [string, () => sp.Tensor[]][] = [
    [
      'matmul (also a strided operand)',
      () => {
        const a = rand([96, 80], 1);
        const b = rand([80, 72], 2);
        return [sp.matmul(a, b), sp.matmul(sp.transpose(b), sp.transpose(a))];
      },
    ],
    [
      'conv2d forward and gradients (Winograd, im2col, direct)',
      () => {
        const out: sp.Tensor[] = [];
        for (const [cin, cout, stride] of [
          [16, 16, 1],
          [8, 40, 2],
          [3, 8, 1],
        ]) {
          const x = rand([4, cin, 20, 20], cin);
          const w = sp.mul(rand([cout, cin, 3, 3], cout), 0.2);
          const opts = { padding: 1, stride };
          const y = sp.conv2d(x, w, opts);
          out.push(y, sp.convBackwardInput(y, w, x.shape, opts), sp.convBackwardWeight(x, y, w.shape, opts));
        }
        return out;
      },
    ],
    [
      'elementwise, sums, a view at an offset',
      () => {
        const a = rand([256, 128], 3);
        const b = rand([256, 128], 4);
        const part = sp.slice(a, [[8, 200]]);
        return [
          sp.add(a, b),
          sp.relu(sp.sub(a, b)),
          sp.sum(a, 1),
          sp.sum(b),
          sp.mul(part, 2),
          sp.sum(part, 0),
        ];
      },
    ],
  ];
  for (const [name, run] of cases)
    it(name, () => {
      const withResident = run().map((t) => Array.from(t.dataSync()));
      setResidentLimit(0);
      const copied = run().map((t) => Array.from(t.dataSync()));
      expect(withResident).toEqual(copied);
    });
});
