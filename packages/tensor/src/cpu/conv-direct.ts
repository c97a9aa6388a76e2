// Direct float32 convolution (wasm/gemm.wat: convDirect, convDirectWgrad) for stride 1, no
// dilation, one group, 1-D and 2-D: the kernels read input rows in place, eight output channels at
// a time, where the im2col path (conv.ts) copies every input value once per tap into gemm panels.
// With few channels that copying is most of the work (LeNet-5: 6 and 16 output channels).
// Inputs are staged in WebAssembly memory with their rows padded (see the kernels' comment), the
// outputs are written in their final layout; calls split by images (forward) or by ranges of
// (input channel, tap) rows (weight gradient), each output made by one call, so results do not
// depend on the thread count.
import type { ConvAttrs } from '../ops/conv.js';
import type { Tensor } from '../tensor.js';
import { buf, empty, emptyUnfilled, readContiguous, writeContiguous } from './backend.js';
import { residentAddress, residentInput } from './heap.js';
import { activeThreads, runParallel, splitRange } from './threads.js';
import { reserve } from './wasm.js';
import { FN } from './worker-source.js';

/** Output channels per kernel call (one accumulator each). */
const CB = 8;

/** A 2-D stride-1 convolution's sizes and its input staged with padded rows (padRows). */
export interface StagedConv {
  N: number;
  Cin: number;
  Cout: number;
  H: number;
  W: number;
  padT: number;
  padL: number;
  OH: number;
  OW: number;
  /** Staged input rows: the top padding, the rows, the bottom padding. */
  Hp: number;
  /** Staged input row length: the left padding, the row, zeros up to what the kernels read. */
  Wp: number;
}

interface Geo extends StagedConv {
  KH: number;
  KW: number;
}

/** The geometry of a 1-D or 2-D convolution, 1-D as height 1. */
function geometry(xShape: readonly number[], wShape: readonly number[], a: ConvAttrs): Geo {
  const two = xShape.length === 4;
  const [H, W] = two ? xShape.slice(2) : [1, xShape[2]];
  const [KH, KW] = two ? wShape.slice(2) : [1, wShape[2]];
  const padT = two ? a.padBefore[0] : 0;
  const padL = a.padBefore[two ? 1 : 0];
  const padB = two ? a.padAfter[0] : 0;
  const padR = a.padAfter[two ? 1 : 0];
  const OH = H + padT + padB - KH + 1;
  const OW = W + padL + padR - KW + 1;
  return {
    N: xShape[0],
    Cin: xShape[1],
    Cout: wShape[0],
    H,
    W,
    KH,
    KW,
    padT,
    padL,
    OH,
    OW,
    Hp: OH + KH - 1,
    // The last vector of a row reads up to column 4*ceil(OW/4) + KW - 2.
    Wp: Math.max(Math.ceil(OW / 4) * 4 + KW - 1, padL + W),
  };
}

/** Whether the direct kernels can compute a convolution: stride 1, no dilation, one group, 1-D or 2-D. */
function directShape(xShape: readonly number[], a: ConvAttrs): boolean {
  return (
    (xShape.length === 3 || xShape.length === 4) &&
    a.groups === 1 &&
    a.stride.every((s) => s === 1) &&
    a.dilation.every((d) => d === 1)
  );
}

/**
 * Whether a float32 convolution takes the direct kernels: their shape, and few output channels or
 * kernels of 25+ taps (5x5; 1-D 25), where they beat the im2col path (docs/benchmarks.md; with
 * many channels 3x3 was even and 1x1 three times slower).
 */
export function useDirect(xShape: readonly number[], wShape: readonly number[], a: ConvAttrs): boolean {
  const taps = wShape.slice(2).reduce((p, k) => p * k, 1);
  return directShape(xShape, a) && (wShape[0] <= 32 || taps >= 25);
}

/**
 * Whether a float32 weight gradient takes the direct kernel: any channel counts, as it beat the
 * convolution over the batch (conv.ts) on every shape measured, 1.5-2.5x (docs/benchmarks.md);
 * the Winograd path, where it applies, is tried first.
 */
export function useDirectWeightGrad(xShape: readonly number[], a: ConvAttrs): boolean {
  return directShape(xShape, a);
}

/** What padRows needs to know of a staged input: its rows, and the padded rows it becomes. */
export type RowPadding = Pick<StagedConv, 'H' | 'W' | 'Hp' | 'Wp' | 'padT' | 'padL'>;

/**
 * The byte address kernels read `t`'s elements from: where its storage lives when resident
 * (heap.ts), else a copy written at word `tmp`.
 */
export function readable(t: Tensor, f32: Float32Array, tmp: number): number {
  const at = residentInput(t);
  if (at !== undefined) return at;
  writeContiguous(t, f32, tmp);
  return tmp * 4;
}

/**
 * Stages a float32 [N, C, H, W] tensor at word `at` as [N][C][Hp][Wp] (padRows), by planes on the
 * threads, reading it in place when resident and else from a copy at word `tmp` (its room,
 * N*C*H*W words, is free again afterwards). With `flags` (a word address with room for one word
 * per work item, at most 2 * 256) it also says whether every value is finite.
 */
export function stageInput(
  f32: Float32Array,
  at: number,
  tmp: number,
  x: Tensor,
  g: RowPadding,
  planes: number,
  flags = 0,
): boolean {
  const src = readable(x, f32, tmp);
  const items = splitRange(planes, x.size < PARALLEL_MIN ? 1 : 2 * activeThreads()).map(([p0, p1], i) => [
    FN.padRows,
    src,
    at * 4,
    p0,
    p1,
    g.H,
    g.W,
    g.Hp,
    g.Wp,
    g.padT,
    g.padL,
    flags ? (flags + i) * 4 : 0,
  ]);
  if (flags) f32.fill(0, flags, flags + items.length);
  runParallel(items);
  return !flags || new Int32Array(f32.buffer, flags * 4, items.length).every((b) => b === 0);
}

/** Calls below this many multiply-adds run as one item (waking workers costs more). */
const PARALLEL_MIN = 1 << 18;

/** The forward convolution y = conv(x, w) + bias into a new [N, Cout, ...] tensor. */
export function convDirectForward(x: Tensor, w: Tensor, bias: Tensor | undefined, a: ConvAttrs): Tensor {
  const g = geometry(x.shape, w.shape, a);
  const { N, Cin, Cout, H, W, KH, KW, OH, OW, Wp } = g;
  const blocks = Math.ceil(Cout / CB);
  const taps = Cin * KH * KW;
  const xWords = N * Cin * g.Hp * Wp;
  const wAt = xWords;
  const bAt = wAt + blocks * taps * CB;
  const yAt = bAt + blocks * CB;
  const yWords = N * Cout * OH * OW;
  const { f32 } = reserve(Math.max(yAt + yWords, xWords + x.size));
  stageInput(f32, 0, xWords, x, g, N * Cin);
  // Weights as [block][ci][ky][kx][8 channels], zero past Cout; the bias as [block][8].
  f32.fill(0, wAt, yAt);
  const wd = readContiguous(w);
  for (let co = 0; co < Cout; co++) {
    const to = wAt + Math.floor(co / CB) * taps * CB + (co % CB);
    for (let t = 0; t < taps; t++) f32[to + t * CB] = wd[co * taps + t];
  }
  if (bias) f32.set(readContiguous(bias), bAt);
  const xImg = Cin * g.Hp * Wp * 4;
  const yPlane = OH * OW * 4;
  const work = N * Cout * OH * OW * taps;
  const parts = work < PARALLEL_MIN ? 1 : Math.ceil((4 * activeThreads()) / blocks);
  // The kernel stores exactly its outputs: resident y is written where it lives.
  const y = emptyUnfilled(
    [N, Cout, ...x.shape.slice(2).map((_, i, s) => (i === s.length - 1 ? OW : OH))],
    'float32',
  );
  const yB = residentAddress(buf(y));
  const items: number[][] = [];
  for (let b = 0; b < blocks; b++)
    for (const [n0, n1] of splitRange(N, parts))
      items.push([
        FN.convDirect,
        n0 * xImg + g.padT * Wp * 4,
        (wAt + b * taps * CB) * 4,
        (bAt + b * CB) * 4,
        (yB ?? yAt * 4) + (n0 * Cout + b * CB) * yPlane,
        Math.min(CB, Cout - b * CB),
        Cin,
        H,
        Wp,
        g.padT,
        OH,
        OW,
        KH,
        KW,
        n1 - n0,
        xImg,
        g.Hp * Wp * 4,
        Cout * yPlane,
        yPlane,
        g.padL,
        W,
      ]);
  runParallel(items);
  if (yB === undefined) buf(y).set(f32.subarray(yAt, yAt + yWords));
  return y;
}

/** The weight gradient dW [Cout, Cin, ...k] of the forward convolution, from x and dY. */
export function convDirectWeightGrad(
  x: Tensor,
  dy: Tensor,
  weightShape: readonly number[],
  a: ConvAttrs,
): Tensor {
  const g = geometry(x.shape, weightShape, a);
  const { N, Cin, Cout, KH, KW, OH, OW, Hp, Wp } = g;
  const blocks = Math.ceil(Cout / CB);
  const KV = KH * KW;
  const S = OH * OW;
  const xWords = N * Cin * Hp * Wp;
  const dyAt = xWords;
  const dyWords = N * blocks * CB * S;
  const dwAt = dyAt + dyWords;
  // float64 totals, 64 words per tap group (8-byte aligned), zeroed below.
  const accAt = dwAt + Cout * Cin * KV + ((dwAt + Cout * Cin * KV) & 1);
  const tmp = accAt + blocks * Math.ceil((Cin * KV) / 4) * 64;
  const { f32 } = reserve(tmp + Math.max(x.size, dy.size));
  stageInput(f32, 0, tmp, x, g, N * Cin);
  const dySrc = readable(dy, f32, tmp); // read once, by interleave8
  f32.fill(0, accAt, tmp);
  const work = N * Cout * S * Cin * KV;
  const threads = work < PARALLEL_MIN ? 1 : activeThreads();
  runParallel(
    splitRange(N, dy.size < PARALLEL_MIN ? 1 : 2 * threads).map(([n0, n1]) => [
      FN.interleave8,
      dySrc,
      dyAt * 4,
      n0,
      n1,
      Cout,
      S,
    ]),
  );
  const xPlane = Hp * Wp * 4;
  const dyImg = blocks * S * 32;
  // Rows r = (ci, tap) in groups of four; items: (block, a range of groups), a few per thread, so
  // each item streams its block of dY once while all its groups use it.
  const R = Cin * KV;
  const groups = Math.ceil(R / 4);
  const parts = Math.min(groups, Math.ceil((4 * threads) / blocks));
  const items: number[][] = [];
  let acc = accAt * 4;
  for (let b = 0; b < blocks; b++)
    for (const [g0, g1] of splitRange(groups, parts)) {
      // Images per chunk: about 64 KiB of dY and of the input planes the rows read, so a chunk
      // stays in cache while every group visits it.
      const planes = Math.floor((Math.min(4 * g1, R) - 1) / KV) - Math.floor((4 * g0) / KV) + 1;
      const chunk = Math.max(1, Math.floor((64 << 10) / (S * 32 + planes * xPlane)));
      items.push([
        FN.convDirectWgrad,
        0,
        dyAt * 4 + b * S * 32,
        (dwAt + b * CB * R) * 4,
        acc,
        Math.min(CB, Cout - b * CB),
        g0,
        g1,
        KW,
        KV,
        R,
        Wp,
        xPlane,
        OH,
        OW,
        N,
        chunk,
        Cin * xPlane,
        dyImg,
        R * 4,
      ]);
      acc += (g1 - g0) * 256;
    }
  runParallel(items);
  const dw = empty(weightShape, 'float32');
  buf(dw).set(f32.subarray(dwAt, dwAt + Cout * Cin * KV));
  return dw;
}
