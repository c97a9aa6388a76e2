import { describe, expect, it } from 'vitest';
import * as sp from '../src/index.js';
import {
  conv1d,
  conv2d,
  conv3d,
  convBackwardInput,
  convBackwardWeight,
  ShapeError,
  tensor,
} from '../src/index.js';
import {
  expectClose,
  expectConvMatchesFloat64,
  randomTensor,
  ravel,
  sizeOf,
  unravel,
  values,
} from './helpers.js';

interface Geo {
  stride: number[];
  pad: number[];
  dil: number[];
  groups: number;
}

/** Direct convolution over plain arrays (any spatial rank): the textbook sum. */
function refConv(
  x: sp.Tensor,
  w: sp.Tensor,
  bias: number[] | undefined,
  g: Geo,
): { shape: number[]; out: number[] } {
  const [N, C] = x.shape;
  const [O, Cg] = w.shape;
  const sp_ = x.shape.slice(2);
  const ks = w.shape.slice(2);
  const outSp = sp_.map(
    (l, i) => Math.floor((l + 2 * g.pad[i] - g.dil[i] * (ks[i] - 1) - 1) / g.stride[i]) + 1,
  );
  const xv = values(x);
  const wv = values(w);
  const Og = O / g.groups;
  const out: number[] = [];
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let p = 0; p < sizeOf(outSp); p++) {
        const op = unravel(p, outSp);
        let s = bias ? bias[o] : 0;
        const grp = Math.floor(o / Og);
        for (let c = 0; c < Cg; c++)
          for (let k = 0; k < sizeOf(ks); k++) {
            const kp = unravel(k, ks);
            const ip = op.map((v, i) => v * g.stride[i] - g.pad[i] + kp[i] * g.dil[i]);
            if (ip.some((v, i) => v < 0 || v >= sp_[i])) continue;
            s += xv[ravel([n, grp * Cg + c, ...ip], x.shape)] * wv[ravel([o, c, ...kp], w.shape)];
          }
        out.push(s);
      }
  void C;
  return { shape: [N, O, ...outSp], out };
}

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

describe('conv1d/2d/3d forward', () => {
  const cases: { fn: typeof conv2d; x: number[]; w: number[]; g: Geo }[] = [
    { fn: conv1d, x: [2, 3, 11], w: [4, 3, 3], g: { stride: [1], pad: [1], dil: [1], groups: 1 } },
    { fn: conv1d, x: [1, 4, 10], w: [6, 2, 2], g: { stride: [3], pad: [0], dil: [2], groups: 2 } },
    {
      fn: conv2d,
      x: [2, 3, 7, 8],
      w: [5, 3, 3, 3],
      g: { stride: [1, 1], pad: [1, 1], dil: [1, 1], groups: 1 },
    },
    {
      fn: conv2d,
      x: [1, 4, 9, 7],
      w: [4, 1, 3, 2],
      g: { stride: [2, 1], pad: [1, 0], dil: [1, 2], groups: 4 },
    },
    {
      fn: conv2d,
      x: [3, 2, 5, 5],
      w: [3, 2, 5, 5],
      g: { stride: [1, 1], pad: [2, 2], dil: [1, 1], groups: 1 },
    },
    {
      fn: conv3d,
      x: [2, 2, 5, 6, 4],
      w: [3, 2, 2, 3, 2],
      g: { stride: [1, 2, 1], pad: [1, 1, 0], dil: [2, 1, 1], groups: 1 },
    },
  ];
  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: strides, padding, dilation, groups and bias match direct convolution`, () => {
      cases.forEach(({ fn, x: xs, w: ws, g }, i) => {
        const x = randomTensor(xs, dtype, 10 + i);
        const w = randomTensor(ws, dtype, 20 + i);
        const b = randomTensor([ws[0]], dtype, 30 + i);
        const ref = refConv(x, w, values(b), g);
        const out = fn(x, w, b, { stride: g.stride, padding: g.pad, dilation: g.dil, groups: g.groups });
        expect(out.shape).toEqual(ref.shape);
        expectClose(values(out), ref.out, dtype === 'float32' ? { atol: 1e-4, rtol: 1e-4 } : { atol: 1e-10 });
      });
    });
  }

  it('accepts unbatched input, non-contiguous input, options without bias, and padding "same"', () => {
    const x = randomTensor([3, 6, 6], 'float64', 1);
    const w = randomTensor([2, 3, 3, 3], 'float64', 2);
    const batched = conv2d(sp.unsqueeze(x, 0), w, { padding: 1 });
    const un = conv2d(x, w, { padding: 1 });
    expect(un.shape).toEqual([2, 6, 6]);
    expectClose(values(un), values(batched), { atol: 1e-12 });
    const same = conv2d(x, w, null, { padding: 'same' });
    expectClose(values(same), values(un), { atol: 1e-12 });
    const xt = randomTensor([1, 6, 6, 3], 'float64', 3).permute([0, 3, 1, 2]);
    expectClose(values(conv2d(xt, w)), values(conv2d(xt.contiguous(), w)), { atol: 1e-12 });
    // Even kernels with 'same': the extra zero goes after, as in PyTorch.
    const w2 = randomTensor([1, 3, 2, 2], 'float64', 4);
    expect(conv2d(x, w2, { padding: 'same' }).shape).toEqual([1, 6, 6]);
  });

  it('errors name the op, the argument and the sizes', () => {
    const x = sp.zeros([1, 3, 4, 4]);
    expect(() => conv2d(x, sp.zeros([2, 3, 5, 5]))).toThrow(
      'conv2d: kernel size 5 (dilated span 5) exceeds padded input size 4 in spatial dim 0 of [1,3,4,4]',
    );
    expect(() => conv2d(x, sp.zeros([2, 2, 3, 3]))).toThrow(
      'conv2d: weight [2,2,3,3] expects 2 input channels, input [1,3,4,4] has 3',
    );
    expect(() => conv2d(x, sp.zeros([2, 3, 3]))).toThrow(ShapeError);
    expect(() => conv2d(sp.zeros([3, 4]), sp.zeros([2, 3, 3, 3]))).toThrow(/input must be 4-D/);
    expect(() => conv2d(x, sp.zeros([2, 3, 3, 3]), { stride: 0 })).toThrow(
      'conv2d: stride must be an integer >= 1, got 0',
    );
    expect(() => conv2d(x, sp.zeros([2, 3, 3, 3]), { padding: 'same', stride: 2 })).toThrow(
      /padding 'same' needs stride 1/,
    );
    expect(() => conv2d(x, sp.zeros([2, 3, 3, 3]), sp.zeros([3]))).toThrow(
      'conv2d: bias must be [2], got [3]',
    );
    expect(() => conv2d(x, sp.zeros([2, 3, 3, 3], { dtype: 'float64' }))).toThrow(/one dtype/);
    expect(() => conv2d(x, sp.zeros([4, 1, 3, 3]), { groups: 2 })).toThrow(
      'conv2d: in channels 3 and out channels 4 must be divisible by groups 2',
    );
  });

  it('the backward ops check gradOutput against the forward shapes', () => {
    // A wrong gradOutput must not reach the kernels, which would read past it.
    const x = sp.zeros([2, 6, 8, 8]);
    const w = sp.zeros([6, 1, 3, 3]);
    const opts = { padding: 1, stride: 2, groups: 6 };
    expect(() => convBackwardInput(sp.zeros([2, 6, 3, 8]), w, [2, 6, 8, 8], opts)).toThrow(
      'convBackwardInput: gradOutput must be [2,6,4,4] for input [2,6,8,8] and weight [6,1,3,3], got [2,6,3,8]',
    );
    expect(() => convBackwardWeight(x, sp.zeros([2, 6, 4, 5]), [6, 1, 3, 3], opts)).toThrow(
      'convBackwardWeight: gradOutput must be [2,6,4,4] for input [2,6,8,8] and weight [6,1,3,3], got [2,6,4,5]',
    );
    expect(() => convBackwardWeight(x, sp.zeros([2, 6, 4, 4]), [6, 2, 3, 3], opts)).toThrow(
      'convBackwardWeight: weight [6,2,3,3] expects 12 input channels, input [2,6,8,8] has 6',
    );
    expect(() =>
      convBackwardWeight(x, sp.zeros([2, 6, 4, 4], { dtype: 'float64' }), [6, 1, 3, 3], opts),
    ).toThrow(
      'convBackwardWeight: gradOutput and input need one float dtype (float32 or float64), got float64 and float32',
    );
    expect(() => convBackwardInput(sp.zeros([2, 6, 1, 1]), w, [2, 6, 1, 1], { groups: 6 })).toThrow(
      'convBackwardInput: kernel size 3 (dilated span 3) exceeds padded input size 1 in spatial dim 0 of [2,6,1,1]',
    );
    // Shapes that fit go through (zeros in, zeros out).
    expect(convBackwardWeight(x, sp.zeros([2, 6, 4, 4]), [6, 1, 3, 3], opts).shape).toEqual([6, 1, 3, 3]);
  });
});

describe('float32 im2col packing (wasm/gemm.wat im2col)', () => {
  // More than 32 output channels or 3-D: these take the im2col path, not the direct kernels. The
  // shapes exercise the packing shortcuts and their fallbacks: panels of 8 positions inside one
  // output row (and panels straddling two rows: widths 13 and 10), tap rows above or below the
  // input (zeros) and across its left or right edge; in the weight gradient's convolution over
  // the batch, groups of 4 taps along a kernel row, split by the row's end and the input's edges.
  const cases: { x: number[]; w: number[]; opts: sp.ConvOptions }[] = [
    { x: [2, 3, 9, 13], w: [40, 3, 3, 3], opts: { padding: 1 } },
    { x: [2, 3, 8, 12], w: [36, 3, 3, 3], opts: { padding: [1, 2], dilation: [1, 2] } },
    { x: [2, 4, 12, 16], w: [34, 4, 3, 3], opts: { padding: [0, 2] } },
    { x: [1, 2, 4, 5, 10], w: [36, 2, 3, 3, 3], opts: { padding: 1 } },
    { x: [3, 2, 6, 20], w: [33, 2, 1, 5], opts: { stride: [1, 2], padding: [0, 2] } },
  ];
  it('forward, input and weight gradients match the float64 path', () =>
    expectConvMatchesFloat64(cases, 110));
});

describe('conv backward primitives', () => {
  // The input gradient is the adjoint of conv in x, the weight gradient its adjoint in w:
  // <conv(x, w), g> = <x, convBackwardInput(g, w)> = <w, convBackwardWeight(x, g)>.
  const cases: { x: number[]; w: number[]; opts: sp.ConvOptions }[] = [
    { x: [2, 3, 9], w: [4, 3, 3], opts: { stride: 2, padding: 1 } },
    {
      x: [2, 4, 7, 6],
      w: [6, 2, 3, 2],
      opts: { stride: [2, 1], padding: [1, 1], dilation: [1, 2], groups: 2 },
    },
    { x: [1, 2, 4, 5, 5], w: [2, 2, 2, 3, 3], opts: { padding: [0, 1, 1], stride: [1, 2, 2] } },
    { x: [2, 3, 8, 8], w: [5, 3, 3, 3], opts: { padding: 1 } },
  ];
  for (const dtype of ['float64', 'float32'] as const) {
    it(`${dtype}: gradients are the adjoints of the forward (and match direct sums)`, () => {
      cases.forEach(({ x: xs, w: ws, opts }, i) => {
        const x = randomTensor(xs, dtype, 40 + i);
        const w = randomTensor(ws, dtype, 50 + i);
        const fwd = [conv1d, conv2d, conv3d][xs.length - 3];
        const y = fwd(x, w, opts);
        const g = randomTensor([...y.shape], dtype, 60 + i);
        const lhs = dot(values(y), values(g));
        const dx = convBackwardInput(g, w, xs, opts);
        const dw = convBackwardWeight(x, g, ws, opts);
        expect(dx.shape).toEqual(xs);
        expect(dw.shape).toEqual(ws);
        const tol = dtype === 'float64' ? 1e-9 : 1e-3;
        expect(Math.abs(dot(values(x), values(dx)) - lhs)).toBeLessThan(tol * (1 + Math.abs(lhs)));
        expect(Math.abs(dot(values(w), values(dw)) - lhs)).toBeLessThan(tol * (1 + Math.abs(lhs)));
      });
    });
  }

  it('input gradient of a 1x1 conv is a channel matmul', () => {
    const w = tensor([[[[2]], [[3]]]]); // [1,2,1,1]
    const g = tensor([[[[1, 2]]]]); // [1,1,1,2]
    expect(values(convBackwardInput(g, w, [1, 2, 1, 2]))).toEqual([2, 4, 3, 6]);
    const x = tensor([[[[1, 2]], [[3, 4]]]]);
    expect(values(convBackwardWeight(x, g, [1, 2, 1, 1]))).toEqual([5, 11]);
  });
});
