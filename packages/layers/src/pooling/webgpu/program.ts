// WGSL pooling programs for any backend that runs them (ShaderBackend), without depending on the
// backend package. The window tables of the CPU plan (per axis: the taps of each output, and the
// outputs covering each input) travel as program parameters, so every geometry (padding,
// dilation, ceil mode, adaptive windows) runs through the same two loops: TAPS (forward, one
// thread per output) and COVER (backward, one thread per input, gathered: no atomics).
import { BackendError } from '@softpool/tensor';
import { plan } from '../cpu/plan.js';
import { axisCover, type PoolGeometry } from '../geometry.js';

export { shaderBackend, withDense } from '../../shader.js';

/** The largest parameter block (u32 words) a program may carry; tables above it are refused. */
const MAX_WORDS = 60_000;

/** Index of the first scalar parameter (temperature, normType, ...) in `params`. */
const SCALARS = 25;

/**
 * Parameter words of a pooling call: [planes, inPlane, outPlane, per axis (len, out, wStart,
 * wIdx, cStart, cOut, total) as params indices, 3 scalars, then the tables].
 */
export function poolParams(
  op: string,
  shape: readonly number[],
  g: PoolGeometry,
  scalars: number[],
): { words: number[]; outShape: number[]; planes: number; inPlane: number; outPlane: number } {
  const p = plan(shape, g);
  const header: number[] = [p.planes, p.inPlane, p.outPlane];
  const tables: number[] = [];
  const base = 1 + header.length + 21 + 3; // params index of the first table word
  const at = () => base + tables.length;
  for (let a = 0; a < 3; a++) {
    const w = p.win[a];
    const c = axisCover(p.inSize[a], w);
    const entry = [p.inSize[a], w.out];
    for (const arr of [w.start, w.idx, c.start, c.out, w.total]) {
      entry.push(at());
      for (const v of arr) tables.push(v);
    }
    header.push(...entry);
  }
  const f = new Float32Array(3);
  f.set(scalars.slice(0, 3));
  const words = [...header, ...new Uint32Array(f.buffer), ...tables];
  if (words.length > MAX_WORDS) {
    throw new BackendError(
      `${op}: the window tables of input ${JSON.stringify(shape)} (${words.length} words) exceed the WebGPU parameter block (${MAX_WORDS}); use the cpu backend for this geometry`,
    );
  }
  const outShape = [shape[0], shape[1], ...p.outSize.slice(3 - (shape.length - 2))];
  return { words, outShape, planes: p.planes, inPlane: p.inPlane, outPlane: p.outPlane };
}

/** Shared WGSL: table access and the decomposition of positions into per-axis coordinates. */
export const POOL_WGSL = `
fn hdr(a: u32, f: u32) -> u32 { return params[4u + a * 7u + f]; }
fn tab(a: u32, f: u32, j: u32) -> u32 { return params[hdr(a, f) + j]; }
fn scalar(k: u32) -> f32 { return bitcast<f32>(params[${SCALARS}u + k]); }
fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn isinf_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn bits_(b: u32) -> f32 { return bitcast<f32>(b | (params[0] & 0u)); }
fn realTaps(oz: u32, oy: u32, ox: u32) -> f32 {
  return f32((tab(0u, 2u, oz + 1u) - tab(0u, 2u, oz)) * (tab(1u, 2u, oy + 1u) - tab(1u, 2u, oy)) * (tab(2u, 2u, ox + 1u) - tab(2u, 2u, ox)));
}
fn paddedTaps(oz: u32, oy: u32, ox: u32) -> f32 {
  return f32(tab(0u, 6u, oz) * tab(1u, 6u, oy) * tab(2u, 6u, ox));
}`;

/** Forward prologue: plane, output coordinates, input plane base `ib`. */
export const OUT_POS = `
  let outPlane = params[3];
  let plane = i / outPlane;
  let o = i % outPlane;
  let OH = hdr(1u, 1u); let OW = hdr(2u, 1u);
  let ox = o % OW; let oy = (o / OW) % OH; let oz = o / (OW * OH);
  let H = hdr(1u, 0u); let W = hdr(2u, 0u);
  let ib = plane * params[2];`;

/** Backward prologue: plane, input coordinates, output plane base `ob`. */
export const IN_POS = `
  let inPlane = params[2];
  let plane = i / inPlane;
  let k = i % inPlane;
  let H = hdr(1u, 0u); let W = hdr(2u, 0u);
  let ix = k % W; let iy = (k / W) % H; let iz = k / (W * H);
  let OH = hdr(1u, 1u); let OW = hdr(2u, 1u);
  let ob = plane * params[3];`;

/** Loops over the real taps of output (oz, oy, ox); `k` is the tap's offset in its plane. */
export function taps(body: string): string {
  return `for (var ja = tab(0u, 2u, oz); ja < tab(0u, 2u, oz + 1u); ja++) {
    let tz = tab(0u, 3u, ja);
    for (var jb = tab(1u, 2u, oy); jb < tab(1u, 2u, oy + 1u); jb++) {
      let ty = tab(1u, 3u, jb);
      for (var jc = tab(2u, 2u, ox); jc < tab(2u, 2u, ox + 1u); jc++) {
        let k = (tz * H + ty) * W + tab(2u, 3u, jc);
        ${body}
      }
    }
  }`;
}

/** Loops over the outputs whose windows hold input (iz, iy, ix); `o` is the output's flat index. */
export function cover(body: string): string {
  return `for (var ja = tab(0u, 4u, iz); ja < tab(0u, 4u, iz + 1u); ja++) {
    let cz = tab(0u, 5u, ja);
    for (var jb = tab(1u, 4u, iy); jb < tab(1u, 4u, iy + 1u); jb++) {
      let cy = tab(1u, 5u, jb);
      for (var jc = tab(2u, 4u, ix); jc < tab(2u, 4u, ix + 1u); jc++) {
        let cx = tab(2u, 5u, jc);
        let oo = (cz * OH + cy) * OW + cx;
        let o = ob + oo;
        ${body}
      }
    }
  }`;
}
