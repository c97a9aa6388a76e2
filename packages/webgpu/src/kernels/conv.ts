// Convolution, 1D to 3D, as direct (implicit-GEMM) kernels over a 3-d spatial layout: 1D and 2D
// convolutions get leading spatial dims of size 1. Forward: a thread computes 4 output channels
// at one position. Backward input: a thread gathers, for one input element, the outputs whose
// windows cover it (no atomics). Backward weight: a thread per weight element and chunk of the
// (batch x output position) sum, then a sum over the chunks.
import { getKernel, registerKernel, type Tensor } from '@softpool/tensor';
import { gpu, withDense } from './util.js';

interface ConvAttrs {
  stride: number[];
  padBefore: number[];
  padAfter: number[];
  dilation: number[];
  groups: number;
}

/** Spatial values padded to 3 dims (leading dims of size 1, stride 1, no padding). */
function to3(v: readonly number[], fill: number): number[] {
  return [...new Array(3 - v.length).fill(fill), ...v];
}

/** Geometry params shared by the three kernels (params[1..22]). */
function geometry(
  xShape: readonly number[],
  wShape: readonly number[],
  yShape: readonly number[],
  a: ConvAttrs,
  extra: number,
) {
  const [N, C] = xShape;
  const Co = wShape[0];
  const I = to3(xShape.slice(2), 1);
  const O = to3(yShape.slice(2), 1);
  const K = to3(wShape.slice(2), 1);
  const S = to3(a.stride, 1);
  const P = to3(a.padBefore, 0);
  const D = to3(a.dilation, 1);
  return [N, C, Co, a.groups, ...I, ...O, ...K, ...S, ...P, ...D, extra];
}

const NAMES = 'N C Co G ID IH IW OD OH OW KD KH KW SD SH SW PD PH PW DD DH DW X'.split(' ');
const LETS = NAMES.map((n, k) => `let ${n} = params[${k + 1}];`).join(' ');

/** Flat index of x[n, c, (z, y, x)] where the input position may be out of range (padding). */
const INPUT_AT = `
fn inputAt(n: u32, c: u32, z: i32, y: i32, x: i32, C: u32, ID: u32, IH: u32, IW: u32) -> i32 {
  if (z < 0 || y < 0 || x < 0 || z >= i32(ID) || y >= i32(IH) || x >= i32(IW)) { return -1; }
  return i32((((n * C + c) * ID + u32(z)) * IH + u32(y)) * IW + u32(x));
}`;

const FORWARD = `${INPUT_AT}
fn body(i: u32) {
  ${LETS}
  let cog = Co / G;
  let blocks = (cog + 3u) / 4u;
  let P = OD * OH * OW;
  let pos = i % P;
  let t = i / P;
  let blk = t % (G * blocks);
  let n = t / (G * blocks);
  let g = blk / blocks;
  let co0 = g * cog + (blk % blocks) * 4u;
  let ox = pos % OW; let oy = (pos / OW) % OH; let oz = pos / (OW * OH);
  let cig = C / G;
  let kvol = KD * KH * KW;
  var acc = vec4<f32>();
  var wrow: array<u32, 4>;
  for (var q = 0u; q < 4u; q++) { wrow[q] = min(co0 + q, g * cog + cog - 1u) * cig * kvol; }
  for (var ci = 0u; ci < cig; ci++) {
    let c = g * cig + ci;
    for (var kz = 0u; kz < KD; kz++) {
      let z = i32(oz * SD + kz * DD) - i32(PD);
      for (var ky = 0u; ky < KH; ky++) {
        let y = i32(oy * SH + ky * DH) - i32(PH);
        for (var kx = 0u; kx < KW; kx++) {
          let x = i32(ox * SW + kx * DW) - i32(PW);
          let at = inputAt(n, c, z, y, x, C, ID, IH, IW);
          if (at < 0) { continue; }
          let v = in0[u32(at)];
          let k = (ci * KD + kz) * KH * KW + ky * KW + kx;
          acc += v * vec4<f32>(in1[wrow[0] + k], in1[wrow[1] + k], in1[wrow[2] + k], in1[wrow[3] + k]);
        }
      }
    }
  }
  for (var q = 0u; q < 4u; q++) {
    let co = co0 + q;
    if (co >= g * cog + cog) { break; }
    out0[(n * Co + co) * P + pos] = acc[q] + BIAS;
  }
}`;

const BACKWARD_INPUT = `
fn body(i: u32) {
  ${LETS}
  let x = i32(i % IW); let y = i32((i / IW) % IH); let z = i32((i / (IW * IH)) % ID);
  let c = (i / (IW * IH * ID)) % C;
  let n = i / (IW * IH * ID * C);
  let cig = C / G;
  let cog = Co / G;
  let g = c / cig;
  let ci = c % cig;
  let kvol = KD * KH * KW;
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
        let o = (u32(tz / i32(SD)) * OH + u32(ty / i32(SH))) * OW + u32(tx / i32(SW));
        let k = (kz * KH + ky) * KW + kx;
        for (var cq = 0u; cq < cog; cq++) {
          let co = g * cog + cq;
          acc += in0[((n * Co + co) * OD * OH * OW) + o] * in1[(co * cig + ci) * kvol + k];
        }
      }
    }
  }
  out0[i] = acc;
}`;

const BACKWARD_WEIGHT = `${INPUT_AT}
fn body(i: u32) {
  ${LETS}
  let cig = C / G;
  let cog = Co / G;
  let nw = Co * cig * KD * KH * KW;
  let widx = i % nw;
  let chunk = i / nw;
  let kx = widx % KW; let ky = (widx / KW) % KH; let kz = (widx / (KW * KH)) % KD;
  let ci = (widx / (KW * KH * KD)) % cig;
  let co = widx / (KW * KH * KD * cig);
  let c = (co / cog) * cig + ci;
  let P = OD * OH * OW;
  let L = N * P;
  let start = chunk * X;
  let end = min(start + X, L);
  var acc = 0.0;
  for (var j = start; j < end; j++) {
    let n = j / P;
    let pos = j % P;
    let ox = pos % OW; let oy = (pos / OW) % OH; let oz = pos / (OW * OH);
    let at = inputAt(n, c, i32(oz * SD + kz * DD) - i32(PD), i32(oy * SH + ky * DH) - i32(PH), i32(ox * SW + kx * DW) - i32(PW), C, ID, IH, IW);
    if (at >= 0) { acc += in1[(n * Co + co) * P + pos] * in0[u32(at)]; }
  }
  out0[i] = acc;
}`;

registerKernel<ConvAttrs>('conv', 'webgpu', (inputs, a, backend) =>
  withDense(inputs, backend, ([x, w, bias]) => {
    const outSpatial = x.shape.slice(2).map((n, d) => {
      const k = w.shape[2 + d];
      return Math.floor((n + a.padBefore[d] + a.padAfter[d] - a.dilation[d] * (k - 1) - 1) / a.stride[d]) + 1;
    });
    const shape = [x.shape[0], w.shape[0], ...outSpatial];
    const P = outSpatial.reduce((p, q) => p * q, 1);
    const blocks = Math.ceil(w.shape[0] / a.groups / 4);
    const code = FORWARD.replace('BIAS', bias ? 'in2[co]' : '0.0');
    return gpu(backend).runProgram({
      code,
      inputs: bias ? [x, w, bias] : [x, w],
      outputs: [{ shape, dtype: x.dtype }],
      params: geometry(x.shape, w.shape, shape, a, 0),
      threads: x.shape[0] * a.groups * blocks * P,
    })[0];
  }),
);

registerKernel<ConvAttrs & { inputShape: number[] }>('convBackwardInput', 'webgpu', (inputs, a, backend) =>
  withDense(
    inputs,
    backend,
    ([dy, w]) =>
      gpu(backend).runProgram({
        code: BACKWARD_INPUT,
        inputs: [dy, w],
        outputs: [{ shape: a.inputShape, dtype: dy.dtype }],
        params: geometry(a.inputShape, w.shape, dy.shape, a, 0),
        threads: a.inputShape.reduce((p, q) => p * q, 1),
      })[0],
  ),
);

registerKernel<ConvAttrs & { weightShape: number[] }>('convBackwardWeight', 'webgpu', (inputs, a, backend) =>
  withDense(inputs, backend, ([x, dy]) => {
    const nw = a.weightShape.reduce((p, q) => p * q, 1);
    const L = dy.shape[0] * dy.shape.slice(2).reduce((p, q) => p * q, 1);
    // Split the long sum so that there are enough threads, then add the chunks.
    const chunks = Math.max(1, Math.min(Math.ceil(16384 / Math.max(nw, 1)), Math.ceil(L / 256)));
    const per = Math.ceil(L / chunks);
    const [partial] = gpu(backend).runProgram({
      code: BACKWARD_WEIGHT,
      inputs: [x, dy],
      outputs: [{ shape: [chunks, ...a.weightShape], dtype: x.dtype }],
      params: geometry(x.shape, a.weightShape, dy.shape, a, per),
      threads: chunks * nw,
    });
    const out = (
      chunks === 1
        ? getKernel('reshape', backend.name)([partial], { shape: a.weightShape }, backend)
        : getKernel('sum', backend.name)([partial], { axes: [0], keepDim: false }, backend)
    ) as Tensor;
    partial.dispose();
    return out;
  }),
);
