// The direct float32 convolution kernels (src/cpu/conv-direct.ts) against the float64 path (the
// im2col convolution, checked against textbook sums in conv.test.ts), on the edges the kernels
// handle: output rows that are not whole vectors of 4, channel counts that are not whole blocks
// of 8, padding on one side only or wider than the kernel, 1x1 and whole-input kernels, 1-D.
import { describe, expect, it } from 'vitest';
import { useDirect, useDirectWeightGrad } from '../src/cpu/conv-direct.js';
import { type ConvOptions, conv2d, convBackwardWeight, type Tensor, tensor } from '../src/index.js';
import type { ConvAttrs } from '../src/ops/conv.js';
import { expectConvMatchesFloat64, randomTensor, values } from './helpers.js';

const cases: { x: number[]; w: number[]; opts: ConvOptions }[] = [
  { x: [2, 3, 13], w: [5, 3, 4], opts: { padding: 3 } },
  { x: [3, 5, 9, 7], w: [11, 5, 3, 2], opts: { padding: [1, 0] } },
  { x: [2, 2, 5, 6], w: [3, 2, 3, 3], opts: { padding: 2 } },
  { x: [1, 1, 6, 9], w: [1, 1, 2, 2], opts: { padding: 'same' } },
  { x: [4, 6, 14, 14], w: [16, 6, 5, 5], opts: {} },
  { x: [2, 3, 8, 11], w: [9, 3, 1, 1], opts: {} },
  { x: [2, 4, 5, 5], w: [8, 4, 5, 5], opts: {} },
  { x: [5, 1, 28, 28], w: [6, 1, 5, 5], opts: { padding: 2 } },
  // Column padding wider than the kernel: groups of outputs whose taps all fall in it (bias only).
  { x: [2, 3, 4, 5], w: [4, 3, 3, 3], opts: { padding: [1, 8] } },
];

/** Attributes as the kernels see them (symmetric padding is enough for the eligibility test). */
function attrs(rank: number): ConvAttrs {
  const ones = new Array<number>(rank).fill(1);
  return { stride: ones, dilation: ones, padBefore: ones, padAfter: ones, groups: 1 };
}

describe('direct convolution (float32, stride 1, few channels)', () => {
  it('takes these shapes, and not strided, dilated, grouped, 3-D or wide ones', () => {
    for (const c of cases) expect(useDirect(c.x, c.w, attrs(c.x.length - 2))).toBe(true);
    expect(useDirect([1, 2, 8, 8], [33, 2, 3, 3], attrs(2))).toBe(false);
    // Many output channels: only kernels of 25+ taps.
    expect(useDirect([1, 2, 8, 8], [33, 2, 5, 5], attrs(2))).toBe(true);
    expect(useDirect([1, 2, 40], [33, 2, 25], attrs(1))).toBe(true);
    expect(useDirect([1, 2, 40], [33, 2, 24], attrs(1))).toBe(false);
    expect(useDirect([1, 2, 8, 8], [4, 2, 3, 3], { ...attrs(2), stride: [2, 1] })).toBe(false);
    expect(useDirect([1, 2, 8, 8], [4, 2, 3, 3], { ...attrs(2), dilation: [1, 2] })).toBe(false);
    expect(useDirect([1, 2, 8, 8], [4, 1, 3, 3], { ...attrs(2), groups: 2 })).toBe(false);
    expect(useDirect([1, 2, 4, 4, 4], [4, 2, 3, 3, 3], attrs(3))).toBe(false);
    // The weight gradient takes the direct kernel for any channel counts.
    expect(useDirectWeightGrad([1, 40, 8, 8], attrs(2))).toBe(true);
    expect(useDirectWeightGrad([1, 2, 8, 8], { ...attrs(2), stride: [2, 1] })).toBe(false);
    expect(useDirectWeightGrad([1, 2, 4, 4, 4], attrs(3))).toBe(false);
  });

  it('forward, input and weight gradients match the float64 path', () => expectConvMatchesFloat64(cases, 70));

  it('many output channels match the float64 path', () =>
    // Weight gradients: rows of (input channel, tap) fill groups of four across channels; several
    // blocks of 8 output channels, one of them partial; 3x3 with 32 input channels (below
    // Winograd's 64). 5x5 and 1-D 25-tap kernels take the direct forward too.
    expectConvMatchesFloat64(
      [
        { x: [2, 33, 6, 9], w: [41, 33, 3, 3], opts: { padding: 1 } },
        { x: [3, 7, 5, 11], w: [36, 7, 5, 5], opts: { padding: [2, 1] } },
        { x: [2, 6, 17], w: [35, 6, 3], opts: {} },
        { x: [2, 13, 4, 4], w: [33, 13, 1, 1], opts: {} },
        { x: [2, 3, 40], w: [34, 3, 25], opts: { padding: 12 } },
      ],
      90,
    ));

  it('a non-finite input reaches only the outputs whose windows hold it', () => {
    // The last column of a row: the vector lanes past the output row must not spread it.
    const xs = [1, 2, 5, 7];
    const v = values(randomTensor(xs, 'float64', 5));
    v[6] = Number.POSITIVE_INFINITY;
    v[35 + 13] = Number.NaN;
    const ws = [3, 2, 3, 3];
    const w = randomTensor(ws, 'float32', 6);
    const check = (a: Tensor, b: Tensor) => {
      const got = values(a);
      const want = values(b);
      want.forEach((e, k) => {
        if (Number.isFinite(e)) expect(got[k]).toBeCloseTo(e, 3);
        else expect(got[k]).toBe(e);
      });
    };
    const x = tensor(v, { shape: xs, dtype: 'float32' });
    const y = conv2d(x, w, { padding: 1 });
    check(y, conv2d(x.cast('float64'), w.cast('float64'), { padding: 1 }));
    const dy = randomTensor([...y.shape], 'float32', 7);
    check(
      convBackwardWeight(x, dy, ws, { padding: 1 }),
      convBackwardWeight(x.cast('float64'), dy.cast('float64'), ws, { padding: 1 }),
    );
  });
});
