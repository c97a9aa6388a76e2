// Convolution, 1D to 3D, on a 3-d spatial layout (1D and 2D get leading spatial dims of size 1),
// as GEMMs around one tuned matmul kernel: the input is unfolded into columns (im2col), then
//   forward:        Y[g]   = cols[g] @ W[g]^T              then [G, N*P, Co/G] -> [N, Co, P] (+ bias)
//   weight grad:    dW[g]  = dY[g] @ cols[g]               with dY as [G, Co/G, N*P]
//   input grad:     dcols  = dY[g]^T @ W[g], folded back by a gather over the taps (col2im, no atomics).
// On CPU-like adapters (lavapipe) a matmul with large register blocks beats direct kernels several
// times over, because loads, not arithmetic, bound them; on GPUs the same GEMMs are the usual form.
// Large float32 convolutions write the columns straight into the texture matmul's operand
// (convTexture.ts); the rest store them in a buffer (below).
import { convOutSize, getKernel, makeView, registerKernel, type Tensor } from '@softpool/tensor';
import { type ConvAttrs, geometry, INPUT_TAP, LETS, size } from './convGeometry.js';
import { convTextureForward, convTextureWeightGrad, convUsesTextures } from './convTexture.js';
import { matmulGpu } from './matmul.js';
import { gpu, withDense } from './util.js';

/**
 * cols[g, n*P + p, ci*KK + k] = x[n, g*cig + ci, tap k of position p] (0 in the padding): a thread
 * per (g, row, ci) writes its KK taps, so the index arithmetic is done once per KK values.
 */
const IM2COL = `${INPUT_TAP}
fn body(i: u32) {
  ${LETS}
  let ci = i % cig;
  let row = (i / cig) % (N * P);
  let g = i / (cig * N * P);
  let n = row / P; let p = row % P;
  let ox = p % OW; let oy = (p / OW) % OH; let oz = p / (OW * OH);
  let src = (n * C + g * cig + ci) * ID * IH * IW;
  var dst = (g * N * P + row) * cig * KK + ci * KK;
  for (var kz = 0u; kz < KD; kz++) {
    for (var ky = 0u; ky < KH; ky++) {
      for (var kx = 0u; kx < KW; kx++) {
        out0[dst] = inputTap(src, oz, oy, ox, kz, ky, kx);
        dst++;
      }
    }
  }
}`;

/** out[n, g*cog + co, p] = Y[g, n*P + p, co] + bias. */
const UNGROUP = `
fn body(i: u32) {
  ${LETS}
  let p = i % P;
  let c = (i / P) % Co;
  let n = i / (P * Co);
  let g = c / cog;
  out0[i] = in0[(g * N * P + n * P + p) * cog + c % cog] BIAS;
}`;

/** dx[n, c, z, y, x] = sum over taps k and positions p that read it of dcols[g, n*P + p, ci*KK + k]. */
const COL2IM = `
fn body(i: u32) {
  ${LETS}
  let x = i32(i % IW); let y = i32((i / IW) % IH); let z = i32((i / (IW * IH)) % ID);
  let c = (i / (IW * IH * ID)) % C;
  let n = i / (IW * IH * ID * C);
  let g = c / cig;
  let ci = c % cig;
  let width = cig * KK;
  let base = (g * N * P + n * P) * width + ci * KK;
  var acc = 0.0;
  for (var kz = 0u; kz < KD; kz++) {
    let tz = z + i32(PD) - i32(kz * DD);
    if (tz < 0 || tz % i32(SD) != 0 || tz / i32(SD) >= i32(OD)) { continue; }
    for (var ky = 0u; ky < KH; ky++) {
      let ty = y + i32(PH) - i32(ky * DH);
      if (ty < 0 || ty % i32(SH) != 0 || ty / i32(SH) >= i32(OH)) { continue; }
      for (var kx = 0u; kx < KW; kx++) {
        let tx = x + i32(PW) - i32(kx * DW);
        if (tx < 0 || tx % i32(SW) != 0 || tx / i32(SW) >= i32(OW)) { continue; }
        let p = (u32(tz / i32(SD)) * OH + u32(ty / i32(SH))) * OW + u32(tx / i32(SW));
        acc += in0[base + p * width + (kz * KH + ky) * KW + kx];
      }
    }
  }
  out0[i] = acc;
}`;

function outSpatial(xShape: readonly number[], wShape: readonly number[], a: ConvAttrs): number[] {
  return xShape
    .slice(2)
    .map((n, d) => convOutSize(n, wShape[2 + d], a.stride[d], a.padBefore[d], a.padAfter[d], a.dilation[d]));
}

/** The unfolded input: [G, N*P, (C/G)*KK]. */
function im2col(x: Tensor, wShape: readonly number[], yShape: readonly number[], a: ConvAttrs): Tensor {
  const G = a.groups;
  const rows = x.shape[0] * size(yShape.slice(2));
  const width = (x.shape[1] / G) * size(wShape.slice(2));
  return gpu(x.backend).runProgram({
    code: IM2COL,
    inputs: [x],
    outputs: [{ shape: [G, rows, width], dtype: x.dtype }],
    params: geometry(x.shape, wShape, yShape, a),
    threads: G * rows * (x.shape[1] / G),
  })[0];
}

/** A strided view of a dense tensor (no copy; matmul makes dense copies where it needs them). */
function view(t: Tensor, shape: number[], strides: number[]): Tensor {
  return makeView(t, shape, strides, t.offset);
}

/** Y [G, N*P, cog] = cols[g] @ W[g]^T through an im2col buffer. */
function bufferForward(x: Tensor, w: Tensor, shape: number[], a: ConvAttrs): Tensor {
  const G = a.groups;
  const cols = im2col(x, w.shape, shape, a);
  const [cog, width] = [w.shape[0] / G, cols.shape[2]];
  // W as [G, width, cog]: the transpose of its [G, cog, width] rows.
  const wT = view(w, [G, width, cog], [cog * width, 1, width]);
  const y = matmulGpu(cols, wT);
  for (const t of [cols, wT]) t.dispose();
  return y;
}

registerKernel('conv', 'webgpu', (inputs, a, backend) =>
  withDense(inputs, backend, ([x, w, bias]) => {
    const shape = [x.shape[0], w.shape[0], ...outSpatial(x.shape, w.shape, a)];
    const y =
      (convUsesTextures(x, w.shape, shape) && convTextureForward(gpu(backend), x, w, shape, a)) ||
      bufferForward(x, w, shape, a);
    const [out] = gpu(backend).runProgram({
      code: UNGROUP.replace('BIAS', bias ? '+ in1[c]' : ''),
      inputs: bias ? [y, bias] : [y],
      outputs: [{ shape, dtype: x.dtype }],
      params: geometry(x.shape, w.shape, shape, a),
      threads: size(shape),
    });
    y.dispose();
    return out;
  }),
);

/** dY [N, Co, P] copied once into [G, cog, N*P] or (transposed) [G, N*P, cog], dense for the GEMM. */
function gradLayout(dy: Tensor, G: number, transposed: boolean): Tensor {
  const [N, Co] = dy.shape;
  const P = size(dy.shape.slice(2));
  const cog = Co / G;
  const v = transposed
    ? view(dy, [G, N, P, cog], [cog * P, Co * P, 1, P])
    : view(dy, [G, cog, N, P], [cog * P, P, Co * P, 1]);
  const dense = getKernel('contiguous', dy.backend.name)([v], {}, dy.backend) as Tensor;
  v.dispose();
  const out = transposed
    ? view(dense, [G, N * P, cog], [N * P * cog, cog, 1])
    : view(dense, [G, cog, N * P], [cog * N * P, N * P, 1]);
  dense.dispose();
  return out;
}

registerKernel('convBackwardWeight', 'webgpu', (inputs, a, backend) =>
  withDense(inputs, backend, ([x, dy]) => {
    const g = gradLayout(dy, a.groups, false);
    const viaTextures =
      convUsesTextures(x, a.weightShape, dy.shape) && convTextureWeightGrad(gpu(backend), x, g, dy.shape, a);
    if (viaTextures) {
      g.dispose();
      return viaTextures;
    }
    const cols = im2col(x, a.weightShape, dy.shape, a);
    const dw = matmulGpu(g, cols); // [G, cog, width]
    for (const t of [cols, g]) t.dispose();
    const out = getKernel('reshape', backend.name)([dw], { shape: a.weightShape }, backend) as Tensor;
    dw.dispose();
    return out;
  }),
);

registerKernel('convBackwardInput', 'webgpu', (inputs, a, backend) =>
  withDense(inputs, backend, ([dy, w]) => {
    const G = a.groups;
    const cog = w.shape[0] / G;
    const width = size(w.shape.slice(1));
    const g = gradLayout(dy, G, true); // [G, N*P, cog]
    const wg = view(w, [G, cog, width], [cog * width, width, 1]);
    const dcols = matmulGpu(g, wg); // [G, N*P, width]
    for (const t of [g, wg]) t.dispose();
    const [out] = gpu(backend).runProgram({
      code: COL2IM,
      inputs: [dcols],
      outputs: [{ shape: a.inputShape, dtype: dy.dtype }],
      params: geometry(a.inputShape, w.shape, dy.shape, a),
      threads: size(a.inputShape),
    });
    dcols.dispose();
    return out;
  }),
);
