// The depthwise float32 convolution kernels (src/cpu/conv-depthwise.ts) against the float64 path
// (im2col per group, checked against textbook sums in conv.test.ts), on the edges they handle:
// output rows and columns that are not whole steps of 4, strides 1-3 (the strided loads and dY
// spread out for the input gradient), one-sided and wide padding, channel multipliers, 1-D, and
// planes split over work items; and non-finite inputs, which must reach only their windows.
import { describe, expect, it } from 'vitest';
import { useDepthwise } from '../src/cpu/conv-depthwise.js';
import {
  type ConvOptions,
  conv2d,
  convBackwardInput,
  convBackwardWeight,
  type Tensor,
  tensor,
} from '../src/index.js';
import type { ConvAttrs } from '../src/ops/conv.js';
import { expectConvMatchesFloat64, randomTensor, values } from './helpers.js';

const cases: { x: number[]; w: number[]; opts: ConvOptions }[] = [
  { x: [2, 5, 9, 7], w: [5, 1, 3, 3], opts: { padding: 1, groups: 5 } },
  { x: [3, 4, 11, 13], w: [4, 1, 3, 3], opts: { padding: 1, stride: 2, groups: 4 } },
  { x: [2, 3, 10, 9], w: [3, 1, 5, 5], opts: { padding: [2, 1], stride: [3, 2], groups: 3 } },
  { x: [1, 6, 6, 17], w: [6, 1, 3, 2], opts: { padding: [0, 3], groups: 6 } },
  // Channel multiplier 2: each input channel feeds two output channels.
  { x: [2, 3, 8, 8], w: [6, 1, 3, 3], opts: { padding: 1, groups: 3 } },
  { x: [2, 3, 7, 9], w: [9, 1, 3, 3], opts: { stride: 2, groups: 3 } },
  { x: [3, 4, 23], w: [4, 1, 5], opts: { padding: 2, groups: 4 } },
  { x: [2, 2, 19], w: [2, 1, 3], opts: { padding: 1, stride: 2, groups: 2 } },
  // Strides whose floor leaves input rows past the last window: zero gradient there, and the
  // spread dY keeps the rows the last window does reach.
  { x: [2, 2, 20], w: [2, 1, 3], opts: { padding: 1, stride: 2, groups: 2 } },
  { x: [2, 3, 11, 9], w: [3, 1, 5, 5], opts: { padding: [2, 1], stride: [3, 2], groups: 3 } },
  // Large enough to split over the threads, with tails in both directions.
  { x: [4, 24, 21, 30], w: [24, 1, 3, 3], opts: { padding: 1, groups: 24 } },
  { x: [4, 16, 22, 19], w: [16, 1, 3, 3], opts: { padding: 1, stride: 2, groups: 16 } },
];

function attrs(rank: number, extra: Partial<ConvAttrs>): ConvAttrs {
  const ones = new Array<number>(rank).fill(1);
  return { stride: ones, dilation: ones, padBefore: ones, padAfter: ones, groups: 1, ...extra };
}

describe('depthwise convolution (float32, one input channel per group)', () => {
  it('takes these shapes, and not dense, partly grouped, dilated or 3-D ones', () => {
    expect(useDepthwise([1, 4, 8, 8], [4, 1, 3, 3], attrs(2, { groups: 4 }))).toBe(true);
    expect(useDepthwise([1, 4, 8, 8], [8, 1, 3, 3], attrs(2, { groups: 4, stride: [2, 2] }))).toBe(true);
    expect(useDepthwise([1, 4, 8], [4, 1, 3], attrs(1, { groups: 4 }))).toBe(true);
    expect(useDepthwise([1, 4, 8, 8], [4, 4, 3, 3], attrs(2, { groups: 1 }))).toBe(false);
    expect(useDepthwise([1, 4, 8, 8], [4, 2, 3, 3], attrs(2, { groups: 2 }))).toBe(false);
    expect(useDepthwise([1, 1, 8, 8], [4, 1, 3, 3], attrs(2, { groups: 1 }))).toBe(false);
    expect(useDepthwise([1, 4, 8, 8], [4, 1, 3, 3], attrs(2, { groups: 4, dilation: [2, 1] }))).toBe(false);
    expect(useDepthwise([1, 4, 4, 4, 4], [4, 1, 3, 3, 3], attrs(3, { groups: 4 }))).toBe(false);
  });

  it('forward, input and weight gradients match the float64 path', () =>
    expectConvMatchesFloat64(cases, 110));

  it('a non-finite input reaches only the outputs whose windows hold it', () => {
    const xs = [1, 2, 6, 7];
    const v = values(randomTensor(xs, 'float64', 5));
    v[6] = Number.POSITIVE_INFINITY;
    v[42 + 15] = Number.NaN;
    const opts = { padding: 1, groups: 2 };
    const ws = [2, 1, 3, 3];
    const w = randomTensor(ws, 'float32', 6);
    const check = (a: Tensor, b: Tensor) => {
      const got = values(a);
      values(b).forEach((e, k) => {
        if (Number.isFinite(e)) expect(got[k]).toBeCloseTo(e, 3);
        else expect(got[k]).toBe(e);
      });
    };
    const x = tensor(v, { shape: xs, dtype: 'float32' });
    const y = conv2d(x, w, opts);
    check(y, conv2d(x.cast('float64'), w.cast('float64'), opts));
    const dy = randomTensor([...y.shape], 'float32', 7);
    check(
      convBackwardWeight(x, dy, ws, opts),
      convBackwardWeight(x.cast('float64'), dy.cast('float64'), ws, opts),
    );
    check(
      convBackwardInput(dy, w, xs, opts),
      convBackwardInput(dy.cast('float64'), w.cast('float64'), xs, opts),
    );
  });
});
