// The core op suite as data: every case builds its inputs from a fixed pseudo-random stream on
// the backend under test, runs ops, and returns tensors. ops.test.ts runs each case on the CPU and
// on WebGPU and compares. `ops` names the kernels a case exercises (coverage is checked).

import type { Tensor } from '@softpool/tensor';
import * as T from '@softpool/tensor';

export interface Case {
  name: string;
  ops: string[];
  run: (h: Helpers) => Tensor | Tensor[];
  /** Relative-and-absolute tolerance for float results (default 1e-5). */
  tol?: number;
}

export interface Helpers {
  /** Uniform values in [lo, hi) of `shape`, the same on every backend for the same `seed`. */
  u: (shape: number[], seed: number, lo?: number, hi?: number) => Tensor;
  /** Integers in [lo, hi) as int32. */
  ints: (shape: number[], seed: number, lo: number, hi: number) => Tensor;
}

function stream(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 4294967296;
  }
  return out;
}

export const helpers: Helpers = {
  u: (shape, seed, lo = -1, hi = 1) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return T.tensor(
      Float32Array.from(stream(n, seed), (v) => lo + (hi - lo) * v),
      { shape },
    );
  },
  ints: (shape, seed, lo, hi) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return T.tensor(
      Int32Array.from(stream(n, seed), (v) => lo + Math.floor((hi - lo) * v)),
      { shape, dtype: 'int32' },
    );
  },
};

// Every elementwise op from the core's own lists, so a new op gets a case without editing this file.
const POSITIVE = ['log', 'log1p', 'sqrt', 'rsqrt', 'reciprocal'];
const OWN_CASE = ['gelu', 'leakyRelu', 'logicalNot', 'pow']; // cases of their own below
const UNARY = T.UNARY_OPS.filter((op) => !POSITIVE.includes(op) && !OWN_CASE.includes(op));
const BINARY = T.ARITHMETIC_OPS.filter((op) => !OWN_CASE.includes(op));

export const CASES: Case[] = [
  // ---- elementwise -------------------------------------------------------------------------
  ...UNARY.map((op) => ({
    name: `${op} on a strided view`,
    ops: [op, 'contiguous'],
    run: ({ u }: Helpers) =>
      (T as unknown as Record<string, (x: Tensor) => Tensor>)[op](T.transpose(u([5, 7], 1, -3, 3), 0, 1)),
  })),
  ...POSITIVE.map((op) => ({
    name: `${op} on positive values`,
    ops: [op],
    run: ({ u }: Helpers) => (T as unknown as Record<string, (x: Tensor) => Tensor>)[op](u([33], 2, 0.01, 5)),
  })),
  ...BINARY.map((op) => ({
    name: `${op} with broadcasting`,
    ops: [op],
    run: ({ u }: Helpers) =>
      (T as unknown as Record<string, (a: Tensor, b: Tensor) => Tensor>)[op](
        u([4, 1, 6], 3),
        u([5, 1], 4, 0.5, 2),
      ),
  })),
  ...T.COMPARISON_OPS.map((op) => ({
    name: `${op} (bool result)`,
    ops: [op],
    run: ({ ints }: Helpers) =>
      (T as unknown as Record<string, (a: Tensor, b: Tensor) => Tensor>)[op](
        ints([3, 8], 5, 0, 4),
        ints([8], 6, 0, 4),
      ),
  })),
  {
    name: 'int32 arithmetic',
    ops: ['add', 'mul', 'maximum', 'abs'],
    run: ({ ints }) => [
      T.add(ints([9], 7, -50, 50), ints([9], 8, -5, 5)),
      T.mul(ints([9], 7, -50, 50), 3),
      T.maximum(ints([9], 9, -9, 9), 0),
      T.abs(ints([9], 10, -9, 9)),
    ],
  },
  {
    name: 'pow with negative bases and integer exponents',
    ops: ['pow'],
    run: ({ u }) => [
      T.pow(u([12], 11, -3, 3), 2),
      T.pow(u([12], 12, 0.1, 3), u([12], 13, -2, 2)),
      T.pow(T.tensor([-2, -2, 4]), T.tensor([3, 0.5, -1])),
    ],
  },
  {
    name: 'gelu (erf and tanh) and leakyRelu',
    ops: ['gelu', 'leakyRelu'],
    run: ({ u }) => [
      T.gelu(u([40], 14, -4, 4)),
      T.gelu(u([40], 14, -4, 4), { approximate: 'tanh' }),
      T.leakyRelu(u([40], 15), { negativeSlope: 0.2 }),
    ],
  },
  {
    name: 'logical ops',
    ops: ['logicalAnd', 'logicalOr', 'logicalNot'],
    run: ({ ints }) => {
      const a = T.gt(ints([10], 16, 0, 3), 1);
      const b = T.gt(ints([10], 17, 0, 3), 0);
      return [T.logicalAnd(a, b), T.logicalOr(a, b), T.logicalNot(a)];
    },
  },
  {
    name: 'reluBackward (float32, strided float32, int32)',
    ops: ['reluBackward'],
    run: ({ u, ints }) => [
      T.reluBackward(u([7, 9], 30), u([7, 9], 31)),
      T.reluBackward(u([9, 7], 32).transpose(0, 1), u([7, 9], 33)),
      T.reluBackward(ints([12], 34, -5, 5), ints([12], 35, -2, 3)),
    ],
  },
  {
    name: 'where and clamp',
    ops: ['where', 'clamp'],
    run: ({ u }) => [
      T.where(T.gt(u([6, 5], 18), 0), u([6, 5], 19), u([5], 20)),
      T.clamp(u([30], 21, -3, 3), -1, 0.5),
    ],
  },
  {
    name: 'cast between dtypes',
    ops: ['cast'],
    run: ({ u, ints }) => [
      T.cast(u([20], 22, -5, 5), 'int32'),
      T.cast(ints([20], 23, -2, 3), 'float32'),
      T.cast(ints([20], 23, -2, 3), 'bool'),
    ],
  },
  {
    name: 'NaN and infinities propagate',
    ops: ['maximum', 'relu', 'exp', 'log'],
    run: () => {
      const x = T.tensor([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -1]);
      return [T.maximum(x, 0), T.relu(x), T.exp(x), T.log(x)];
    },
  },
  {
    name: 'full, zeros, arange, eye',
    ops: ['full'],
    run: () => [
      T.full([3, 4], 2.5),
      T.full([2], Number.NEGATIVE_INFINITY),
      T.zeros([5], { dtype: 'int32' }),
      T.arange(0, 10, 3),
      T.eye(3),
    ],
  },
  {
    name: 'in-place copy into a view',
    ops: ['assign'],
    run: ({ u }) => {
      const x = u([4, 6], 24);
      T.copy_(T.slice(x, [null, [1, 5, 2]]), u([4, 1], 25));
      return x;
    },
  },
  // ---- reductions ---------------------------------------------------------------------------
  {
    name: 'sum over every axis combination',
    ops: ['sum'],
    run: ({ u }) => {
      const x = u([3, 4, 5], 26);
      return [
        T.sum(x),
        T.sum(x, 0),
        T.sum(x, 1, { keepDim: true }),
        T.sum(x, [0, 2]),
        T.sum(T.permute(x, [2, 0, 1]), [1, 2]),
      ];
    },
  },
  {
    name: 'large reductions (multi-pass)',
    ops: ['sum', 'max', 'min'],
    tol: 1e-4,
    run: ({ u }) => {
      const x = u([3, 200000], 27);
      return [T.sum(x), T.sum(x, 1), T.max(x, 1), T.min(x), T.sum(u([70, 3000], 28), 0)];
    },
  },
  {
    name: 'mean, var, std, prod',
    ops: ['sum', 'prod'],
    run: ({ u }) => {
      const x = u([6, 7], 29, 0.5, 1.5);
      return [T.mean(x, 1), T.variance(x, 0), T.std(x), T.prod(x, 1)];
    },
  },
  {
    name: 'max/min with NaN, int32 and bool reductions',
    ops: ['max', 'min', 'all', 'any', 'sum'],
    run: ({ ints }) => {
      const x = T.tensor([
        [1, Number.NaN, 3],
        [4, 5, 6],
      ]);
      const i = ints([4, 9], 30, -20, 20);
      return [
        T.max(x, 1),
        T.min(x, 0),
        T.max(i, 1),
        T.min(i),
        T.sum(i, 0),
        T.all(T.gt(i, -15), 1),
        T.any(T.gt(i, 15), 0),
        T.sum(T.gt(i, 0)),
      ];
    },
  },
  {
    name: 'argmax/argmin (first index, NaN wins)',
    ops: ['argmax', 'argmin'],
    run: ({ u }) => [
      T.argmax(u([5, 17], 31), 1),
      T.argmin(u([5, 17], 31), 0, { keepDim: true }),
      T.argmax(T.tensor([1, Number.NaN, 3])),
      T.argmax(T.tensor([2, 7, 7])),
    ],
  },
  {
    name: 'softmax family on inner and outer axes',
    ops: ['softmax', 'logSoftmax', 'logSumExp'],
    run: ({ u }) => {
      const x = u([4, 9, 5], 32, -30, 30);
      return [
        T.softmax(x, 1),
        T.logSoftmax(x, -1),
        T.logSumExp(x, 0),
        T.logSumExp(T.full([2, 3], Number.NEGATIVE_INFINITY), 1),
      ];
    },
  },
  // ---- matmul -------------------------------------------------------------------------------
  {
    name: 'matmul: odd sizes (scalar path), vec4 path, batched broadcast, transposed views',
    ops: ['matmul'],
    tol: 1e-4,
    run: ({ u }) => [
      // many register blocks, ragged in rows (50) and in vec4 columns (66); below the texture path
      T.matmul(u([50, 12], 47), u([12, 264], 48)),
      T.matmul(u([7, 13], 33), u([13, 5], 34)),
      T.matmul(u([9, 16], 35), u([16, 12], 36)),
      T.matmul(u([2, 3, 10, 8], 37), u([3, 8, 4], 38)),
      T.matmul(T.transpose(u([8, 6], 39), 0, 1), T.transpose(u([12, 8], 40), 0, 1)),
      T.matmul(u([5], 41), u([5, 4], 42)),
      T.matmul(u([130, 64], 43), u([64, 96], 44)),
    ],
  },
  {
    // float32 products of at least 2^18 multiply-adds: operands packed into textures
    name: 'matmul through packed textures: ragged tiles, batches, views, folded tall operands',
    ops: ['matmul'],
    tol: 1e-4,
    run: ({ u }) => [
      // ragged in rows (250), vec4 columns (258) and tiles of 4 (1032 = 64.5 x 16)
      T.matmul(u([250, 12], 201), u([12, 1032], 202)),
      // K and N not multiples of 4; broadcast batch; a transposed view of B
      T.matmul(u([2, 3, 40, 33], 203), T.transpose(u([3, 36, 33], 204), -1, -2)),
      // A taller than the largest texture: rows folded into column blocks
      T.matmul(u([20000, 5], 205), u([5, 7], 206)),
      // B's stacked matrices taller than the largest texture
      T.matmul(u([10, 8, 2000], 207), u([10, 2000, 8], 208)),
      // a strided (sliced) view of A
      T.matmul(
        T.slice(u([70, 80], 209), [
          [0, 70, 2],
          [3, 80],
        ]),
        u([77, 130], 210),
      ),
      // operands already in texture layout (rows of whole texels, 256-byte multiples): plain copies,
      // also batched and at an offset
      T.matmul(u([64, 128], 213), u([128, 64], 214)),
      T.matmul(u([3, 64, 128], 215), u([3, 128, 64], 216)),
      T.matmul(T.slice(u([80, 128], 217), [[4, 68]]), u([128, 64], 218)),
      // views whose neighbouring elements are not finite: the zero padding must not read them
      T.matmul(
        T.slice(T.concat([u([300, 5], 211), T.full([300, 3], Number.POSITIVE_INFINITY)], 1), [null, [0, 5]]),
        T.slice(T.concat([u([5, 200], 212), T.full([3, 200], Number.NaN)], 0), [[0, 5]]),
      ),
    ],
  },
  {
    name: 'matmul int32',
    ops: ['matmul'],
    run: ({ ints }) => T.matmul(ints([3, 5], 45, -4, 4), ints([5, 2], 46, -4, 4)),
  },
  // ---- convolution -------------------------------------------------------------------------
  {
    name: 'conv1d/2d/3d forward with stride, padding, dilation, groups, bias',
    ops: ['conv'],
    tol: 1e-4,
    run: ({ u }) => [
      T.conv1d(u([2, 3, 11], 47), u([4, 3, 3], 48), u([4], 49), { stride: 2, padding: 1 }),
      T.conv2d(u([2, 4, 9, 11], 50), u([6, 2, 3, 2], 51), u([6], 52), {
        stride: [2, 1],
        padding: [1, 0],
        dilation: [1, 2],
        groups: 2,
      }),
      T.conv3d(u([1, 2, 5, 6, 4], 53), u([3, 2, 2, 3, 2], 54), { padding: 1 }),
      T.conv2d(u([1, 3, 7, 7], 55), u([5, 3, 3, 3], 56), { padding: 'same' }),
    ],
  },
  {
    // products of at least 2^18 multiply-adds: the unfolded input is written straight into a
    // texture (taps spaced to whole texels), the weights packed with the same spacing
    name: 'conv through textures: forward and weight gradient, 1-D/2-D/3-D, groups, tall operands',
    ops: ['conv', 'convBackwardWeight'],
    tol: 1e-4,
    run: ({ u }) => {
      const o2 = { stride: [2, 1], padding: [1, 0], dilation: [1, 2], groups: 2 };
      const x2 = u([4, 8, 40, 42], 220);
      const w2 = u([16, 4, 3, 2], 221);
      const o3 = { padding: 1 };
      const x3 = u([2, 4, 8, 10, 9], 222);
      const w3 = u([6, 4, 2, 3, 2], 223);
      const o1 = { stride: 2, padding: 2 };
      const x1 = u([8, 6, 300], 224);
      const w1 = u([10, 6, 5], 225);
      // 20 x 32 x 32 = 20,480 output positions: more rows than the largest texture holds
      const xt = u([20, 3, 32, 32], 226);
      const wt = u([8, 3, 3, 3], 227);
      return [
        T.conv2d(x2, w2, u([16], 228), o2),
        T.convBackwardWeight(x2, u([4, 16, 20, 40], 229), w2.shape, o2),
        T.conv3d(x3, w3, o3),
        T.convBackwardWeight(x3, u([2, 6, 9, 10, 10], 230), w3.shape, o3),
        T.conv1d(x1, w1, u([10], 231), o1),
        T.convBackwardWeight(x1, u([8, 10, 150], 232), w1.shape, o1),
        T.conv2d(xt, wt, { padding: 1 }),
        T.convBackwardWeight(xt, u([20, 8, 32, 32], 233), wt.shape, { padding: 1 }),
      ];
    },
  },
  {
    name: 'conv backward input and weight',
    ops: ['convBackwardInput', 'convBackwardWeight'],
    tol: 1e-4,
    run: ({ u }) => {
      const o = { stride: 2, padding: 1, groups: 2 };
      const x = u([2, 4, 9, 8], 57);
      const w = u([6, 2, 3, 3], 58);
      const dy = u([2, 6, 5, 4], 59);
      const o3 = { stride: [1, 2, 1], padding: 1, dilation: [2, 1, 1] };
      const x3 = u([2, 2, 6, 5, 4], 60);
      const w3 = u([3, 2, 2, 3, 2], 61);
      const dy3 = u([2, 3, 6, 3, 5], 62);
      return [
        T.convBackwardInput(dy, w, x.shape, o),
        T.convBackwardWeight(x, dy, w.shape, o),
        T.convBackwardInput(dy3, w3, x3.shape, o3),
        T.convBackwardWeight(x3, dy3, w3.shape, o3),
        T.convBackwardWeight(u([16, 1, 28, 28], 63), u([16, 6, 24, 24], 64), [6, 1, 5, 5]),
      ];
    },
  },
  // ---- shape ops ----------------------------------------------------------------------------
  {
    name: 'concat, stack, split, repeat, tile',
    ops: ['concat', 'contiguous'],
    run: ({ u }) => [
      T.concat([u([2, 3], 65), u([2, 5], 66), T.transpose(u([4, 2], 67), 0, 1)], 1),
      T.stack([u([3], 68), u([3], 69)], 1),
      ...T.split(u([7, 2], 70), 3),
      T.repeat(u([2, 3], 71), [2, 1, 2]),
      T.tile(u([3], 72), [2, 2]),
    ],
  },
  {
    name: 'pad in every mode',
    ops: ['pad'],
    run: ({ u, ints }) => [
      T.pad(u([2, 4, 5], 73), [1, 2, 3, 0]),
      T.pad(u([2, 4, 5], 73), [1, 2, 3, 1], { mode: 'reflect' }),
      T.pad(u([2, 4, 5], 73), [2, 2, 0, 3], { mode: 'replicate' }),
      T.pad(ints([3, 3], 74, 0, 9), [1, 1], { value: -7 }),
    ],
  },
  {
    name: 'padBackward and sliceBackward',
    ops: ['padBackward', 'sliceBackward'],
    run: ({ u }) => [
      T.padBackward(u([2, 7, 10], 75), [2, 4, 5], [0, 2, 1], [0, 1, 4], 'reflect'),
      T.padBackward(u([2, 9, 10], 76), [2, 4, 5], [0, 2, 3], [0, 3, 2], 'replicate'),
      T.padBackward(u([2, 9, 10], 76), [2, 4, 5], [0, 2, 3], [0, 3, 2], 'constant'),
      T.sliceBackward(u([3, 2], 77), [7, 5], [1, 2], [2, 2]),
    ],
  },
  {
    name: 'gather, indexSelect, oneHot',
    ops: ['gather', 'indexSelect', 'oneHot'],
    run: ({ u, ints }) => [
      T.gather(u([4, 6], 78), 1, ints([4, 3], 79, -6, 6)),
      T.indexSelect(u([4, 6, 2], 80), 1, ints([5], 81, 0, 6)),
      T.oneHot(ints([7], 82, 0, 4), 4),
      T.gather(T.transpose(u([6, 4], 83), 0, 1), 0, ints([2, 6], 84, 0, 4)),
    ],
  },
  {
    name: 'scatterAdd and indexAdd (repeated indices)',
    ops: ['scatterAdd', 'indexAdd'],
    run: ({ u, ints }) => [
      T.scatterAdd(u([4, 5], 85), 1, ints([3, 4], 86, 0, 5), u([3, 6], 87)),
      T.indexAdd(u([5, 3], 88), 0, T.tensor([0, 2, 0, 4], { dtype: 'int32' }), u([4, 3], 89)),
      T.scatterAdd(u([3, 4], 90), 0, ints([5, 4], 91, 0, 3), u([5, 4], 92)),
    ],
  },
  // ---- random -------------------------------------------------------------------------------
  {
    name: 'rand, randint, bernoulli match the CPU bit for bit; randn to float32 rounding',
    ops: ['rand', 'randn', 'randint', 'bernoulli'],
    run: ({ u }) => {
      T.manualSeed(2024);
      return [
        T.rand([1000]),
        T.randn([999]),
        T.randint(-5, 17, [300]),
        T.bernoulli(0.3, { shape: [200] }),
        T.bernoulli(u([50], 93, 0, 1)),
      ];
    },
  },
];
