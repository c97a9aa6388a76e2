import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { gatherInternals } from '../src/cpu/map-wasm.js';
import { SOFTMAX_CODES, softmaxBlock } from '../src/cpu/softmax-block.js';
import { threadInternals } from '../src/cpu/threads.js';
import * as sp from '../src/index.js';
import { ArgumentError, setNumThreads, tensor, threadsReady } from '../src/index.js';
import { expectClose, randomTensor, ravel, sizeOf, unravel, values } from './helpers.js';

/** Reference reduction over `axes` of a flat row-major array. */
function refReduce(
  v: number[],
  shape: number[],
  axes: number[],
  init: number,
  f: (acc: number, x: number) => number,
  keepDim = false,
) {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Array<number>(sizeOf(kept)).fill(init);
  v.forEach((x, i) => {
    const idx = unravel(i, shape).map((k, d) => (axes.includes(d) ? 0 : k));
    const o = ravel(idx, kept);
    out[o] = f(out[o], x);
  });
  return { out, shape: keepDim ? kept : shape.filter((_, i) => !axes.includes(i)) };
}

const REDUCE_REF: Record<string, [number, (a: number, x: number) => number]> = {
  sum: [0, (a, x) => a + x],
  prod: [1, (a, x) => a * x],
  max: [-Infinity, Math.max],
  min: [Infinity, Math.min],
  all: [1, (a, x) => (x === 0 ? 0 : a)],
  any: [0, (a, x) => (x !== 0 ? 1 : a)],
};

describe('reductions over any axes', () => {
  const cases: [number[], number[] | undefined][] = [
    [[3, 4, 5], [0]],
    [[3, 4, 5], [1]],
    [[3, 4, 5], [2]],
    [
      [3, 4, 5],
      [0, 2],
    ],
    [[3, 4, 5], undefined],
    [[7], [0]],
    [[], undefined],
  ];
  for (const [op, [init, f]] of Object.entries(REDUCE_REF)) {
    it(`${op} matches the reference, with and without keepDim`, () => {
      const fn = (
        sp as unknown as Record<string, (t: sp.Tensor, a?: sp.AxisArg, o?: sp.ReduceOptions) => sp.Tensor>
      )[op];
      for (const [shape, axes] of cases) {
        const x =
          op === 'all' || op === 'any'
            ? sp.gt(randomTensor(shape, 'float64', 2), 1)
            : randomTensor(shape, 'float64', 2);
        const all = axes ?? shape.map((_, i) => i);
        for (const keepDim of [false, true]) {
          const ref = refReduce(values(x), shape, all, init, f, keepDim);
          const res = fn(x, { axis: axes, keepDim });
          expect(res.shape).toEqual(ref.shape);
          expectClose(values(res), ref.out, { atol: 1e-10 });
        }
      }
    });
  }

  it('accepts axes positionally, negative axes, and reduces non-contiguous views', () => {
    const x = randomTensor([4, 3, 2], 'float64', 5);
    expect(values(sp.sum(x, -1))).toEqual(values(sp.sum(x, 2)));
    expect(values(sp.sum(x, [0, -1], { keepDim: true }))).toEqual(
      values(sp.sum(x, { axis: [0, 2], keepDim: true })),
    );
    const t = x.permute([2, 0, 1]);
    const ref = refReduce(values(t.contiguous()), [2, 4, 3], [1], 0, (a, v) => a + v);
    expectClose(values(sp.sum(t, 1)), ref.out, { atol: 1e-12 });
    expect(values(x.sum(1))).toEqual(values(sp.sum(x, 1)));
  });

  it('is a property: sum over random axes of random views matches the reference', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 15 }),
        (shape, mask) => {
          const axes = shape.map((_, i) => i).filter((i) => mask & (1 << i));
          const x = randomTensor(shape, 'float64', 11);
          const ref = refReduce(values(x), shape, axes, 0, (a, v) => a + v);
          expectClose(values(sp.sum(x, axes)), ref.out, { atol: 1e-10 });
        },
      ),
      { numRuns: 50 },
    );
  });

  it('dtypes: int and bool sums are int32, all/any give bool, float32 sums accumulate in float64', () => {
    expect(sp.sum(tensor([1, 2], { dtype: 'int32' })).dtype).toBe('int32');
    expect(sp.sum(tensor([true, true, false])).itemSync()).toBe(2);
    expect(sp.sum(tensor([true])).dtype).toBe('int32');
    expect(sp.all(tensor([1, 2])).dtype).toBe('bool');
    const many = sp.full([1_000_000], 0.1);
    expect(Math.abs(sp.sum(many).itemSync() - 100000)).toBeLessThan(0.01);
  });

  it('large float32 sums (WebAssembly: whole, over leading, trailing, or outer and inner axes) match float64', () => {
    // 70001 values: a whole sum has a tail after its fixed chunks; 7 channels are not whole vectors.
    const x = randomTensor([11, 7, 909], 'float32', 9);
    const x64 = sp.cast(x, 'float64');
    const big = randomTensor([70001], 'float32', 10);
    for (const [t, axes] of [
      [big, [0]],
      [x, [0, 1, 2]],
      [x, [0, 2]],
      [x, [0]],
      [x, [2]],
      [x, [1, 2]],
      [x, [0, 1]],
      [x, [1]], // kept axes not one block: the JavaScript loop
    ] as [sp.Tensor, number[]][]) {
      const want = values(sp.sum(t === x ? x64 : sp.cast(t, 'float64'), axes));
      const got = sp.sum(t, axes);
      expect(got.dtype).toBe('float32');
      expect(got.shape).toEqual(sp.sum(t, axes, { keepDim: false }).shape);
      expectClose(values(got), want, { atol: 1e-3, rtol: 1e-6 });
      expect(sp.sum(t, axes, { keepDim: true }).shape).toEqual(
        t.shape.map((d, i) => (axes.includes(i) ? 1 : d)),
      );
    }
  });

  it("large float32 max and min (WebAssembly) give the JavaScript loop's results: NaN, the first zero's sign", () => {
    // Values at or below zero with zeros of both signs, so many results are a zero whose sign is
    // the first zero's in memory order (the loop keeps the first of equal values); a few NaNs.
    const pattern = (shape: number[], seed: number, nanEvery: number) => {
      const v = values(randomTensor(shape, 'float64', seed)).map((r, i) => {
        const k = Math.floor(Math.abs(r) * 1e6) % 7;
        if (nanEvery && i % nanEvery === nanEvery - 1) return Number.NaN;
        return k === 0 ? 0 : k === 1 ? -0 : k === 2 ? Number.NEGATIVE_INFINITY : -Math.abs(r);
      });
      return tensor(v, { shape, dtype: 'float32' });
    };
    const loop = {
      max: (acc: number, x: number) => (x > acc || Number.isNaN(x) ? x : acc),
      min: (acc: number, x: number) => (-x > -acc || Number.isNaN(x) ? x : acc),
    };
    const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
    const cases: [number[], number[]][] = [
      [[70001], [0]], // whole: fixed chunks and a tail
      [
        [11, 7, 909],
        [0, 1, 2],
      ],
      [
        [11, 7, 909],
        [0, 2],
      ], // [A][C][S]
      [[11, 7, 909], [0]], // leading: four channels a vector, 7 not whole vectors
      [[11, 7, 909], [2]],
      [[11, 7, 909], [1]], // [K][A][C]
      [
        [5, 6, 7, 90],
        [1, 3],
      ], // [K][A][C][S]
      [[700, 3, 10], [1]], // many small [A][C] blocks (K split over the threads)
      [
        [300, 5, 4, 3],
        [1, 3],
      ],
      [
        [5, 6, 7, 90],
        [0, 2],
      ], // kept axes not as the kernels take them: the JavaScript loop
    ];
    for (const [shape, axes] of cases)
      for (const nanEvery of [0, 4999]) {
        const x = pattern(shape, shape.length + axes.length, nanEvery);
        for (const op of ['max', 'min'] as const) {
          const want = refReduce(values(x), shape, axes, op === 'max' ? -Infinity : Infinity, loop[op]);
          const got = (op === 'max' ? sp.max : sp.min)(x, axes);
          expect(got.shape).toEqual(want.shape);
          expect(same(values(got), want.out), `${op} ${shape} ${axes}`).toBe(true);
        }
      }
  });

  it("large float32 products (WebAssembly) give the JavaScript loop's bits", () => {
    // Values near 1, so that products keep many bits and any change of order would show; the
    // float64 tensor takes the JavaScript loop, whose float64 products round once to float32.
    const v = values(randomTensor([11, 7, 909], 'float64', 31)).map((r) => 1 + r / 64);
    const x = tensor(v, { shape: [11, 7, 909], dtype: 'float32' });
    const x64 = sp.cast(x, 'float64');
    for (const axes of [[0, 1, 2], [0, 2], [0], [2], [1], [0, 1], [1, 2]]) {
      const got = values(sp.prod(x, axes));
      const want = values(sp.prod(x64, axes)).map(Math.fround);
      expect(
        got.every((g, i) => Object.is(g, want[i])),
        `prod over ${axes}`,
      ).toBe(true);
    }
  });

  it("large float32 argmax and argmin (WebAssembly) give the JavaScript loop's indices", () => {
    // Few distinct values (many ties: the first wins), zeros of both signs and a NaN now and then
    // (the first NaN wins).
    const x = tensor(
      values(randomTensor([13, 37, 61], 'float64', 21)).map((r, i) =>
        i % 3001 === 0 ? Number.NaN : Math.round(r * 2) || (i % 2 ? -0 : 0),
      ),
      { shape: [13, 37, 61], dtype: 'float32' },
    );
    // Without NaN the flattened row's vector lanes meet ties and zeros of both signs.
    const finite = tensor(
      values(x).map((v) => (Number.isNaN(v) ? -3 : v)),
      { shape: x.shape, dtype: 'float32' },
    );
    for (const [t, axes] of [
      [x, [0, 1, 2]],
      [sp.reshape(x, [x.size]), [0]],
      [sp.reshape(finite, [x.size]), [0]],
      [sp.reshape(finite, [13 * 37, 61]), [1]],
    ] as [sp.Tensor, number[]][])
      for (const greater of [true, false])
        for (const axis of axes) {
          const v = values(t);
          const shape = t.shape;
          const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
          const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
          const n = shape[axis];
          const want: number[] = [];
          for (let a = 0; a < outer; a++)
            for (let i = 0; i < inner; i++) {
              let [best, bi] = [v[a * n * inner + i], 0];
              for (let j = 1; j < n && !Number.isNaN(best); j++) {
                const e = v[(a * n + j) * inner + i];
                if ((greater ? e > best : e < best) || Number.isNaN(e)) [best, bi] = [e, j];
              }
              want.push(bi);
            }
          const got = greater ? sp.argmax(t, axis) : sp.argmin(t, axis);
          expect(values(got), `${greater ? 'argmax' : 'argmin'} ${shape} axis ${axis}`).toEqual(want);
        }
    expect(sp.argmax(x).itemSync()).toBe(0); // the first value is a NaN
  });

  it('empty reductions give identities; max/min of nothing is an error', () => {
    const e = sp.zeros([0, 3]);
    expect(values(sp.sum(e, 0))).toEqual([0, 0, 0]);
    expect(values(sp.prod(e, 0))).toEqual([1, 1, 1]);
    expect(sp.sum(e).itemSync()).toBe(0);
    expect(() => sp.max(e, 0)).toThrow('max: cannot reduce an empty axis of [0,3] (no identity)');
    expect(() => sp.argmax(e)).toThrow(ArgumentError);
    expect(Number.isNaN(sp.mean(e).itemSync())).toBe(true);
  });

  it('max and min propagate NaN', () => {
    expect(Number.isNaN(sp.max(tensor([1, Number.NaN, 3])).itemSync())).toBe(true);
    expect(Number.isNaN(sp.min(tensor([Number.NaN, 1])).itemSync())).toBe(true);
  });

  it('rejects bad axes', () => {
    const x = sp.zeros([2, 3]);
    expect(() => sp.sum(x, 2)).toThrow('sum: axis 2 is out of range for a tensor of rank 2');
    expect(() => sp.sum(x, [0, 0])).toThrow('sum: repeated axis in [0,0]');
    expect(() => sp.sum(x, 0.5)).toThrow('sum: axis must be an integer, got 0.5');
  });
});

describe('argmax / argmin', () => {
  it('first extreme along an axis or overall; NaN counts as maximum', () => {
    const x = tensor([
      [1, 5, 5],
      [7, 0, 7],
    ]);
    expect(values(sp.argmax(x, 1))).toEqual([1, 0]);
    expect(values(sp.argmin(x, 0))).toEqual([0, 1, 0]);
    expect(sp.argmax(x).itemSync()).toBe(3);
    expect(sp.argmax(x).dtype).toBe('int32');
    expect(sp.argmax(x, 1, { keepDim: true }).shape).toEqual([2, 1]);
    expect(sp.argmax(tensor([1, Number.NaN, 3])).itemSync()).toBe(1);
    expect(values(sp.argmax(x.T, 0))).toEqual([1, 0]);
  });
});

describe('mean, var, std', () => {
  it('match the textbook formulas with Bessel correction by default', () => {
    const v = [2, 4, 4, 4, 5, 5, 7, 9];
    const x = tensor(v, { dtype: 'float64' });
    expect(sp.mean(x).itemSync()).toBe(5);
    expect(sp.variance(x, { correction: 0 }).itemSync()).toBe(4);
    expect(sp.variance(x).itemSync()).toBeCloseTo(32 / 7, 12);
    expect(sp.std(x, { correction: 0 }).itemSync()).toBe(2);
    expect(x.var().itemSync()).toBeCloseTo(32 / 7, 12);
    const m = tensor([
      [1, 2],
      [3, 6],
    ]);
    expect(values(sp.mean(m, 0))).toEqual([2, 4]);
    expect(values(sp.variance(m, 1, { correction: 0 }))).toEqual([0.25, 2.25]);
    expect(sp.mean(tensor([1, 2], { dtype: 'int32' })).dtype).toBe('float32');
  });
});

describe('softmax family', () => {
  const rows = [
    [1, 2, 3],
    [1000, 1001, 1002],
    [-1000, -1000, -1000],
  ];
  it('softmax and logSoftmax are stable for large magnitudes', () => {
    const x = tensor(rows, { dtype: 'float64' });
    const p = values(sp.softmax(x));
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const s = e[0] + e[1] + e[2];
    const ref = e.map((v) => v / s);
    expectClose(p, [...ref, ...ref, 1 / 3, 1 / 3, 1 / 3], { atol: 1e-14 });
    expectClose(values(sp.logSoftmax(x)), [...ref, ...ref, 1 / 3, 1 / 3, 1 / 3].map(Math.log), {
      atol: 1e-12,
    });
  });

  it('works along any axis, including non-contiguous inputs', () => {
    const x = randomTensor([3, 4, 5], 'float64', 8);
    for (const axis of [0, 1, 2, -1]) {
      const p = sp.softmax(x, axis);
      const sums = values(sp.sum(p, axis));
      expectClose(
        sums,
        sums.map(() => 1),
        { atol: 1e-12 },
      );
      const viaExp = sp.exp(sp.sub(x, sp.logSumExp(x, axis, { keepDim: true })));
      expectClose(values(p), values(viaExp), { atol: 1e-12 });
    }
    const t = x.transpose(0, 2);
    expectClose(values(sp.softmax(t, 1)), values(sp.softmax(t.contiguous(), 1)), { atol: 1e-15 });
  });

  it('logSumExp over several axes, -inf rows and keepDim', () => {
    const x = randomTensor([2, 3, 4], 'float64', 9);
    const ref = Math.log(values(x).reduce((a, v) => a + Math.exp(v), 0));
    expect(sp.logSumExp(x).itemSync()).toBeCloseTo(ref, 12);
    const r = sp.logSumExp(x, [0, 2], { keepDim: true });
    expect(r.shape).toEqual([1, 3, 1]);
    expect(values(sp.logSumExp(tensor([-Infinity, -Infinity])))).toEqual([-Infinity]);
    expect(sp.logSumExp(tensor([Infinity, 1])).itemSync()).toBe(Infinity);
  });

  it("float32 rows in WebAssembly give the JavaScript loop's bits", () => {
    // Rows of 1, 3, 4, 7 and 1030 floats (whole vectors and partial ones), holding NaN, +-inf,
    // rows of -inf only, and rows whose maximum is 0 met as -0 first or +0 first (logSoftmax's
    // zero outputs keep the sign the loop gives).
    for (const n of [1, 3, 4, 7, 1030]) {
      const rows = Math.max(8, Math.ceil(2048 / n));
      const v = values(randomTensor([rows, n], 'float32', n));
      v[2] = Number.NaN;
      v[n + 1 < v.length ? n + 1 : 0] = Number.POSITIVE_INFINITY;
      v.fill(Number.NEGATIVE_INFINITY, 2 * n, 3 * n);
      v[3 * n + 1 < v.length ? 3 * n + 1 : 0] = Number.NEGATIVE_INFINITY;
      v.fill(-5, 4 * n, 6 * n);
      v[4 * n] = -0;
      v[5 * n + n - 1] = 0;
      if (n > 1) {
        v[4 * n + 1] = 0;
        v[5 * n] = -0;
      }
      const x = tensor(v, { shape: [rows, n], dtype: 'float32' });
      const xs = Float32Array.from(v);
      for (const op of ['softmax', 'logSoftmax', 'logSumExp'] as const) {
        const got = (
          op === 'softmax' ? sp.softmax(x, 1) : op === 'logSoftmax' ? sp.logSoftmax(x, 1) : sp.logSumExp(x, 1)
        ).dataSync();
        const want = new Float32Array(op === 'logSumExp' ? rows : rows * n);
        softmaxBlock(SOFTMAX_CODES[op], xs, want, n, 1, 0, rows, 0, 1);
        let bad = 0;
        for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) bad++;
        expect(bad, `${op}, rows of ${n}`).toBe(0);
      }
    }
  });

  it("float32 columns (a middle axis) in WebAssembly give the JavaScript loop's bits", () => {
    // Columns of n values, inner of them side by side (whole vectors of four and partial ones):
    // a NaN, +inf, a column of -inf only, and maxima of 0 met as -0 or +0 first.
    for (const [n, inner] of [
      [1, 5],
      [3, 2],
      [7, 4],
      [33, 9],
      [5, 130],
    ]) {
      const outer = Math.max(2, Math.ceil(2048 / (n * inner)));
      const v = values(randomTensor([outer, n, inner], 'float32', n + inner));
      const at = (a: number, j: number, i: number) => (a * n + j) * inner + i;
      v[at(0, n - 1, 0)] = Number.NaN;
      v[at(0, 0, 1)] = Number.POSITIVE_INFINITY;
      for (let j = 0; j < n; j++) {
        v[at(1, j, 0)] = Number.NEGATIVE_INFINITY;
        v[at(1, j, 1)] = -5;
      }
      v[at(1, 0, 1)] = -0;
      v[at(1, n - 1, 1)] = 0;
      const x = tensor(v, { shape: [outer, n, inner], dtype: 'float32' });
      const xs = Float32Array.from(v);
      for (const op of ['softmax', 'logSoftmax', 'logSumExp'] as const) {
        const got = (
          op === 'softmax' ? sp.softmax(x, 1) : op === 'logSoftmax' ? sp.logSoftmax(x, 1) : sp.logSumExp(x, 1)
        ).dataSync();
        const want = new Float32Array(op === 'logSumExp' ? outer * inner : v.length);
        softmaxBlock(SOFTMAX_CODES[op], xs, want, n, inner, 0, outer, 0, inner);
        let bad = 0;
        for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) bad++;
        expect(bad, `${op}, columns of ${n}, ${inner} wide`).toBe(0);
      }
    }
  });

  it('strided float32 views: the softmax family and argmax over gather4 copies give the same results', () => {
    const v = values(randomTensor([24, 40, 70], 'float32', 41));
    v[7] = Number.NaN;
    v.fill(Number.NEGATIVE_INFINITY, 100, 140);
    const x = tensor(v, { shape: [24, 40, 70], dtype: 'float32' }).transpose(0, 2); // [70, 40, 24]
    const run = () =>
      [0, 1, 2].flatMap((axis) => [
        sp.softmax(x, axis).dataSync(),
        sp.logSoftmax(x, axis).dataSync(),
        sp.logSumExp(x, axis).dataSync(),
        sp.argmax(x, axis).dataSync(),
        sp.argmin(x, axis).dataSync(),
      ]);
    const fast = run();
    gatherInternals.enabled = false;
    let slow: ReturnType<typeof run>;
    try {
      slow = run();
    } finally {
      gatherInternals.enabled = true;
    }
    fast.forEach((r, k) => {
      let bad = 0;
      for (let i = 0; i < r.length; i++) if (!Object.is(r[i], slow[k][i])) bad++;
      expect(bad, `result ${k}`).toBe(0);
    });
  });

  describe('on the threads', () => {
    afterAll(() => setNumThreads(1));
    // Rows of the last axis and columns of the others, large enough to be split; some rows
    // hold NaN, +inf, -inf or only -inf. [1, 40000] has one row: its columns are split.
    const shapes = [
      [64, 8, 40],
      [3, 7000],
      [1, 40000],
    ];
    const inputs = shapes.map((shape, k) => {
      const v = values(randomTensor(shape, 'float32', 20 + k));
      v[5] = Number.NaN;
      v[41] = Number.POSITIVE_INFINITY;
      v[90] = Number.NEGATIVE_INFINITY;
      v.fill(Number.NEGATIVE_INFINITY, 160, 200);
      return tensor(v, { shape, dtype: 'float32' });
    });
    const run = () =>
      inputs.flatMap((x) =>
        x.shape.flatMap((_, axis) => [
          sp.softmax(x, axis).dataSync(),
          sp.logSoftmax(x, axis).dataSync(),
          sp.logSumExp(x, axis).dataSync(),
        ]),
      );
    it("give one thread's bits on 2, 3 and 4 threads", async () => {
      setNumThreads(1);
      const one = run();
      for (const threads of [2, 3, 4]) {
        setNumThreads(threads);
        expect(await threadsReady()).toBe(threads);
        const calls = threadInternals.batches();
        const many = run();
        expect(threadInternals.batches() - calls).toBeGreaterThanOrEqual(one.length - 3);
        many.forEach((r, k) => {
          let bad = 0;
          for (let i = 0; i < r.length; i++) if (!Object.is(r[i], one[k][i])) bad++;
          expect(bad, `result ${k}`).toBe(0);
        });
      }
    });
  });
});
