// The convolution GEMMs that read the unfolded input (the forward, and the weight gradient) through
// the texture matmul, with the unfolding written straight into the operand's texture: the columns
// are never stored in a buffer and packed again. Each input channel's KK taps take KKp = KK rounded
// up to 4 texture columns (zeros after KK), so that a thread of the unfolding kernel writes whole
// texels; the weights are packed with the same row spacing, and the weight gradient comes out with
// it and is compacted afterwards.
import { getKernel, makeView, type Tensor } from '@softpool/tensor';
import type { WebGPUBackend } from '../backend.js';
import { type ConvAttrs, geometry, INPUT_TAP, LETS, size } from './convGeometry.js';
import {
  matmulPacked,
  operandSizes,
  type Packed,
  pack,
  packedTexture,
  releasePacked,
  TEXTURE_MIN_WORK,
  tiles,
} from './matmulTexture.js';

/**
 * Texture row g * rowsPad + row, texels ci * KKp/4 ..: the taps of input channel ci at output
 * position row (n * P + p), 4 per texel, zeros after KK and in rows past N * P. A thread per
 * (g, row, ci), as the buffer im2col, so the index arithmetic is done once per KKp values.
 */
const IM2COL_TEXTURE = `${INPUT_TAP}
fn body(i: u32) {
  ${LETS}
  let rp = params[23]; let sh = params[24]; let W4 = params[25]; let KQ = params[26];
  let ci = i % cig;
  let row = (i / cig) % rp;
  let g = i / (cig * rp);
  let gr = g * rp + row;
  let ty = gr & ((1u << sh) - 1u);
  let tx = (gr >> sh) * W4 + ci * KQ;
  if (row >= N * P) {
    for (var t = 0u; t < KQ; t++) { textureStore(img0, vec2<u32>(tx + t, ty), vec4<f32>()); }
    return;
  }
  let n = row / P; let p = row % P;
  let ox = p % OW; let oy = (p / OW) % OH; let oz = p / (OW * OH);
  let src = (n * C + g * cig + ci) * ID * IH * IW;
  var kx = 0u; var ky = 0u; var kz = 0u; var k = 0u;
  for (var t = 0u; t < KQ; t++) {
    var v = vec4<f32>();
    for (var j = 0u; j < 4u; j++) {
      if (k < KK) {
        v[j] = inputTap(src, oz, oy, ox, kz, ky, kx);
        kx++;
        if (kx == KW) { kx = 0u; ky++; if (ky == KH) { ky = 0u; kz++; } }
      }
      k++;
    }
    textureStore(img0, vec2<u32>(tx + t, ty), v);
  }
}`;

/** Taps per input channel, and that rounded up to whole texels. */
function taps(wShape: readonly number[]): { KK: number; KKp: number } {
  const KK = size(wShape.slice(2));
  return { KK, KKp: Math.ceil(KK / 4) * 4 };
}

/** The unfolded input of every group, written as an operand of rowsPad x width texels per group. */
function im2colTexture(
  backend: WebGPUBackend,
  x: Tensor,
  wShape: readonly number[],
  yShape: readonly number[],
  a: ConvAttrs,
  rowsPad: number,
  width: number,
): Packed | undefined {
  const G = a.groups;
  const cig = x.shape[1] / G;
  const packed = packedTexture(backend, G, rowsPad, width);
  if (!packed) return undefined;
  backend.runProgram({
    code: IM2COL_TEXTURE,
    inputs: [x],
    outputs: [],
    params: [...geometry(x.shape, wShape, yShape, a), rowsPad, packed.shift, width, taps(wShape).KKp / 4],
    threads: G * rowsPad * cig,
    storageTextures: [packed.texture],
  });
  return packed;
}

/** Whether a convolution's GEMMs take the texture path (float32 and enough work to pay for it). */
export function convUsesTextures(x: Tensor, wShape: readonly number[], yShape: readonly number[]): boolean {
  const work = yShape[0] * size(yShape.slice(2)) * wShape[0] * size(wShape.slice(1));
  return x.dtype === 'float32' && work >= TEXTURE_MIN_WORK;
}

/** Y [G, N*P, cog] = cols @ W^T per group, or undefined when the operands exceed the texture limits. */
export function convTextureForward(
  backend: WebGPUBackend,
  x: Tensor,
  w: Tensor,
  yShape: readonly number[],
  a: ConvAttrs,
): Tensor | undefined {
  const G = a.groups;
  const cog = w.shape[0] / G;
  const cig = x.shape[1] / G;
  const { KK, KKp } = taps(w.shape);
  const M = x.shape[0] * size(yShape.slice(2));
  const grid = tiles(M, cog, cig * KKp);
  const s = operandSizes(grid);
  // W as [G, cig*KK, cog] (the transpose of its [G, cog, cig*KK] rows), rows spaced to KKp per channel
  const wT = makeView(w, [G, cig * KK, cog], [cog * cig * KK, 1, cig * KK], w.offset);
  const ta = im2colTexture(backend, x, w.shape, yShape, a, s.a.rowsPad, s.a.width);
  const tb = ta && pack(backend, wT, s.b.rowsPad, s.b.width, { kk: KK, kkp: KKp });
  wT.dispose();
  if (!ta || !tb) {
    releasePacked(backend, ta, tb);
    return undefined;
  }
  const y = matmulPacked(backend, ta, tb, {
    M,
    N: cog,
    grid,
    batch: [G],
    aMatrices: [1],
    bMatrices: [1],
    shape: [G, M, cog],
  });
  releasePacked(backend, ta, tb);
  return y;
}

/**
 * dW [Co, C/G, ...kernel] = dY[g] @ cols[g] per group (dY as [G, cog, N*P]), or undefined when the
 * operands exceed the texture limits.
 */
export function convTextureWeightGrad(
  backend: WebGPUBackend,
  x: Tensor,
  g: Tensor,
  dyShape: readonly number[],
  a: ConvAttrs & { weightShape: number[] },
): Tensor | undefined {
  const G = a.groups;
  const [cog, NP] = g.shape.slice(-2);
  const cig = x.shape[1] / G;
  const { KK, KKp } = taps(a.weightShape);
  const grid = tiles(cog, cig * KKp, NP);
  const s = operandSizes(grid);
  const ta = pack(backend, g, s.a.rowsPad, s.a.width);
  const tb = ta && im2colTexture(backend, x, a.weightShape, dyShape, a, s.b.rowsPad, s.b.width);
  if (!ta || !tb) {
    releasePacked(backend, ta, tb);
    return undefined;
  }
  const spaced = matmulPacked(backend, ta, tb, {
    M: cog,
    N: cig * KKp,
    grid,
    batch: [G],
    aMatrices: [1],
    bMatrices: [1],
    shape: [G, cog, cig * KKp],
  });
  releasePacked(backend, ta, tb);
  const reshape = (t: Tensor) => {
    const out = getKernel('reshape', backend.name)([t], { shape: a.weightShape }, backend) as Tensor;
    t.dispose();
    return out;
  };
  if (KK === KKp) return reshape(spaced);
  // drop the spacing: [G, cog, cig, KKp] -> [Co, cig, ...kernel]
  const taken = makeView(spaced, [G * cog, cig, KK], [cig * KKp, KKp, 1], 0);
  spaced.dispose();
  const dense = getKernel('contiguous', backend.name)([taken], {}, backend) as Tensor;
  taken.dispose();
  return reshape(dense);
}
