// WGSL pooling programs for any backend that runs them (ShaderBackend), without depending on the
// backend package. Two loops serve every method: TAPS (forward, one thread per output) and COVER
// (backward, one thread per input, gathered: no atomics). Regular windows (kernel, stride,
// padding, dilation, ceil mode) are enumerated arithmetically from per-axis parameters; adaptive
// windows read the window tables of the CPU plan (per axis: the taps of each output, and the
// outputs covering each input), which travel as program parameters. Both visit taps and covering
// outputs in the same ascending order. The arithmetic form matters where every table read is a
// per-thread gather (on lavapipe a tap then cost several table loads).
import { BackendError } from '@softpool/tensor';
import { axisCover, type PoolGeometry } from '../geometry.js';
import { plan } from '../plan.js';

export { shaderBackend, withDense } from '../../shader.js';

/** The largest parameter block (u32 words) a program may carry; adaptive tables above it are refused. */
const MAX_WORDS = 60_000;

// Layout of `params` (u32 words): the backend's own word first (the thread count), then this
// file's: [planes, inPlane, outPlane], per axis (len, out, wStart, wIdx, cStart, cOut, total),
// 3 scalars, the regular-window flag, per axis (kernel, stride, padding, dilation), the tables.
const BACKEND_WORDS = 1;
const IN_PLANE = BACKEND_WORDS + 1;
const OUT_PLANE = BACKEND_WORDS + 2;
/** Index of axis 0's (len, out, wStart, wIdx, cStart, cOut, total). */
const AXES = BACKEND_WORDS + 3;
const AXIS_WORDS = 7;
/** Index of the first scalar parameter (temperature, normType, ...). */
const SCALARS = AXES + 3 * AXIS_WORDS;
/** Index of the regular-window flag, followed by (kernel, stride, padding, dilation) per axis. */
const REGULAR = SCALARS + 3;
/** Index of the first table word. */
const TABLES = REGULAR + 1 + 3 * 4;

/**
 * Parameter words of a pooling call: [planes, inPlane, outPlane, per axis (len, out, wStart,
 * wIdx, cStart, cOut, total) as params indices, 3 scalars, regular flag, per axis (kernel,
 * stride, padding, dilation), then the tables].
 */
export function poolParams(
  op: string,
  shape: readonly number[],
  g: PoolGeometry,
  scalars: number[],
): { words: number[]; outShape: number[]; planes: number; inPlane: number; outPlane: number } {
  // Regular windows: the backward's float quotients are exact below 2^24. Checked before the
  // plan, whose tables for such an input took seconds to build only to be refused.
  if (!g.adaptive && shape.slice(2).some((len) => len + 2 * Math.max(...g.padding) >= 2 ** 24))
    throw new BackendError(
      `${op}: input ${JSON.stringify(shape)} has a spatial size of 2^24 or more, beyond the WebGPU pooling kernels; use the cpu backend`,
    );
  const p = plan(shape, g);
  const header: number[] = [p.planes, p.inPlane, p.outPlane];
  const tables: number[] = [];
  const at = () => TABLES + tables.length;
  for (let a = 0; a < 3; a++) {
    const w = p.win[a];
    const entry = [p.inSize[a], w.out];
    if (g.adaptive) {
      const c = axisCover(p.inSize[a], w);
      for (const arr of [w.start, w.idx, c.start, c.out, w.total]) {
        entry.push(at());
        for (const v of arr) tables.push(v);
      }
    } else {
      entry.push(0, 0, 0, 0, 0); // regular windows need no tables
    }
    header.push(...entry);
  }
  const f = new Float32Array(3);
  f.set(scalars.slice(0, 3));
  // leading axes of 1-D and 2-D inputs: one tap (kernel 1, stride 1, no padding, dilation 1)
  const lead = 3 - g.kernel.length;
  const regular = [0, 1, 2].flatMap((a) =>
    a < lead ? [1, 1, 0, 1] : [g.kernel, g.stride, g.padding, g.dilation].map((v) => v[a - lead]),
  );
  const words = [...header, ...new Uint32Array(f.buffer), g.adaptive ? 0 : 1, ...regular, ...tables];
  if (words.length > MAX_WORDS) {
    throw new BackendError(
      `${op}: the adaptive window tables of input ${JSON.stringify(shape)} (${words.length} words) exceed the WebGPU parameter block (${MAX_WORDS}); use the cpu backend for this geometry`,
    );
  }
  const outShape = [shape[0], shape[1], ...p.outSize.slice(3 - (shape.length - 2))];
  return { words, outShape, planes: p.planes, inPlane: p.inPlane, outPlane: p.outPlane };
}

/**
 * Shared WGSL for one call: table access, the decomposition of positions into per-axis
 * coordinates, and the call's window geometry (regular flag; kernel, stride, padding, dilation per
 * axis) as constants, so that the shader compiler folds them: loop bounds become constants and the
 * divisions by the stride cheap. A geometry is one pipeline (cached by shader text); the sizes stay
 * parameters, so other shapes reuse it.
 */
export function poolWgsl(words: readonly number[]): string {
  // `words` are poolParams' own: the backend's word is not in front of them yet.
  const at = REGULAR - BACKEND_WORDS;
  const rg = words.slice(at + 1, at + 13).map((v) => `${v}u`);
  return `const REGULAR = ${words[at] !== 0};\nconst RG = array<u32, 12>(${rg.join(', ')});\n${POOL_WGSL}`;
}

const POOL_WGSL = `
fn hdr(a: u32, f: u32) -> u32 { return params[${AXES}u + a * ${AXIS_WORDS}u + f]; }
fn tab(a: u32, f: u32, j: u32) -> u32 { return params[hdr(a, f) + j]; }
fn scalar(k: u32) -> f32 { return bitcast<f32>(params[${SCALARS}u + k]); }
fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn isinf_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn bits_(b: u32) -> f32 { return bitcast<f32>(b | (params[0] & 0u)); }
fn regular() -> bool { return REGULAR; }
fn rg(a: u32, f: u32) -> u32 { return RG[a * 4u + f]; }
/** Input coordinate of tap q of output o along axis a (may fall in the padding: < 0 or >= len). */
fn tapAt(a: u32, o: u32, q: u32) -> i32 { return i32(o * rg(a, 1u) + q * rg(a, 3u)) - i32(rg(a, 2u)); }
/** Taps of output o along axis a: (real ones, ones before the far padding ends), as the plan counts. */
fn axisTaps(a: u32, o: u32) -> vec2<u32> {
  if (!regular()) {
    return vec2<u32>(tab(a, 2u, o + 1u) - tab(a, 2u, o), tab(a, 6u, o));
  }
  let len = i32(hdr(a, 0u));
  var n = vec2<u32>(0u, 0u);
  for (var q = 0u; q < rg(a, 0u); q++) {
    let x = tapAt(a, o, q);
    n += vec2<u32>(select(0u, 1u, x >= 0 && x < len), select(0u, 1u, x < len + i32(rg(a, 2u))));
  }
  return n;
}
fn realTaps(oz: u32, oy: u32, ox: u32) -> f32 {
  return f32(axisTaps(0u, oz).x * axisTaps(1u, oy).x * axisTaps(2u, ox).x);
}
/** Average pooling's divisor: the real taps, or with countIncludePad (scalar 0) the padded ones. */
fn avgDivisor(oz: u32, oy: u32, ox: u32) -> f32 {
  let n = axisTaps(0u, oz) * axisTaps(1u, oy) * axisTaps(2u, ox);
  return f32(select(n.x, n.y, scalar(0u) != 0.0));
}
/**
 * n / s for 0 <= n < 2^24, s > 0: a float quotient corrected by one step either way. Integer
 * division has no vector instruction on CPU adapters (lavapipe runs it lane by lane).
 */
fn quot(n: i32, s: i32) -> i32 {
  var o = i32(floor(f32(n) / f32(s)));
  if (o * s > n) { o -= 1; }
  if ((o + 1) * s <= n) { o += 1; }
  return o;
}
/** The output along axis a whose tap q is input i, or -1 when there is none. */
fn coverAt(a: u32, i: u32, q: u32) -> i32 {
  let n = i32(i + rg(a, 2u)) - i32(q * rg(a, 3u));
  let s = i32(rg(a, 1u));
  let o = quot(max(n, 0), s);
  if (n < 0 || o * s != n || o >= i32(hdr(a, 1u))) { return -1; }
  return o;
}`;

/** Forward prologue: plane, output coordinates, input plane base `ib`. */
export const OUT_POS = `
  let outPlane = params[${OUT_PLANE}];
  let plane = i / outPlane;
  let o = i % outPlane;
  let OH = hdr(1u, 1u); let OW = hdr(2u, 1u);
  let ox = o % OW; let oy = (o / OW) % OH; let oz = o / (OW * OH);
  let H = hdr(1u, 0u); let W = hdr(2u, 0u);
  let ib = plane * params[${IN_PLANE}];`;

/** Backward prologue: plane, input coordinates, output plane base `ob`. */
export const IN_POS = `
  let inPlane = params[${IN_PLANE}];
  let plane = i / inPlane;
  let k = i % inPlane;
  let H = hdr(1u, 0u); let W = hdr(2u, 0u);
  let ix = k % W; let iy = (k / W) % H; let iz = k / (W * H);
  let OH = hdr(1u, 1u); let OW = hdr(2u, 1u);
  let ob = plane * params[${OUT_PLANE}];`;

/** Loops over the real taps of output (oz, oy, ox); `k` is the tap's offset in its plane. */
export function taps(body: string): string {
  return `if (regular()) {
  for (var qa = 0u; qa < rg(0u, 0u); qa++) {
    let sz = tapAt(0u, oz, qa);
    if (sz < 0 || sz >= i32(hdr(0u, 0u))) { continue; }
    for (var qb = 0u; qb < rg(1u, 0u); qb++) {
      let sy = tapAt(1u, oy, qb);
      if (sy < 0 || sy >= i32(H)) { continue; }
      for (var qc = 0u; qc < rg(2u, 0u); qc++) {
        let sx = tapAt(2u, ox, qc);
        if (sx < 0 || sx >= i32(W)) { continue; }
        let k = (u32(sz) * H + u32(sy)) * W + u32(sx);
        ${body}
      }
    }
  }
  } else {
  for (var ja = tab(0u, 2u, oz); ja < tab(0u, 2u, oz + 1u); ja++) {
    let tz = tab(0u, 3u, ja);
    for (var jb = tab(1u, 2u, oy); jb < tab(1u, 2u, oy + 1u); jb++) {
      let ty = tab(1u, 3u, jb);
      for (var jc = tab(2u, 2u, ox); jc < tab(2u, 2u, ox + 1u); jc++) {
        let k = (tz * H + ty) * W + tab(2u, 3u, jc);
        ${body}
      }
    }
  }
  }`;
}

/** Loops over the outputs whose windows hold input (iz, iy, ix); `o` is the output's flat index. */
export function cover(body: string): string {
  // regular windows: the tap index q runs downwards so that the covering outputs ascend
  return `if (regular()) {
  for (var qa = i32(rg(0u, 0u)) - 1; qa >= 0; qa--) {
    let sz = coverAt(0u, iz, u32(qa));
    if (sz < 0) { continue; }
    let cz = u32(sz);
    for (var qb = i32(rg(1u, 0u)) - 1; qb >= 0; qb--) {
      let sy = coverAt(1u, iy, u32(qb));
      if (sy < 0) { continue; }
      let cy = u32(sy);
      for (var qc = i32(rg(2u, 0u)) - 1; qc >= 0; qc--) {
        let sx = coverAt(2u, ix, u32(qc));
        if (sx < 0) { continue; }
        let cx = u32(sx);
        let oo = (cz * OH + cy) * OW + cx;
        let o = ob + oo;
        ${body}
      }
    }
  }
  } else {
  for (var ja = tab(0u, 4u, iz); ja < tab(0u, 4u, iz + 1u); ja++) {
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
  }
  }`;
}
