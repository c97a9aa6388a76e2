// A float64 finite-difference gradient check for every differentiable core op, on random shapes,
// with broadcasting and non-contiguous inputs. A coverage test makes sure no registered rule is
// left without a check.
import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import { gradcheck, listGradients } from '../src/index.js';
import { leaf } from './helpers.js';

type Case = [
  name: string,
  fn: (...xs: sp.Tensor[]) => sp.Tensor,
  inputs: () => sp.Tensor[],
  options?: { eps?: number },
];
const pos = (shape: number[], seed: number) => leaf(shape, seed, { lo: 0.5, hi: 2 });
const idx = (v: number[] | number[][]) => sp.tensor(v, { dtype: 'int32' });

const cases: Case[] = [
  // elementwise unary
  ['neg', sp.neg, () => [leaf([3, 4], 1)]],
  ['abs', sp.abs, () => [leaf([5], 2)]],
  ['exp', sp.exp, () => [leaf([2, 3], 3)]],
  ['log', sp.log, () => [pos([4], 4)]],
  ['log1p', sp.log1p, () => [pos([4], 5)]],
  ['expm1', sp.expm1, () => [leaf([4], 6)]],
  ['sqrt', sp.sqrt, () => [pos([4], 7)]],
  ['rsqrt', sp.rsqrt, () => [pos([4], 8)]],
  ['sin', sp.sin, () => [leaf([4], 9)]],
  ['cos', sp.cos, () => [leaf([4], 10)]],
  ['tanh', sp.tanh, () => [leaf([2, 2], 11)]],
  ['sigmoid', sp.sigmoid, () => [leaf([5], 12)]],
  ['erf', sp.erf, () => [leaf([5], 13)]],
  ['reciprocal', sp.reciprocal, () => [pos([4], 14)]],
  ['square', sp.square, () => [leaf([4], 15)]],
  ['relu', sp.relu, () => [leaf([6], 16)]],
  ['reluBackward', (g, x) => sp.reluBackward(g, x), () => [leaf([6], 46), leaf([6], 47)]],
  ['leakyRelu', (x) => sp.leakyRelu(x, { negativeSlope: 0.1 }), () => [leaf([6], 17)]],
  ['gelu', (x) => sp.gelu(x), () => [leaf([6], 18)]],
  ['gelu tanh', (x) => sp.gelu(x, { approximate: 'tanh' }), () => [leaf([6], 19)]],
  ['sign', sp.sign, () => [leaf([3], 20)]],
  ['floor', sp.floor, () => [leaf([3], 21, { lo: 0.1, hi: 0.9 })]],
  ['ceil', sp.ceil, () => [leaf([3], 22, { lo: 0.1, hi: 0.9 })]],
  ['round', sp.round, () => [leaf([3], 23, { lo: 0.1, hi: 0.4 })]],
  ['clamp', (x) => sp.clamp(x, -0.5, 0.7), () => [leaf([8], 24)]],
  // float32 rounding makes tiny steps noisy: a coarser step for the round trip.
  [
    'cast',
    (x) => sp.cast(sp.cast(x, 'float32'), 'float64'),
    () => [leaf([3], 25, { lo: 0, hi: 1 })],
    { eps: 1e-2 },
  ],
  // binary with broadcasting
  ['add', sp.add, () => [leaf([3, 4], 30), leaf([4], 31)]],
  ['sub', sp.sub, () => [leaf([3, 1], 32), leaf([1, 4], 33)]],
  ['mul', sp.mul, () => [leaf([2, 3, 4], 34), leaf([3, 1], 35)]],
  ['div', sp.div, () => [leaf([3, 4], 36), pos([4], 37)]],
  ['pow', sp.pow, () => [pos([3, 2], 38), leaf([2], 39)]],
  ['maximum', sp.maximum, () => [leaf([3, 4], 40), leaf([4], 41)]],
  ['minimum', sp.minimum, () => [leaf([3, 4], 42), leaf([3, 1], 43)]],
  ['where', (a, b) => sp.where(sp.gt(a, 0), a, b), () => [leaf([3, 4], 44), leaf([4], 45)]],
  // reductions
  ['sum', (x) => sp.sum(x, [0, 2]), () => [leaf([2, 3, 4], 50)]],
  ['sum keepDim', (x) => sp.sum(x, 1, { keepDim: true }), () => [leaf([2, 3], 51)]],
  ['prod', (x) => sp.prod(x, 1), () => [leaf([3, 4], 52)]],
  [
    'prod with zeros',
    (x) =>
      sp.prod(
        sp.mul(
          x,
          sp.tensor(
            [
              [0, 1, 1],
              [0, 0, 1],
              [1, 1, 1],
            ],
            { dtype: 'float64' },
          ),
        ),
        1,
      ),
    () => [leaf([3, 3], 53)],
  ],
  ['max', (x) => sp.max(x, 1), () => [leaf([3, 5], 54)]],
  ['min', (x) => sp.min(x, [0, 1]), () => [leaf([3, 5], 55)]],
  ['mean', (x) => sp.mean(x, 0), () => [leaf([4, 3], 56)]],
  ['var', (x) => sp.variance(x, 1), () => [leaf([3, 5], 57)]],
  ['std', (x) => sp.std(x), () => [leaf([6], 58)]],
  ['logSumExp', (x) => sp.logSumExp(x, [0, 2]), () => [leaf([2, 3, 4], 59)]],
  ['softmax', (x) => sp.softmax(x, 1), () => [leaf([3, 4], 60)]],
  ['logSoftmax', (x) => sp.logSoftmax(x, 0), () => [leaf([3, 4], 61)]],
  // views and shape ops
  [
    'reshape',
    (x) => sp.mul(sp.reshape(x, [6, 2]), sp.tensor([1, 2], { dtype: 'float64' })),
    () => [leaf([3, 4], 70)],
  ],
  [
    'permute',
    (x) => sp.mul(x.permute([2, 0, 1]), leaf([4, 2, 3], 71, { requiresGrad: false })),
    () => [leaf([2, 3, 4], 72)],
  ],
  [
    'expand',
    (x) => sp.mul(sp.expand(x, [3, 4]), leaf([3, 4], 73, { requiresGrad: false })),
    () => [leaf([3, 1], 74)],
  ],
  [
    'slice',
    (x) =>
      sp.slice(x, [
        [1, 4, 2],
        [0, 5, 3],
      ]),
    () => [leaf([5, 5], 75)],
  ],
  ['contiguous', (x) => sp.contiguous(x.T), () => [leaf([3, 4], 76)]],
  ['concat', (a, b) => sp.concat([a, b, a], 1), () => [leaf([2, 3], 77), leaf([2, 1], 78)]],
  ['pad constant', (x) => sp.pad(x, [1, 2, 0, 1], { value: 3 }), () => [leaf([2, 3], 79)]],
  ['pad reflect', (x) => sp.pad(x, [2, 1, 1, 1], { mode: 'reflect' }), () => [leaf([3, 4], 80)]],
  ['pad replicate', (x) => sp.pad(x, [2, 0], { mode: 'replicate' }), () => [leaf([2, 3], 81)]],
  [
    'gather',
    (x) =>
      sp.gather(
        x,
        1,
        idx([
          [0, 2, 2],
          [1, 1, 0],
        ]),
      ),
    () => [leaf([2, 3], 82)],
  ],
  ['indexSelect', (x) => sp.indexSelect(x, 0, idx([2, 0, 2])), () => [leaf([3, 2], 83)]],
  [
    'scatterAdd',
    (b, s) =>
      sp.scatterAdd(
        b,
        1,
        idx([
          [0, 0],
          [2, 1],
        ]),
        s,
      ),
    () => [leaf([2, 3], 84), leaf([2, 2], 85)],
  ],
  ['indexAdd', (b, s) => sp.indexAdd(b, 0, idx([1, 1]), s), () => [leaf([3, 2], 86), leaf([2, 2], 87)]],
  ['sliceBackward', (g) => sp.sliceBackward(g, [5, 4], [1, 0], [2, 3]), () => [leaf([2, 2], 88)]],
  ['padBackward', (g) => sp.padBackward(g, [3, 3], [1, 2], [2, 1], 'reflect'), () => [leaf([6, 6], 89)]],
  ['to', (x) => x.to('cpu2').to('cpu').mul(2), () => [leaf([3], 90)]],
  // linear algebra and convolution
  ['matmul', sp.matmul, () => [leaf([3, 4], 100), leaf([4, 2], 101)]],
  ['matmul batched broadcast', sp.matmul, () => [leaf([2, 1, 3, 4], 102), leaf([3, 4, 2], 103)]],
  ['matmul vector', sp.matmul, () => [leaf([4], 104), leaf([4, 3], 105)]],
  ['matmul transposed', (a, b) => sp.matmul(a.T, b), () => [leaf([4, 3], 106), leaf([4, 2], 107)]],
  ['matmul x W^T (Linear)', (x, w) => sp.matmul(x, w.T), () => [leaf([3, 4], 108), leaf([2, 4], 109)]],
  [
    'conv1d',
    (x, w, b) => sp.conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2 }),
    () => [leaf([2, 2, 9], 110), leaf([3, 2, 3], 111), leaf([3], 112)],
  ],
  [
    'conv2d',
    (x, w, b) => sp.conv2d(x, w, b, { stride: [2, 1], padding: 1 }),
    () => [leaf([2, 2, 5, 4], 113), leaf([3, 2, 3, 2], 114), leaf([3], 115)],
  ],
  [
    'conv2d groups',
    (x, w) => sp.conv2d(x, w, { groups: 2, padding: [0, 1] }),
    () => [leaf([1, 4, 4, 4], 116), leaf([2, 2, 2, 3], 117)],
  ],
  [
    'conv3d',
    (x, w) => sp.conv3d(x, w, { padding: [1, 0, 1] }),
    () => [leaf([1, 2, 3, 4, 3], 118), leaf([2, 2, 2, 2, 2], 119)],
  ],
  [
    'convBackwardInput',
    (g, w) => sp.convBackwardInput(g, w, [1, 2, 5, 5], { stride: 2, padding: 1 }),
    () => [leaf([1, 3, 3, 3], 120), leaf([3, 2, 3, 3], 121)],
  ],
  [
    'convBackwardWeight',
    (x, g) => sp.convBackwardWeight(x, g, [3, 2, 3, 3], { stride: 2, padding: 1 }),
    () => [leaf([1, 2, 5, 5], 122), leaf([1, 3, 3, 3], 123)],
  ],
];

/** Registered op names covered by the cases above (by the op their function dispatches). */
const coveredOps = new Set<string>();

describe('gradcheck of every differentiable core op (float64, central differences)', () => {
  // A second CPU-memory backend, enough to exercise transfers (only views and 'to' run on it).
  sp.registerBackend({ ...sp.cpu, name: 'cpu2' });

  for (const [name, fn, inputs, options] of cases) {
    it(name, () => {
      const seen: string[] = [];
      const off = sp.onDispatch((op) => seen.push(op));
      const xs = inputs();
      let result: ReturnType<typeof gradcheck>;
      try {
        result = gradcheck(fn, xs, options);
      } finally {
        off();
      }
      for (const op of seen) coveredOps.add(op);
      expect(result.ok).toBe(true);
    });
  }

  it('covers every registered gradient rule', () => {
    const missing = listGradients().filter((op) => !coveredOps.has(op) && !op.startsWith('fn:'));
    expect(missing).toEqual([]);
  });

  it('non-contiguous inputs give the same gradients as contiguous ones', () => {
    const fn = (a: sp.Tensor, b: sp.Tensor) => sp.mul(sp.exp(a), b);
    const a = leaf([4, 3], 130);
    const b = leaf([3, 4], 131);
    expect(gradcheck((x, y) => fn(x.T, y), [a, b]).ok).toBe(true);
    expect(gradcheck((x, y) => fn(x.slice([[0, 4, 2]]).T, y.slice([null, [0, 4, 2]])), [a, b]).ok).toBe(true);
  });

  it('fast mode (random projections) agrees on a larger case and catches a wrong gradient', () => {
    const x = leaf([20, 30], 140);
    expect(gradcheck((t) => sp.softmax(sp.tanh(t), 1), [x], { fast: true }).ok).toBe(true);
    const wrong = (t: sp.Tensor) => sp.add(sp.detach(sp.mul(t, t)), t); // true gradient 2t + 1, engine sees 1
    expect(gradcheck(wrong, [leaf([5], 141)], { raise: false }).ok).toBe(false);
    expect(gradcheck(wrong, [leaf([30, 30], 142)], { fast: true, raise: false }).ok).toBe(false);
    expect(() => gradcheck(wrong, [leaf([3], 143)])).toThrow(
      /gradcheck failed at input 0 element \d+, output element \d+: analytic/,
    );
    expect(() => gradcheck(sp.exp, [sp.ones([2]).requiresGrad_()])).toThrow(/must be float64/);
  });
});
