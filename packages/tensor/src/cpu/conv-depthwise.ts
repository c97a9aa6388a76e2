// Depthwise float32 convolutions (wasm/gemm.wat: dwConv, dwWgrad): one input channel per group
// (groups = C, any channel multiplier m = Cout / C), 1-D and 2-D, any stride, no dilation. The
// im2col path (conv.ts) runs one gemm with a single row per group and stages the whole input for
// each of them; these kernels slide each window over its staged plane instead, four outputs at a
// time. Calls split by output planes (forward) or output channels (weight gradient), each output
// made by one call, so results do not depend on the thread count. The input gradient is a
// depthwise convolution too (conv.ts: inputGradAsConv), through dY spread out by the stride.
import type { ConvAttrs } from '../ops/conv.js';
import type { Tensor } from '../tensor.js';
import { buf, empty, emptyUnfilled, readContiguous } from './backend.js';
import { type RowPadding, readable, stageInput } from './conv-direct.js';
import { residentAddress } from './heap.js';
import { activeThreads, runParallel, splitRange } from './threads.js';
import { reserve } from './wasm.js';
import { FN } from './worker-source.js';

/** Multiply-adds below which a call stays on the calling thread. */
const PARALLEL_MIN = 1 << 18;

/** Whether a float32 convolution takes the depthwise kernels. */
export function useDepthwise(xShape: readonly number[], wShape: readonly number[], a: ConvAttrs): boolean {
  return (
    (xShape.length === 3 || xShape.length === 4) &&
    a.groups > 1 &&
    a.groups === xShape[1] &&
    wShape[1] === 1 &&
    a.dilation.every((d) => d === 1)
  );
}

interface Geo extends RowPadding {
  N: number;
  C: number;
  Cout: number;
  KH: number;
  KW: number;
  sy: number;
  sx: number;
  OH: number;
  OW: number;
}

/** Sizes, 1-D as height 1; the staged rows hold every value the four-wide windows read. */
function geometry(xShape: readonly number[], wShape: readonly number[], a: ConvAttrs): Geo {
  const two = xShape.length === 4;
  const [H, W] = two ? xShape.slice(2) : [1, xShape[2]];
  const [KH, KW] = two ? wShape.slice(2) : [1, wShape[2]];
  const [sy, sx] = two ? a.stride : [1, a.stride[0]];
  const [padT, padB] = two ? [a.padBefore[0], a.padAfter[0]] : [0, 0];
  const [padL, padR] = [a.padBefore[two ? 1 : 0], a.padAfter[two ? 1 : 0]];
  const OH = Math.floor((H + padT + padB - KH) / sy) + 1;
  const OW = Math.floor((W + padL + padR - KW) / sx) + 1;
  return {
    N: xShape[0],
    C: xShape[1],
    Cout: wShape[0],
    H,
    W,
    KH,
    KW,
    sy,
    sx,
    OH,
    OW,
    padT,
    padL,
    // Steps of four rows and four positions read windows up to row 4*ceil(OH/4) - 1 and
    // position 4*ceil(OW/4) - 1.
    Hp: (Math.ceil(OH / 4) * 4 - 1) * sy + KH,
    Wp: Math.max((Math.ceil(OW / 4) * 4 - 1) * sx + KW, padL + W),
  };
}

/** Stages x at word 0 as padded planes; returns the word where the rest of the memory is free. */
function stagePlanes(x: Tensor, g: Geo, extra: number): { f32: Float32Array; free: number } {
  const xWords = g.N * g.C * g.Hp * g.Wp;
  const free = xWords + (xWords & 1);
  const { f32 } = reserve(Math.max(free + extra, xWords + x.size));
  stageInput(f32, 0, xWords, x, g, g.N * g.C);
  return { f32, free };
}

/** The geometry's kernel arguments shared by both kernels. */
function shared(g: Geo): number[] {
  return [g.Cout / g.C, g.C, g.Hp * g.Wp * 4, g.Wp, g.OH, g.OW, g.KH, g.KW, g.sy, g.sx];
}

/** The forward convolution y = conv(x, w) + bias into a new [N, Cout, ...] tensor. */
export function convDepthwiseForward(x: Tensor, w: Tensor, bias: Tensor | undefined, a: ConvAttrs): Tensor {
  const g = geometry(x.shape, w.shape, a);
  const { N, Cout, OH, OW } = g;
  const KV = g.KH * g.KW;
  const yWords = N * Cout * OH * OW;
  const { f32, free } = stagePlanes(x, g, Cout * KV + Cout + yWords);
  const wAt = free;
  const bAt = wAt + Cout * KV;
  const yAt = bAt + Cout;
  f32.set(readContiguous(w), wAt);
  if (bias) f32.set(readContiguous(bias), bAt);
  else f32.fill(0, bAt, yAt);
  const y = emptyUnfilled([N, Cout, ...(x.rank === 4 ? [OH] : []), OW], 'float32');
  const yB = residentAddress(buf(y));
  const parts = yWords * KV < PARALLEL_MIN ? 1 : 4 * activeThreads();
  runParallel(
    splitRange(N * Cout, parts).map(([q0, q1]) => [
      FN.dwConv,
      0,
      wAt * 4,
      bAt * 4,
      yB ?? yAt * 4,
      q0,
      q1,
      Cout,
      ...shared(g),
    ]),
  );
  if (yB === undefined) buf(y).set(f32.subarray(yAt, yAt + yWords));
  return y;
}

/** The weight gradient dW [Cout, 1, ...k] of the forward convolution, from x and dY. */
export function convDepthwiseWeightGrad(
  x: Tensor,
  dy: Tensor,
  weightShape: readonly number[],
  a: ConvAttrs,
): Tensor {
  const g = geometry(x.shape, weightShape, a);
  const { N, Cout } = g;
  const KV = g.KH * g.KW;
  const work = dy.size * KV;
  const items = splitRange(Cout, work < PARALLEL_MIN ? 1 : 4 * activeThreads());
  // dY (when not resident), float64 totals (KV per item), dW.
  const { f32, free } = stagePlanes(x, g, dy.size + 2 * KV * items.length + Cout * KV);
  const dyAt = readable(dy, f32, free);
  const accAt = free + dy.size + ((free + dy.size) & 1);
  const dwAt = accAt + 2 * KV * items.length;
  runParallel(
    items.map(([c0, c1], i) => [
      FN.dwWgrad,
      0,
      dyAt,
      (accAt + 2 * KV * i) * 4,
      dwAt * 4,
      c0,
      c1,
      N,
      Cout,
      ...shared(g),
    ]),
  );
  const dw = empty(weightShape, 'float32');
  buf(dw).set(f32.subarray(dwAt, dwAt + Cout * KV));
  return dw;
}
