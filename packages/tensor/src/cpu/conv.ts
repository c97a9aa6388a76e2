// CPU convolution as GEMM over an implicit im2col matrix: packers read input windows straight
// into gemm panels, so the im2col matrix never exists in full. 1-D and 2-D are 3-D with unit dims.
//   forward        out_g  = W_g [Og, Cg*KV] @ cols_g [Cg*KV, N*OV]
//   input grad     cols_g = W_g^T @ dY_g, scattered back into dX (col2im)
//   weight grad    dW_g   = dY_g [Og, N*OV] @ cols_g^T
// Rows of cols are taps r = (c, kz, ky, kx); columns are output positions j = (n, oz, oy, ox).
// Few output channels or 25+ taps at stride 1 take the direct kernels instead (conv-direct.ts),
// depthwise ones conv-depthwise.ts, 3x3 kernels at stride 1
// with 16+ channels the Winograd path (conv-winograd.ts); the geometry and the JavaScript packer are
// in conv-windows.ts.

import { registerKernel } from '../kernels.js';
import type { ConvAttrs } from '../ops/conv.js';
import { sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { makeView } from '../tensor.js';
import { buf, empty, operand, readContiguous } from './backend.js';
import { mapStrided } from './codegen.js';
import { convDepthwiseForward, convDepthwiseWeightGrad, useDepthwise } from './conv-depthwise.js';
import { convDirectForward, convDirectWeightGrad, useDirect, useDirectWeightGrad } from './conv-direct.js';
import { type Geo, geometry, strides5, Windows } from './conv-windows.js';
import {
  convWinogradForward,
  convWinogradWeightGrad,
  useWinograd,
  useWinogradWeightGrad,
} from './conv-winograd.js';
import { gemmPacked, MR, type PackA, type PackB, packStridedA, type UnpackC } from './gemm.js';
import { cpuFill } from './heap.js';
import { activeThreads, runParallel } from './threads.js';
import { reserve, wasm } from './wasm.js';
import { FN } from './worker-source.js';

/** Row tables (rowOff, rowZ, rowY, rowX) then column tables (colOff, colZ, colY, colX), per geometry. */
const tableCache = new Map<string, Int32Array>();

function im2colTables(g: Geo, group: number): Int32Array {
  const key = JSON.stringify([g, group]);
  let t = tableCache.get(key);
  if (t) return t;
  const rows = g.Cg * g.KV;
  const cols = g.N * g.OV;
  const [D, H, W] = g.inSize;
  const DHW = D * H * W;
  t = new Int32Array(4 * rows + 4 * cols);
  for (let r = 0; r < rows; r++) {
    const c = group * g.Cg + Math.floor(r / g.KV);
    let rem = r % g.KV;
    const kx = rem % g.k[2];
    rem = (rem - kx) / g.k[2];
    const ky = rem % g.k[1];
    const kz = (rem - ky) / g.k[1];
    t[r] = c * DHW;
    t[rows + r] = kz * g.dil[0] - g.pad[0];
    t[2 * rows + r] = ky * g.dil[1] - g.pad[1];
    t[3 * rows + r] = kx * g.dil[2] - g.pad[2];
  }
  const [, OH, OW] = g.out;
  const c0 = 4 * rows;
  for (let j = 0; j < cols; j++) {
    const n = Math.floor(j / g.OV);
    const o = j - n * g.OV;
    const oz = Math.floor(o / (OH * OW));
    const oy = Math.floor((o - oz * OH * OW) / OW);
    t[c0 + j] = n * g.C * DHW;
    t[c0 + cols + j] = oz * g.stride[0];
    t[c0 + 2 * cols + j] = oy * g.stride[1];
    t[c0 + 3 * cols + j] = (o - oz * OH * OW - oy * OW) * g.stride[2];
  }
  if (tableCache.size > 32) tableCache.clear();
  tableCache.set(key, t);
  return t;
}

/** Byte addresses of the eight im2col tables of `im2colTables`, copied to word `t0` of wasm memory. */
function tableAddresses(t0: number, rows: number, cols: number): number[] {
  return [0, 1, 2, 3]
    .map((i) => (t0 + i * rows) * 4)
    .concat([0, 1, 2, 3].map((i) => (t0 + 4 * rows + i * cols) * 4));
}

/**
 * float32 forward packing on the wasm im2col kernel: copies the input (contiguous) and the index
 * tables into wasm memory below `heapStart`, and returns the packer and where gemm may start.
 */
function wasmIm2col(g: Geo, x: Tensor, group: number): { packB: PackB; heapStart: number } {
  const rows = g.Cg * g.KV;
  const cols = g.N * g.OV;
  const xData = readContiguous(x);
  const tables = im2colTables(g, group);
  const t0 = xData.length;
  const heapStart = t0 + tables.length;
  const { f32, i32 } = reserve(heapStart);
  f32.set(xData, 0);
  i32.set(tables, t0);
  const [D, H, W] = g.inSize;
  const at = tableAddresses(t0, rows, cols);
  const args = (dstByte: number, K: number, n0: number, nc: number) => [
    0,
    dstByte,
    K,
    nc,
    n0,
    D,
    H,
    W,
    ...at,
  ];
  const packB: PackB = (_dst, base, K, n0, nc) => {
    if (K > 0) wasm().im2col(...args(base * 4, K, n0, nc));
  };
  // gemmPacked runs the call on the thread that multiplies those columns (K = 0 packs nothing).
  if (rows > 0) packB.wasmCall = args;
  return { packB, heapStart };
}

/** dY of one group as a [Og, N*OV] matrix view of contiguous dY data. */
function dyMatrix(g: Geo, dy: ArrayLike<number>, group: number) {
  // Row co, column j = (n, o): dy[(n*Cout + group*Og + co)*OV + o].
  const row0 = group * g.Og * g.OV;
  const asA: PackA = (dst, base, M, K) => {
    for (let p = 0; p < M; p += MR) {
      const panel = base + p * K;
      for (let r = 0; r < MR; r++) {
        const co = p + r;
        if (co >= M) {
          for (let j = 0; j < K; j++) dst[panel + j * MR + r] = 0;
          continue;
        }
        for (let n = 0, j = 0; n < g.N; n++) {
          const src = n * g.Cout * g.OV + row0 + co * g.OV;
          for (let o = 0; o < g.OV; o++, j++) dst[panel + j * MR + r] = dy[src + o];
        }
      }
    }
  };
  const asB: PackB = (dst, base, K, n0, nc, ld) => {
    dst.fill(0, base, base + K * ld);
    for (let co = 0; co < K; co++) {
      const d = base + co * 8;
      let j = n0;
      while (j < n0 + nc) {
        const n = Math.floor(j / g.OV);
        const o = j - n * g.OV;
        const len = Math.min(n0 + nc - j, g.OV - o);
        const src = n * g.Cout * g.OV + row0 + co * g.OV + o;
        for (let t = 0, a = j - n0; t < len; t++, a++) dst[d + (a >> 3) * K * 8 + (a & 7)] = dy[src + t];
        j += len;
      }
    }
  };
  return { asA, asB };
}

function outSpatial(xShape: readonly number[], wShape: readonly number[], a: ConvAttrs): number[] {
  return xShape
    .slice(2)
    .map(
      (len, i) =>
        Math.floor(
          (len + a.padBefore[i] + a.padAfter[i] - a.dilation[i] * (wShape[2 + i] - 1) - 1) / a.stride[i],
        ) + 1,
    );
}

/** The forward convolution (every dtype; float32 packs its im2col matrix in WebAssembly). */
function convForward(x: Tensor, w: Tensor, bias: Tensor | undefined, attrs: ConvAttrs): Tensor {
  if (x.dtype === 'float32' && useDepthwise(x.shape, w.shape, attrs))
    return convDepthwiseForward(x, w, bias, attrs);
  if (x.dtype === 'float32' && useWinograd(x.shape, w.shape, attrs)) {
    const y = convWinogradForward(x, w, bias, attrs);
    if (y) return y;
  }
  if (x.dtype === 'float32' && useDirect(x.shape, w.shape, attrs))
    return convDirectForward(x, w, bias, attrs);
  const spatial = outSpatial(x.shape, w.shape, attrs);
  const g = geometry(x.shape, w.shape, spatial, attrs);
  const out = empty([g.N, g.Cout, ...spatial], x.dtype);
  const o = buf(out) as Float32Array | Float64Array;
  const wData = readContiguous(w);
  const wCols = g.Cg * g.KV;
  const b = bias ? readContiguous(bias) : undefined;
  for (let grp = 0; grp < g.G; grp++) {
    const win = new Windows(g, strides5(x.shape, x.strides), x.offset, grp);
    // C row co, column j = (n, o) -> out[n, grp*Og + co, o], plus the bias.
    const unpack: UnpackC = (src, base, ldc, M, n0, nc) => {
      for (let co = 0; co < M; co++) {
        const cAbs = grp * g.Og + co;
        const bv = b ? b[cAbs] : 0;
        let j = n0;
        while (j < n0 + nc) {
          const n = Math.floor(j / g.OV);
          const oStart = j - n * g.OV;
          const len = Math.min(n0 + nc - j, g.OV - oStart);
          const to = (n * g.Cout + cAbs) * g.OV + oStart;
          const from = base + co * ldc + (j - n0);
          // Without a bias (every convolution inside the backward passes) a run is one copy.
          if (!b) o.set(src.subarray(from, from + len), to);
          else for (let t = 0; t < len; t++) o[to + t] = src[from + t] + bv;
          j += len;
        }
      }
    };
    const A = packStridedA({ data: wData, offset: grp * g.Og * wCols, s0: wCols, s1: 1 });
    if (x.dtype === 'float32') {
      const { packB, heapStart } = wasmIm2col(g, x, grp);
      gemmPacked(g.Og, g.N * g.OV, wCols, A, packB, unpack, true, heapStart);
    } else {
      gemmPacked(g.Og, g.N * g.OV, wCols, A, win.pack(buf(x), false), unpack, false);
    }
  }
  return out;
}

registerKernel('conv', 'cpu', ([x, w, bias], attrs) => convForward(x, w, bias, attrs));

/**
 * float32 input gradient as W^T @ dY with the columns scattered back in WebAssembly (col2im): dX
 * lives in WebAssembly memory below gemm's work area, each chunk of C is scattered by blocks of
 * whole channels on the worker threads, then dX is copied out once.
 */
function inputGradCol2im(dy: Tensor, w: Tensor, attrs: ConvAttrs & { inputShape: number[] }): Tensor {
  const g = geometry(attrs.inputShape, w.shape, dy.shape.slice(2), attrs);
  const dx = empty(attrs.inputShape, 'float32');
  const wData = readContiguous(w);
  const dyData = readContiguous(dy);
  const wCols = g.Cg * g.KV;
  const [D, H, W] = g.inSize;
  const values = dx.size;
  cpuFill(reserve(values).f32, 0, 0, values);
  for (let grp = 0; grp < g.G; grp++) {
    const tables = im2colTables(g, grp);
    const heapStart = values + tables.length;
    reserve(heapStart).i32.set(tables, values);
    const cols = g.N * g.OV;
    const at = tableAddresses(values, wCols, cols);
    const unpack: UnpackC = (_src, base, ldc, M, n0, nc) => {
      const parts = M * nc < 1 << 15 ? 1 : Math.min(g.Cg, 2 * activeThreads());
      const items: number[][] = [];
      for (let i = 0; i < parts; i++) {
        const r0 = Math.floor((i * g.Cg) / parts) * g.KV;
        const r1 = Math.floor(((i + 1) * g.Cg) / parts) * g.KV;
        items.push([FN.col2im, base * 4, ldc * 4, 0, r0, r1, nc, n0, D, H, W, ...at]);
      }
      runParallel(items);
    };
    // A = W_g^T [Cg*KV, Og]: element (r, co) at (grp*Og + co)*wCols + r.
    const A = packStridedA({ data: wData, offset: grp * g.Og * wCols, s0: 1, s1: wCols });
    gemmPacked(wCols, cols, g.Og, A, dyMatrix(g, dyData, grp).asB, unpack, true, heapStart);
  }
  buf(dx).set(reserve(values).f32.subarray(0, values));
  return dx;
}

registerKernel('convBackwardInput', 'cpu', ([dy, w], attrs) => {
  if (dy.dtype === 'float32') {
    const padsFit = attrs.padBefore.every(
      (p, i) =>
        p <= attrs.dilation[i] * (w.shape[2 + i] - 1) &&
        attrs.padAfter[i] <= attrs.dilation[i] * (w.shape[2 + i] - 1),
    );
    // Depthwise with one output channel per input channel: the flipped weights are depthwise too,
    // and a stride becomes dY spread out with zeros (cheap next to col2im's gemm per channel).
    if (padsFit && w.shape[0] === attrs.groups && useDepthwise(attrs.inputShape, w.shape, attrs)) {
      if (attrs.stride.every((s) => s === 1)) return inputGradAsConv(dy, w, attrs);
      // As long as the output at stride 1: trailing zeros where the stride's floor left rows.
      const spread = spreadByStride(
        dy,
        attrs.stride,
        attrs.inputShape
          .slice(2)
          .map((len, i) => len + attrs.padBefore[i] + attrs.padAfter[i] - w.shape[2 + i] + 1),
      );
      const dx = inputGradAsConv(spread, w, { ...attrs, stride: attrs.stride.map(() => 1) });
      spread.dispose();
      return dx;
    }
    const asConv = attrs.stride.every((s) => s === 1) && padsFit;
    // The convolution gathers Cout*KV values per input position, col2im scatters Cin*KV per
    // output position, each scattered value costing about three gathered ones: on the reference
    // machine col2im took 7.3 ms against 13.9 for LeNet's second layer (Cin 6, Cout 16) and 77
    // against 61 for [16,32,32,32] x 64 3x3 (Cin 32), on one thread.
    // With few input channels the direct kernels make the convolution cheaper still.
    const [Cout, Cg] = w.shape;
    const scatter = Cg * sizeOf(dy.shape.slice(2));
    const gather = (Cout / attrs.groups) * sizeOf(attrs.inputShape.slice(2));
    const flipped = [Cg * attrs.groups, Cout, ...w.shape.slice(2)];
    const direct = useDirect(dy.shape, flipped, attrs) || useWinograd(dy.shape, flipped, attrs);
    return asConv && (direct || 3 * scatter >= gather)
      ? inputGradAsConv(dy, w, attrs)
      : inputGradCol2im(dy, w, attrs);
  }
  const xShape = attrs.inputShape;
  const g = geometry(xShape, w.shape, dy.shape.slice(2), attrs);
  const dx = empty(xShape, dy.dtype);
  const o = buf(dx) as Float32Array | Float64Array;
  const [D, H, W] = g.inSize;
  const xs = [g.C * D * H * W, D * H * W, H * W, W, 1];
  const wData = readContiguous(w);
  const dyData = readContiguous(dy);
  const wCols = g.Cg * g.KV;
  const sx = g.stride[2];
  for (let grp = 0; grp < g.G; grp++) {
    const win = new Windows(g, xs, 0, grp);
    // col2im (float64 and integers; float32 took one of the paths above): C row r (tap),
    // column j (position) is added into the dX element it came from.
    const unpack: UnpackC = (src, base, ldc, M, n0, nc) => {
      for (let r = 0; r < M; r++) {
        const from = base + r * ldc - n0;
        win.rows(r, n0, n0 + nc, (j, len, dst, x) => {
          if (dst < 0) return;
          for (let t = 0; t < len; t++, x += sx) if (x >>> 0 < W) o[dst + x] += src[from + j + t];
        });
      }
    };
    // A = W_g^T [Cg*KV, Og]: element (r, co) at (grp*Og + co)*wCols + r.
    const A = packStridedA({ data: wData, offset: grp * g.Og * wCols, s0: 1, s1: wCols });
    gemmPacked(wCols, g.N * g.OV, g.Og, A, dyMatrix(g, dyData, grp).asB, unpack, false);
  }
  return dx;
});

registerKernel('convBackwardWeight', 'cpu', ([x, dy], attrs) => {
  if (x.dtype === 'float32' && useDepthwise(x.shape, attrs.weightShape, attrs))
    return convDepthwiseWeightGrad(x, dy, attrs.weightShape, attrs);
  if (x.dtype === 'float32' && useWinogradWeightGrad(x.shape, attrs.weightShape, attrs)) {
    const dw = convWinogradWeightGrad(x, dy, attrs.weightShape, attrs);
    if (dw) return dw;
  }
  if (x.dtype === 'float32')
    return useDirectWeightGrad(x.shape, attrs)
      ? convDirectWeightGrad(x, dy, attrs.weightShape, attrs)
      : weightGradAsConv(x, dy, attrs);
  const wShape = attrs.weightShape;
  const g = geometry(x.shape, wShape, dy.shape.slice(2), attrs);
  const dw = empty(wShape, x.dtype);
  const o = buf(dw) as Float32Array | Float64Array;
  const wCols = g.Cg * g.KV;
  const dyData = readContiguous(dy);
  for (let grp = 0; grp < g.G; grp++) {
    const win = new Windows(g, strides5(x.shape, x.strides), x.offset, grp);
    const unpack: UnpackC = (src, base, ldc, M, n0, nc) => {
      for (let co = 0; co < M; co++) {
        const to = (grp * g.Og + co) * wCols + n0;
        for (let c = 0; c < nc; c++) o[to + c] = src[base + co * ldc + c];
      }
    };
    gemmPacked(
      g.Og,
      wCols,
      g.N * g.OV,
      dyMatrix(g, dyData, grp).asA,
      win.pack(buf(x), true),
      unpack,
      false, // float32 took the convolution path above
    );
  }
  return dw;
});

// ---- backward passes as forward convolutions (float32: they reuse the WebAssembly path) --------

/** `t` with dims 0 and 1 swapped, as a new contiguous tensor. */
function swap01(t: Tensor): Tensor {
  if (t.isContiguous) {
    // Whole planes (the dims after 1) move as blocks: one copy each, not a strided walk.
    const [A, B] = t.shape;
    const plane = t.size / (A * B);
    const out = empty([B, A, ...t.shape.slice(2)], t.dtype);
    const src = buf(t);
    const dst = buf(out);
    for (let a = 0; a < A; a++)
      for (let b = 0; b < B; b++) {
        const from = t.offset + (a * B + b) * plane;
        dst.set(src.subarray(from, from + plane), (b * A + a) * plane);
      }
    return out;
  }
  const axes = t.shape.map((_, i) => (i === 0 ? 1 : i === 1 ? 0 : i));
  const view = makeView(
    t,
    axes.map((a) => t.shape[a]),
    axes.map((a) => t.strides[a]),
    t.offset,
  );
  const out = cpuContiguous(view);
  view.dispose();
  return out;
}

/**
 * dY [N, C, ...] spread out to spatial sizes `sizes`: value j of a dim of stride s at j * s, zeros
 * between and after.
 */
function spreadByStride(dy: Tensor, stride: readonly number[], sizes: readonly number[]): Tensor {
  const out = empty([...dy.shape.slice(0, 2), ...sizes], dy.dtype);
  const region = makeView(
    out,
    dy.shape,
    out.strides.map((st, i) => (i < 2 ? st : st * stride[i - 2])),
    0,
  );
  mapStrided('x1', operand(region), [operand(dy)], dy.shape);
  region.dispose();
  return out;
}

function cpuContiguous(t: Tensor): Tensor {
  const out = empty(t.shape, t.dtype);
  buf(out).set(readContiguous(t));
  return out;
}

/**
 * Stride-1 input gradient as a convolution of dY with the spatially flipped weight, its in/out
 * channels swapped within each group: dX = conv(dY, flip(W)^T, padding d(k-1) - p).
 */
function inputGradAsConv(dy: Tensor, w: Tensor, attrs: ConvAttrs & { inputShape: number[] }): Tensor {
  const G = attrs.groups;
  const [Cout, Cg] = w.shape;
  const k = w.shape.slice(2);
  const KV = k.reduce((a, b) => a * b, 1);
  const Og = Cout / G;
  const src = readContiguous(w);
  const wt = empty([Cg * G, Og, ...k], w.dtype);
  const dst = buf(wt);
  for (let g = 0; g < G; g++)
    for (let o = 0; o < Og; o++)
      for (let c = 0; c < Cg; c++) {
        const from = ((g * Og + o) * Cg + c) * KV;
        const to = ((g * Cg + c) * Og + o) * KV;
        for (let t = 0; t < KV; t++) dst[to + t] = src[from + KV - 1 - t];
      }
  const span = k.map((kk, i) => attrs.dilation[i] * (kk - 1));
  const out = convForward(dy, wt, undefined, {
    stride: attrs.stride,
    padBefore: span.map((s, i) => s - attrs.padBefore[i]),
    padAfter: span.map((s, i) => s - attrs.padAfter[i]),
    dilation: attrs.dilation,
    groups: G,
  });
  wt.dispose();
  // Inputs whose last rows no window reached (floor in the forward size) get zero gradient.
  const want = attrs.inputShape;
  if (out.shape.every((d, i) => d === want[i])) return out;
  const fixed = empty(want, out.dtype);
  const region = makeView(
    fixed,
    out.shape.map((d, i) => Math.min(d, want[i])),
    fixed.strides,
    0,
  );
  const part = makeView(out, region.shape, out.strides, 0);
  mapStrided(
    'x1',
    { data: buf(fixed), offset: 0, strides: fixed.strides },
    [{ data: buf(part), offset: 0, strides: part.strides }],
    region.shape,
  );
  for (const t of [region, part, out]) t.dispose();
  return fixed;
}

/**
 * Weight gradient as a convolution over the batch: with channels and batch swapped, X^T [C, N, ...]
 * convolved with dY^T [Cout, N, ...] as the kernel (dilation = the forward stride, stride = the
 * forward dilation) gives dW^T [C, Cout, ...]; one such convolution per group.
 */
function weightGradAsConv(x: Tensor, dy: Tensor, attrs: ConvAttrs & { weightShape: number[] }): Tensor {
  const G = attrs.groups;
  const [Cout, Cg] = attrs.weightShape;
  const k = attrs.weightShape.slice(2);
  const KV = k.reduce((a, b) => a * b, 1);
  const Og = Cout / G;
  const xt = swap01(x);
  const dyt = swap01(dy);
  const out = empty(attrs.weightShape, x.dtype);
  const o = buf(out);
  const inPlane = xt.size / xt.shape[0];
  const dyPlane = dyt.size / dyt.shape[0];
  for (let g = 0; g < G; g++) {
    const xg = makeView(xt, [Cg, ...xt.shape.slice(1)], xt.strides, g * Cg * inPlane);
    const dg = makeView(dyt, [Og, ...dyt.shape.slice(1)], dyt.strides, g * Og * dyPlane);
    const r = convForward(xg, dg, undefined, {
      stride: attrs.dilation,
      padBefore: attrs.padBefore,
      padAfter: attrs.padAfter,
      dilation: attrs.stride,
      groups: 1,
    });
    // r is [Cg, Og, ...outSpatial] with outSpatial >= k: keep the first k taps, transposed.
    const rd = buf(r);
    const rStrides = r.strides;
    // Offset of tap t within an output plane of r, computed once per tap.
    const tap = new Int32Array(KV);
    for (let t = 0; t < KV; t++) {
      let rem = t;
      for (let d = k.length - 1; d >= 0; d--) {
        tap[t] += (rem % k[d]) * rStrides[2 + d];
        rem = Math.floor(rem / k[d]);
      }
    }
    for (let c = 0; c < Cg; c++)
      for (let oc = 0; oc < Og; oc++) {
        const to = ((g * Og + oc) * Cg + c) * KV;
        const from = c * rStrides[0] + oc * rStrides[1];
        for (let t = 0; t < KV; t++) o[to + t] = rd[from + tap[t]];
      }
    for (const t of [xg, dg, r]) t.dispose();
  }
  xt.dispose();
  dyt.dispose();
  return out;
}
