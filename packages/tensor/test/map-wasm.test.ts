// Large contiguous float32 elementwise ops run in WebAssembly (src/cpu/map-wasm.ts); strided
// views of the same values take the JavaScript loops (with gather4's copies turned off, as
// they would otherwise reach the kernels too). Both must give the same values, special values
// included (NaN, signed zeros, infinities, subnormals), on any thread count.
import { afterAll, describe, expect, it } from 'vitest';
import { THREADED_MAPS } from '../src/cpu/expressions.js';
import { gatherInternals } from '../src/cpu/map-wasm.js';
import { erf } from '../src/cpu/math.js';
import { threadInternals } from '../src/cpu/threads.js';
import * as sp from '../src/index.js';
import { setNumThreads, type Tensor, tensor, threadsReady } from '../src/index.js';
import { randomValues } from './helpers.js';

const ROWS = 129;
const COLS = 257; // 33153 values: above the WebAssembly threshold, not a multiple of 4
const SPECIAL = [
  Number.NaN,
  0,
  -0,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1e-40,
  -1e-40,
  3.4e38,
];

function input(seed: number): Tensor {
  const v = randomValues(ROWS * COLS, seed, -4, 4);
  SPECIAL.forEach((s, i) => {
    v[i * 97 + seed] = s;
  });
  return tensor(v, { shape: [ROWS, COLS], dtype: 'float32' });
}

/**
 * op on the contiguous tensors against op on transposed (strided) views of the same values;
 * `threaded`: the contiguous call must run on the threads.
 */
function expectSame(op: (...t: Tensor[]) => Tensor, inputs: Tensor[], threaded = false): void {
  const calls = threadInternals.batches();
  const fast = op(...inputs).dataSync();
  if (threaded) expect(threadInternals.batches()).toBeGreaterThan(calls);
  const views = inputs.map((t) => (t.size === 1 ? t : t.transpose(0, 1).contiguous().transpose(0, 1)));
  expect(views.some((t) => !t.isContiguous)).toBe(true);
  const slow = slowly(() =>
    op(...views)
      .contiguous()
      .dataSync(),
  );
  expect(fast.length).toBe(slow.length);
  let bad = 0;
  for (let i = 0; i < fast.length; i++) if (!Object.is(fast[i], slow[i])) bad++;
  expect(bad).toBe(0);
}

/** `f` with strided views on the JavaScript loops (gather4 off). */
function slowly<T>(f: () => T): T {
  gatherInternals.enabled = false;
  try {
    return f();
  } finally {
    gatherInternals.enabled = true;
  }
}

function sameBits(x: Tensor, y: Tensor): void {
  const [u, v] = [x.dataSync(), y.contiguous().dataSync()];
  expect(u.length).toBe(v.length);
  let bad = 0;
  for (let i = 0; i < u.length; i++) if (!Object.is(u[i], v[i])) bad++;
  expect(bad).toBe(0);
}

describe('WebAssembly elementwise maps', () => {
  afterAll(() => setNumThreads(1));
  for (const threads of [1, 3]) {
    it(`agree with the JavaScript loops on ${threads} thread(s)`, async () => {
      setNumThreads(threads);
      expect(await threadsReady()).toBe(threads);
      const [a, b] = [input(1), input(2)];
      const scalar = tensor([-1.5], { dtype: 'float32' });
      for (const f of [sp.add, sp.sub, sp.mul, sp.div, sp.maximum, sp.minimum]) {
        expectSame(f as (...t: Tensor[]) => Tensor, [a, b]);
        expectSame(f as (...t: Tensor[]) => Tensor, [a, scalar]);
        expectSame(f as (...t: Tensor[]) => Tensor, [scalar, a]);
      }
      const geluTanh = (t: Tensor) => sp.gelu(t, { approximate: 'tanh' });
      for (const f of [
        sp.neg,
        sp.abs,
        sp.square,
        sp.sqrt,
        sp.relu,
        sp.exp,
        sp.sigmoid,
        sp.tanh,
        sp.expm1,
        sp.erf,
        sp.gelu,
        geluTanh,
      ])
        expectSame(f as (t: Tensor) => Tensor, [a]);
      expectSame(sp.reluBackward as (...t: Tensor[]) => Tensor, [b, a]);
      for (const [lo, hi] of [
        [-1, 1],
        [0.1, 2.7], // bounds that float32 cannot hold
        [-0, Number.POSITIVE_INFINITY],
        [Number.NEGATIVE_INFINITY, 0],
      ])
        expectSame((t: Tensor) => sp.clamp(t, lo, hi), [a]);
    });

    it(`comparisons, where and logical ops agree with the JavaScript loops on ${threads} thread(s)`, async () => {
      setNumThreads(threads);
      expect(await threadsReady()).toBe(threads);
      const a = input(1);
      // b equals a in about a third of the places (eq, le, ge see ties; NaN never equals itself).
      const b = sp.where(sp.gt(input(2), 1.5), a, input(3));
      const [scalar, zero] = [tensor([0.25], { dtype: 'float32' }), tensor([-0], { dtype: 'float32' })];
      const strided = (t: Tensor) => t.transpose(0, 1).contiguous().transpose(0, 1);
      for (const f of [sp.gt, sp.ge, sp.lt, sp.le, sp.eq, sp.ne]) {
        const op = f as (x: Tensor, y: Tensor) => Tensor;
        sameBits(
          op(a, b),
          slowly(() => op(strided(a), b)),
        );
        for (const s of [scalar, zero]) {
          sameBits(
            op(a, s),
            slowly(() => op(strided(a), s)),
          );
          sameBits(
            op(s, a),
            slowly(() => op(s, strided(a))),
          );
        }
      }
      const [m, m2] = [sp.gt(a, 0), sp.lt(b, 1)];
      for (const [x, y] of [
        [a, b],
        [a, zero],
        [scalar, b],
        [scalar, zero],
      ])
        sameBits(
          sp.where(m, x, y),
          slowly(() => sp.where(strided(m), x, y)),
        );
      for (const op of [sp.logicalAnd, sp.logicalOr]) {
        sameBits(op(m, m2), op(strided(m), m2));
        sameBits(op(m, tensor(true)), op(strided(m), tensor(true)));
        sameBits(op(tensor(false), m), op(tensor(false), strided(m)));
      }
      sameBits(sp.logicalNot(m), sp.logicalNot(strided(m)));
    });

    it(`contiguous copies of strided views are bit for bit on ${threads} thread(s)`, async () => {
      setNumThreads(threads);
      expect(await threadsReady()).toBe(threads);
      // Random 32-bit patterns: NaNs among them (the JavaScript loop may quiet a signalling
      // NaN, the kernel moves bits, so floats compare as values, NaN equal to NaN).
      const bits = (n: number, seed: number) =>
        new Int32Array(Float64Array.from(randomValues(n, seed, -1, 1), (v) => Math.floor(v * 2 ** 31)));
      const f32 = (shape: number[], seed: number) => {
        const w = bits(
          shape.reduce((p, d) => p * d, 1),
          seed,
        );
        return tensor(new Float32Array(w.buffer), { shape, dtype: 'float32' });
      };
      const i32 = (shape: number[], seed: number) =>
        tensor(
          bits(
            shape.reduce((p, d) => p * d, 1),
            seed,
          ),
          { shape, dtype: 'int32' },
        );
      const views: [string, Tensor][] = [
        ['transpose(1, 2)', f32([5, 6, 7, 100], 1).transpose(1, 2)],
        ['attention heads', sp.permute(f32([3, 50, 4, 33], 2), [0, 2, 1, 3])],
        ['2-D transpose', f32([300, 201], 3).T],
        [
          'steps',
          sp.slice(f32([40, 60, 60], 4), [
            [0, 40, 2],
            [1, 60],
            [0, 60, 2],
          ]),
        ],
        ['expand', sp.expand(f32([1, 301], 5), [70, 301])],
        ['int32 transpose', i32([130, 3, 47], 6).transpose(0, 2)],
        ['five dims (the loops)', sp.permute(f32([3, 4, 5, 6, 50], 7), [4, 0, 3, 1, 2])],
      ];
      for (const [name, v] of views) {
        expect(v.isContiguous, name).toBe(false);
        const got = sp.contiguous(v).dataSync();
        // The reference walks the view's strides over its storage, element by element.
        const src = v.storage.handle as Float32Array | Int32Array;
        let bad = 0;
        for (let k = 0; k < v.size; k++) {
          let [rest, at] = [k, v.offset];
          for (let d = v.rank - 1; d >= 0; d--) {
            at += (rest % v.shape[d]) * v.strides[d];
            rest = Math.floor(rest / v.shape[d]);
          }
          if (!Object.is(got[k], src[at])) bad++;
        }
        expect(bad, name).toBe(0);
      }
    });

    it(`strided views take the kernels through gather4's copies on ${threads} thread(s)`, async () => {
      setNumThreads(threads);
      expect(await threadsReady()).toBe(threads);
      const base = randomValues(300 * 601, 9, -4, 4);
      SPECIAL.forEach((v, i) => {
        base[i * 1009] = v;
      });
      const x = tensor(base, { shape: [300, 601], dtype: 'float32' }).T; // a strided view
      const y = tensor(randomValues(601 * 300, 10, -4, 4), { shape: [601, 300], dtype: 'float32' });
      const cases: [string, () => Tensor][] = [
        ['exp', () => sp.exp(x)],
        ['gelu', () => sp.gelu(x)],
        ['log (a JavaScript map on the threads)', () => sp.log(x)],
        ['add', () => sp.add(x, y)],
        ['1 - x', () => sp.sub(1, x)],
        ['gt', () => sp.gt(x, y)],
        ['where', () => sp.where(sp.gt(y, 0), x, y)],
        ['clamp', () => sp.clamp(x, -1, 0.5)],
      ];
      for (const [name, f] of cases) {
        const calls = threadInternals.batches();
        const fast = f();
        if (threads > 1) expect(threadInternals.batches(), name).toBeGreaterThan(calls);
        sameBits(fast, slowly(f));
      }
    });

    it(`broadcast rows and channels agree with the JavaScript loops on ${threads} thread(s)`, async () => {
      setNumThreads(threads);
      expect(await threadsReady()).toBe(threads);
      const big = (shape: number[], seed: number) => {
        const v = randomValues(
          shape.reduce((p, d) => p * d, 1),
          seed,
          -4,
          4,
        );
        SPECIAL.forEach((s, i) => {
          v[i * 89 + seed] = s;
        });
        return tensor(v, { shape, dtype: 'float32' });
      };
      const small = (shape: number[], seed: number) =>
        tensor(
          randomValues(
            shape.reduce((p, d) => p * d, 1),
            seed,
            -2,
            2,
          ),
          { shape, dtype: 'float32' },
        );
      // [R][D] op [D], [N][C][S] op [C] (a bias [C,1]), and a 4-D bias [C,1,1]; both orders
      // (the kernels take the full-size operand first: sub and div then as b - a and b / a).
      for (const [a, b] of [
        [big([600, 256], 3), small([256], 4)],
        [big([8, 12, 1600], 5), small([12, 1], 6)],
        [big([4, 6, 10, 10], 7), small([6, 1, 1], 8)],
      ])
        for (const f of [sp.add, sp.sub, sp.mul, sp.div, sp.maximum, sp.minimum]) {
          const op = f as (x: Tensor, y: Tensor) => Tensor;
          const slowA = a.transpose(0, 1).contiguous().transpose(0, 1); // strided: the loops
          const calls = threadInternals.batches();
          sameBits(
            op(a, b),
            slowly(() => op(slowA, b)),
          );
          if (threads > 1 && a.size >= 1 << 17) expect(threadInternals.batches()).toBeGreaterThan(calls);
          sameBits(
            op(b, a),
            slowly(() => op(b, slowA)),
          );
        }
    });
  }
});

describe("exp, sigmoid, tanh, expm1, erf and gelu in WebAssembly (the loops' steps)", () => {
  afterAll(() => setNumThreads(1));
  it("give the JavaScript loops' bits across the float32 range", async () => {
    setNumThreads(2);
    await threadsReady();
    // Every 4093rd bit pattern (all exponents and signs, NaNs, infinities, subnormals), and the
    // values where the algorithms change case: 0.5 and 1.5 ln2, 2^-28 and 2^-54, exp's and
    // expm1's overflows, 56 ln2, tanh's 1 and 22, erf's 2^-28, 0.84375, 1.25, 1/0.35 and 6 (also
    // times sqrt(2): gelu's erf argument).
    const erfEdges = [3.725290298461914e-9, 0.84375, 1.25, 1 / 0.35, 6];
    const edges = [
      ...[0.34657359, 0.34657356, 1.0397208, 2 ** -28, 2 ** -54, 88.72284, 88.72283, 89, 103.97, 87.33655, 1],
      ...[38.81624, 38.81625, 22, 21.999998, 0.99999994, 0.25, 0.5, 708, 709.78],
      ...erfEdges.flatMap((v) => [v, Math.fround(v * Math.SQRT2)]),
    ];
    const sweep = Math.ceil(2 ** 32 / 4093);
    const bits = new Uint32Array(sweep + 2 * edges.length);
    for (let i = 0; i < sweep; i++) bits[i] = i * 4093;
    const x = new Float32Array(bits.buffer);
    x.set([...edges, ...edges.map((v) => -v)], sweep);
    const t = tensor(x, { dtype: 'float32' });
    const sigmoid = (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
    const cases: [string, (t: Tensor) => Tensor, (v: number) => number][] = [
      ['exp', sp.exp, Math.exp],
      ['sigmoid', sp.sigmoid, sigmoid],
      ['tanh', sp.tanh, Math.tanh],
      ['expm1', sp.expm1, Math.expm1],
      ['erf', sp.erf, erf],
      ['gelu', sp.gelu, (v) => 0.5 * v * (1 + erf(v * Math.SQRT1_2))],
      [
        'gelu tanh',
        (t) => sp.gelu(t, { approximate: 'tanh' }),
        (v) => 0.5 * v * (1 + Math.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))),
      ],
    ];
    for (const [name, op, ref] of cases) {
      const got = op(t).dataSync();
      let bad = 0;
      for (let i = 0; i < x.length; i++) {
        const want = Math.fround(ref(x[i]));
        if (!Object.is(got[i], want) && !(Number.isNaN(want) && Number.isNaN(got[i]))) bad++;
      }
      expect(bad, name).toBe(0);
    }
  });
});

describe('JavaScript maps on the threads', () => {
  afterAll(() => setNumThreads(1));
  const ops: Record<(typeof THREADED_MAPS)[number][0], (...t: Tensor[]) => Tensor> = {
    sign: sp.sign,
    round: (x) => sp.round(sp.mul(x, 2.5)), // many halves: round half to even is tested
    log: sp.log,
    log1p: sp.log1p,
    sin: sp.sin,
    cos: sp.cos,
    leakyRelu: (x) => sp.leakyRelu(x, { negativeSlope: 0.13 }),
    pow: sp.pow,
  };
  for (const threads of [2, 3, 4]) {
    it(`give the calling thread's bits on ${threads} threads`, async () => {
      setNumThreads(threads);
      expect(await threadsReady()).toBe(threads);
      const [a, b] = [input(3), input(4)];
      for (const [op] of THREADED_MAPS) {
        const f = ops[op];
        if (op === 'pow') {
          expectSame(f, [a, b], true);
          expectSame(f, [a, tensor([2.5], { dtype: 'float32' })], true);
        } else expectSame(f, [a], true);
      }
    });
  }
});
