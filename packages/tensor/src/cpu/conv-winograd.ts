// Winograd F(2x2, 3x3) convolution (wasm/gemm.wat: wgForward, wgInput, wgOutput, wgGrad, gemm) for
// float32 3x3 convolutions with stride 1, no dilation and one group: each 2x2 block of outputs
// (a tile) is A^T [(G g G^T) . (B^T d B)] A over a 4x4 input patch d, so the sum over input
// channels becomes 16 matrix products (one per position of the transformed tile) of
// [out channels x in channels] by [in channels x tiles]: 16 multiply-adds per tile and channel
// pair where the direct sum takes 36 (Lavin and Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016). The weight gradient is the same identity differentiated:
// dW = G^T [sum over tiles of (A dY A^T) . (B^T d B)] G, again 16 products (contracting tiles).
// The transforms add and subtract (and halve) values, so results differ from the direct sums by
// a few float32 roundings. Every output is made by one call in a fixed order, so results do not
// depend on the thread count.
import type { ConvAttrs } from '../ops/conv.js';
import type { Tensor } from '../tensor.js';
import { buf, empty, emptyUnfilled, readContiguous } from './backend.js';
import { type StagedConv, stageInput } from './conv-direct.js';
import { KC } from './gemm.js';
import { residentAddress } from './heap.js';
import { activeThreads, runParallel, splitRange } from './threads.js';
import { reserve, winogradAllowed } from './wasm.js';
import { FN } from './worker-source.js';

/** Calls below this many multiply-adds run as one item (waking workers costs more). */
const PARALLEL_MIN = 1 << 18;

const up = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * Words from one position's block to the next for blocks of `words`: 64 bytes more than a whole
 * number of 4 KiB pages, so the 16 blocks a transform writes (or reads) together do not all fall
 * into the same cache set (blocks a power of two apart made the transforms 2-3x slower).
 */
const spread = (words: number): number => up(words, 1024) + 16;

/** The staged input has rows 2*TH + 2 (a tile reads 4) and row length 2*TW4 + 4 (a group reads 12). */
interface Geo extends StagedConv {
  /** Tile rows, and tile columns rounded up to whole groups of 4 (one vector of tiles). */
  TH: number;
  TW4: number;
  /** Tiles: N * TH * TW4 (a multiple of 4). */
  T: number;
}

function geometry(xShape: readonly number[], wShape: readonly number[], a: ConvAttrs): Geo {
  const [N, Cin, H, W] = xShape;
  const Cout = wShape[0];
  const [padT, padL] = a.padBefore;
  const OH = H + padT + a.padAfter[0] - 2;
  const OW = W + padL + a.padAfter[1] - 2;
  const TH = Math.ceil(OH / 2);
  const TW4 = up(Math.ceil(OW / 2), 4);
  return {
    N,
    Cin,
    Cout,
    H,
    W,
    padT,
    padL,
    OH,
    OW,
    TH,
    TW4,
    T: N * TH * TW4,
    Hp: 2 * TH + 2,
    Wp: Math.max(2 * TW4 + 4, padL + W),
  };
}

/**
 * Whether a float32 convolution takes the Winograd path: a 2-D 3x3 kernel, stride 1, no
 * dilation, one group, and at least 16 channels on both sides (fewer, and the transforms cost
 * more than the products save: the direct kernels or im2col win; docs/benchmarks.md).
 */
export function useWinograd(xShape: readonly number[], wShape: readonly number[], a: ConvAttrs): boolean {
  return (
    winogradAllowed() &&
    xShape.length === 4 &&
    wShape[2] === 3 &&
    wShape[3] === 3 &&
    a.groups === 1 &&
    a.stride.every((s) => s === 1) &&
    a.dilation.every((d) => d === 1) &&
    a.padBefore.every((p) => p >= 0) &&
    a.padAfter.every((p) => p >= 0) &&
    xShape[1] >= 16 &&
    wShape[0] >= 16
  );
}

/**
 * Whether the weight gradient takes the Winograd path: as `useWinograd`, with at least 64 input
 * channels (its transforms cover both x and dY; with 32 or fewer the direct kernel was as fast or
 * faster).
 */
export function useWinogradWeightGrad(
  xShape: readonly number[],
  wShape: readonly number[],
  a: ConvAttrs,
): boolean {
  return useWinograd(xShape, wShape, a) && xShape[1] >= 64;
}

/**
 * Ranges of tile rows [0, rows), split over the threads when the work is worth it: four per
 * thread, so a thread slowed by the machine's other work holds the rest up by less (conv2d
 * [16,32,32,32] x 64 forward+backward on two threads: 39.8-40.5 ms against 41.9-42.7 with two).
 */
function rowRanges(rows: number, work: number): [number, number][] {
  return splitRange(rows, work < PARALLEL_MIN ? 1 : 4 * activeThreads());
}

/**
 * Whether every value is finite. The transforms mix the values of a 4x4 patch, so a NaN or an
 * infinity would reach all four outputs of each tile it touches (and inf - inf makes NaN where a
 * direct sum gives inf): non-finite data takes the other paths, which keep to each window. Inputs
 * are checked as padRows stages them (stageInput's flags), weights here; the bias is added after
 * the transforms, as in a direct sum.
 */
function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] - a[i] !== 0) return false;
  return true;
}

/**
 * Bytes of transformed input and products one block of tile rows may take (per work item): about
 * a quarter of a 2 MiB L2, so they stay in cache between the transforms and the products.
 */
const BLOCK_BYTES = 512 << 10;

/**
 * y = conv(x, w) + bias for a Winograd-eligible convolution, or undefined where x or w hold a
 * non-finite value (the caller takes another path). Work items are ranges of tile rows;
 * each runs its blocks through the transforms and products in its own scratch (wgForward).
 */
export function convWinogradForward(
  x: Tensor,
  w: Tensor,
  bias: Tensor | undefined,
  a: ConvAttrs,
): Tensor | undefined {
  const wData = readContiguous(w) as Float32Array;
  if (!allFinite(wData)) return undefined;
  const g = geometry(x.shape, w.shape, a);
  const { N, Cin, Cout, OH, OW, TH, TW4, T } = g;
  const Cp = up(Cout, 4);
  const rows = Math.max(1, Math.floor(BLOCK_BYTES / (64 * (Cin + Cp) * TW4)));
  const np = up(rows * TW4, 8);
  const vXi = spread(np * Cin);
  const mXi = spread(Cp * np);
  const work = 16 * Cout * Cin * T;
  const ranges = rowRanges(N * TH, work);
  const xWords = N * Cin * g.Hp * g.Wp;
  const uAt = xWords;
  const bAt = uAt + 16 * Cp * Cin;
  const yAt = bAt + Cp;
  const yWords = N * Cout * OH * OW;
  const scratchAt = up(yAt + yWords, 16);
  const flags = scratchAt + Math.max(ranges.length * 16 * (vXi + mXi), x.size);
  const { f32 } = reserve(flags + 512);
  // The raw input goes to the scratch first (stageInput), then padded rows from word 0.
  if (!stageInput(f32, 0, scratchAt, x, g, N * Cin, flags)) return undefined;
  transformWeights(f32, uAt, wData, Cout, Cin, Cp);
  f32.fill(0, bAt, yAt);
  if (bias) f32.set(readContiguous(bias), bAt);
  // Every output element is stored (none accumulated): resident y is written where it lives.
  const y = emptyUnfilled([N, Cout, OH, OW], 'float32');
  const yB = residentAddress(buf(y));
  runParallel(
    ranges.map(([r0, r1], i) => [
      FN.wgForward,
      0,
      uAt * 4,
      bAt * 4,
      yB ?? yAt * 4,
      r0,
      r1,
      rows,
      (scratchAt + i * 16 * (vXi + mXi)) * 4,
      (scratchAt + i * 16 * (vXi + mXi) + 16 * vXi) * 4,
      Cin,
      Cout,
      Cp,
      TH,
      TW4,
      g.Hp,
      g.Wp,
      OH,
      OW,
      vXi * 4,
      mXi * 4,
    ]),
  );
  if (yB === undefined) buf(y).set(f32.subarray(yAt, yAt + yWords));
  return y;
}

/**
 * U = G g G^T of each [Cout, Cin, 3, 3] weight, as gemm A panels per position xi: (co, ci) at
 * at + xi*Cp*Cin + ((co >> 2)*Cin + ci)*4 + (co & 3), zero for rows past Cout. In float64, then
 * rounded once.
 */
function transformWeights(
  f32: Float32Array,
  at: number,
  w: ArrayLike<number>,
  Cout: number,
  Cin: number,
  Cp: number,
) {
  f32.fill(0, at, at + 16 * Cp * Cin);
  const gg = new Float64Array(12);
  const step = Cp * Cin;
  for (let co = 0; co < Cout; co++)
    for (let ci = 0; ci < Cin; ci++) {
      const src = (co * Cin + ci) * 9;
      // G g (4x3), by columns: g0, (g0 + g1 + g2)/2, (g0 - g1 + g2)/2, g2 of each column
      for (let c = 0; c < 3; c++) {
        const g0 = w[src + c];
        const g1 = w[src + 3 + c];
        const g2 = w[src + 6 + c];
        gg[c] = g0;
        gg[3 + c] = (g0 + g1 + g2) / 2;
        gg[6 + c] = (g0 - g1 + g2) / 2;
        gg[9 + c] = g2;
      }
      // (G g) G^T, row i: h0, (h0 + h1 + h2)/2, (h0 - h1 + h2)/2, h2
      let to = at + ((co >> 2) * Cin + ci) * 4 + (co & 3);
      for (let i = 0; i < 12; i += 3, to += 4 * step) {
        const h0 = gg[i];
        const h1 = gg[i + 1];
        const h2 = gg[i + 2];
        f32[to] = h0;
        f32[to + step] = (h0 + h1 + h2) / 2;
        f32[to + 2 * step] = (h0 - h1 + h2) / 2;
        f32[to + 3 * step] = h2;
      }
    }
}

/**
 * dW [Cout, Cin, 3, 3] of a Winograd-eligible convolution, from x and dY; undefined where either
 * holds a non-finite value.
 */
export function convWinogradWeightGrad(
  x: Tensor,
  dy: Tensor,
  weightShape: readonly number[],
  a: ConvAttrs,
): Tensor | undefined {
  const g = geometry(x.shape, weightShape, a);
  const { N, Cin, Cout, OH, OW, TH, TW4, T } = g;
  const Ci4 = up(Cin, 4);
  const Co8 = up(Cout, 8);
  const xWords = N * Cin * g.Hp * g.Wp;
  const dyAt = xWords;
  const vAt = dyAt + N * Cout * 2 * TH * 2 * TW4;
  const vXi = spread(Ci4 * T);
  const eXi = spread(Co8 * T);
  const eAt = vAt + 16 * vXi;
  const sAt = eAt + 16 * eXi;
  const tmp = sAt + 16 * Ci4 * Co8;
  const flags = tmp + Math.max(x.size, dy.size, 4 * 512 * activeThreads());
  const { f32 } = reserve(flags + 512);
  if (!stageInput(f32, 0, tmp, x, g, N * Cin, flags)) return undefined;
  // dY padded with zeros to whole tiles: tiles past the output contribute nothing.
  const dyRows = { H: OH, W: OW, Hp: 2 * TH, Wp: 2 * TW4, padT: 0, padL: 0 };
  if (!stageInput(f32, dyAt, tmp, dy, dyRows, N * Cout, flags)) return undefined;
  const work = 16 * Cout * Cin * T;
  // Each item transposes its channel blocks through 2 KiB of scratch (free room at tmp now).
  let scratch = tmp;
  const scr = (): number => {
    scratch += 512;
    return (scratch - 512) * 4;
  };
  const ranges = rowRanges(N * TH, work);
  runParallel([
    ...ranges.map(([r0, r1]) => [
      FN.wgInput,
      0,
      vAt * 4,
      r0,
      r1,
      Cin,
      TH,
      TW4,
      g.Hp,
      g.Wp,
      T,
      vXi * 4,
      1,
      scr(),
      0,
    ]),
    ...ranges.map(([r0, r1]) => [FN.wgGrad, dyAt * 4, eAt * 4, r0, r1, Cout, TH, TW4, T, eXi * 4, scr()]),
  ]);
  // S_xi [Ci4 x Co8] = V_xi [Ci4 x T] E_xi^T [T x Co8], one call per position and block of rows.
  const rowParts = work < PARALLEL_MIN ? 1 : Math.min(Ci4 / 4, 2);
  const items: number[][] = [];
  for (let xi = 0; xi < 16; xi++)
    for (const [r0, r1] of splitRange(Ci4 / 4, rowParts))
      items.push([
        FN.gemm,
        (vAt + xi * vXi + r0 * 4 * T) * 4,
        (eAt + xi * eXi) * 4,
        (sAt + xi * Ci4 * Co8 + r0 * 4 * Co8) * 4,
        (r1 - r0) * 4,
        Co8,
        T,
        KC,
        Co8,
      ]);
  runParallel(items);
  // dW = G^T S G, S at position xi = 4i + j: G^T rows (1, 1/2, 1/2, 0), (0, 1/2, -1/2, 0), (0, 1/2, 1/2, 1).
  const dw = empty(weightShape, 'float32');
  const out = buf(dw);
  const r = new Float64Array(12);
  const step = Ci4 * Co8;
  for (let co = 0; co < Cout; co++)
    for (let ci = 0; ci < Cin; ci++) {
      const from = sAt + ci * Co8 + co;
      // G^T S (3x4), by columns j
      for (let j = 0; j < 4; j++) {
        const s0 = f32[from + j * step];
        const s1 = f32[from + (4 + j) * step];
        const s2 = f32[from + (8 + j) * step];
        const s3 = f32[from + (12 + j) * step];
        r[j] = s0 + (s1 + s2) / 2;
        r[4 + j] = (s1 - s2) / 2;
        r[8 + j] = (s1 + s2) / 2 + s3;
      }
      // (G^T S) G, row i
      const to = (co * Cin + ci) * 9;
      for (let i = 0; i < 3; i++) {
        const r0 = r[4 * i];
        const r1 = r[4 * i + 1];
        const r2 = r[4 * i + 2];
        const r3 = r[4 * i + 3];
        out[to + 3 * i] = r0 + (r1 + r2) / 2;
        out[to + 3 * i + 1] = (r1 - r2) / 2;
        out[to + 3 * i + 2] = (r1 + r2) / 2 + r3;
      }
    }
  return dw;
}
