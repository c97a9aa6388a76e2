// The float32 fast path of SoftPool, max and average pooling on the CPU: wasm/pool.wat kernels,
// called one [D*H, W] plane at a time on planes staged in WebAssembly memory a chunk at a time
// (one copy in per input and one out per output for a chunk of planes, not per plane: LeNet-5's
// 5x5 outputs made the per-plane copies cost more than the pooling). Planes lie back to back:
// the kernels may read a few values past a plane (whatever is there only reaches lanes they
// discard) and the forward ones write up to 3 past its last output, which the next plane's call
// overwrites (planes go in order; a guard follows the chunk). Used for regular window geometries; adaptive pooling and
// float64 take the reference kernels. SoftPool with kernel 2 and stride 2 (1-D, 2-D, 3-D) keeps no
// statistics: its backward kernel holds each window's inputs anyway and rebuilds m and s from them
// (the exponentials it needs are the same ones), which saves their memory and copies.
import { cpuData, cpuEmptyUnfilled, readContiguous, type Tensor } from '@softpool/tensor';
import type { PoolGeometry } from '../geometry.js';
import { type Plan, plan } from '../plan.js';
import { outShape } from './common.js';
import { wasmBase64 } from './wasm/pool.gen.js';

interface Kernels {
  memory: WebAssembly.Memory;
  softFwd: (...a: number[]) => void;
  softBwd: (...a: number[]) => void;
  softFwdOne: (...a: number[]) => void;
  softBwdOne: (...a: number[]) => void;
  maxFwd: (...a: number[]) => void;
  maxBwd: (...a: number[]) => void;
  avgFwd: (...a: number[]) => void;
  avgBwd: (...a: number[]) => void;
}

let kernels: Kernels | undefined;
let failed = false;

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The kernels, or undefined while unavailable (browsers refuse synchronous compiles of this size on the main thread; then they compile in the background). */
function load(): Kernels | undefined {
  if (kernels || failed) return kernels;
  const bytes = decode(wasmBase64);
  try {
    kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as Kernels;
  } catch {
    failed = true;
    WebAssembly.instantiate(bytes, {}).then(
      ({ instance }) => {
        kernels = instance.exports as unknown as Kernels;
      },
      () => {},
    );
  }
  return kernels;
}

/** Row geometry of a plan: the tap-row table and the x-axis settings the kernels take. */
interface Rows {
  table: Int32Array;
  nRows: number;
  W: number;
  OW: number;
  sx: number;
  px: number;
  K: number;
  dx: number;
  oxLo: number;
  oxHi: number;
  inv: Float32Array;
  invWithPad: Float32Array;
  /**
   * Every group of 4 windows takes a one-pass kernel-2 stride-2 path (1, 2 or 4 tap rows: 1-D, 2-D
   * or 3-D), whose SoftPool backward rebuilds m, s and y itself; the SoftPool forward runs the
   * dedicated softFwdOne loop.
   */
  onePass: boolean;
  /** Tap rows per output row (the same for all rows when onePass). */
  R: number;
  /** No input row belongs to two output rows: with onePass, no input is in two windows (softBwdOne). */
  disjoint: boolean;
  /** onePass, disjoint, and the windows cover every input: softBwdOne writes every gradient. */
  tiled: boolean;
}

const rowCache = new WeakMap<Plan, Rows>();

function rows(p: Plan, g: PoolGeometry): Rows {
  const hit = rowCache.get(p);
  if (hit) return hit;
  const [wz, wy] = p.win;
  const [, H, W] = p.inSize;
  const table: number[] = [];
  const tapRows = new Set<number>();
  const used = new Set<number>();
  let listed = 0;
  for (let oz = 0; oz < p.outSize[0]; oz++)
    for (let oy = 0; oy < p.outSize[1]; oy++) {
      const offs: number[] = [];
      for (let a = wz.start[oz]; a < wz.start[oz + 1]; a++)
        for (let b = wy.start[oy]; b < wy.start[oy + 1]; b++) offs.push((wz.idx[a] * H + wy.idx[b]) * W);
      table.push(offs.length, ...offs);
      for (const o of offs) used.add(o);
      listed += offs.length;
      tapRows.add(offs.length);
    }
  const n = g.kernel.length;
  const [sx, px, K, dx] = [g.stride[n - 1], g.padding[n - 1], g.kernel[n - 1], g.dilation[n - 1]];
  const OW = p.outSize[2];
  const R = tapRows.size === 1 ? [...tapRows][0] : 0;
  let oxLo = 0;
  while (oxLo < OW && oxLo * sx - px < 0) oxLo++;
  let oxHi = OW;
  while (oxHi > oxLo && (oxHi - 1) * sx - px + (K - 1) * dx >= W) oxHi--;
  const onePass =
    [1, 2, 4].includes(R) && K === 2 && sx === 2 && dx === 1 && oxLo === 0 && oxHi === OW && OW % 4 === 0;
  const r: Rows = {
    table: Int32Array.from(table),
    nRows: p.outSize[0] * p.outSize[1],
    W,
    OW,
    sx,
    px,
    K,
    dx,
    oxLo,
    oxHi,
    inv: Float32Array.from(p.count, (c) => 1 / c),
    invWithPad: Float32Array.from(p.countWithPad, (c) => 1 / c),
    onePass,
    R,
    disjoint: used.size === listed,
    tiled: onePass && used.size === listed && W === 2 * OW && used.size === p.inSize[0] * H,
  };
  rowCache.set(p, r);
  return r;
}

/** Lays out `sizes` (in 4-byte words) in wasm memory with guards; returns word offsets and views. */
function arena(k: Kernels, sizes: number[]): { at: number[]; f32: Float32Array; i32: Int32Array } {
  const GUARD = 64;
  const at: number[] = [];
  let w = GUARD;
  for (const s of sizes) {
    at.push(w);
    w += s + GUARD;
  }
  const bytes = w * 4;
  if (k.memory.buffer.byteLength < bytes)
    k.memory.grow(Math.ceil((bytes - k.memory.buffer.byteLength) / 65536));
  return { at, f32: new Float32Array(k.memory.buffer), i32: new Int32Array(k.memory.buffer) };
}

/** Planes per chunk: about 4 Mi words (16 MiB) of input, at least one plane. */
function planeChunks(planes: number, inPlane: number): [number, number][] {
  const per = Math.max(1, Math.floor((4 << 20) / Math.max(1, inPlane)));
  const out: [number, number][] = [];
  for (let p0 = 0; p0 < planes; p0 += per) out.push([p0, Math.min(planes, p0 + per)]);
  return out;
}

/** True when the fast path applies: float32, a regular geometry, and the module is ready. */
export function wasmReady(x: Tensor, g: PoolGeometry): boolean {
  return x.dtype === 'float32' && !g.adaptive && load() !== undefined;
}

function common(r: Rows, at: number, table: number): number[] {
  return [at * 4, r.W, table * 4, r.nRows, r.OW, r.sx, r.px, r.K, r.dx, r.oxLo, r.oxHi];
}

/** [y, m, s], or [y] alone when `stats` is false or the backward rebuilds m and s (onePass). */
export function softPoolForwardWasm(
  x: Tensor,
  g: PoolGeometry,
  temperature: number,
  stats: boolean,
): Tensor[] {
  const k = load()!;
  const p = plan(x.shape, g);
  const r = rows(p, g);
  const a = readContiguous(x);
  const count = stats && !r.onePass ? 3 : 1;
  const outs = Array.from({ length: count }, () => cpuEmptyUnfilled(outShape(x, p), 'float32'));
  const [y, m, s] = outs.map(cpuData);
  const [I, O] = [p.inPlane, p.outPlane];
  for (const [p0, p1] of planeChunks(p.planes, I)) {
    const n = p1 - p0;
    const { at, f32, i32 } = arena(k, [n * I, n * O, n * O, n * O, r.table.length]);
    i32.set(r.table, at[4]);
    f32.set(a.subarray(p0 * I, p1 * I), at[0]);
    for (let q = 0; q < n; q++) {
      const [xq, oq] = [at[0] + q * I, q * O];
      if (r.onePass)
        k.softFwdOne(xq * 4, at[4] * 4, r.nRows, r.OW, r.R, (at[1] + oq) * 4, 1 / temperature, temperature);
      else
        k.softFwd(
          ...common(r, xq, at[4]),
          (at[1] + oq) * 4,
          (at[2] + oq) * 4,
          (at[3] + oq) * 4,
          1 / temperature,
          temperature,
        );
    }
    y.set(f32.subarray(at[1], at[1] + n * O), p0 * O);
    m?.set(f32.subarray(at[2], at[2] + n * O), p0 * O);
    s?.set(f32.subarray(at[3], at[3] + n * O), p0 * O);
  }
  return outs;
}

export function softPoolBackwardWasm(
  grad: Tensor,
  x: Tensor,
  stats: Tensor[],
  g: PoolGeometry,
  temperature: number,
  exact: boolean,
): Tensor {
  const k = load()!;
  const p = plan(x.shape, g);
  const r = rows(p, g);
  if (!r.onePass && stats.length !== 3)
    throw new Error('softPoolBackward: the forward statistics are missing (internal error)');
  const [a, gy, y, m, s] = [x, grad, ...stats].map(readContiguous);
  const out = cpuEmptyUnfilled(x.shape, 'float32');
  const dx = cpuData(out);
  const [I, O] = [p.inPlane, p.outPlane];
  for (const [p0, p1] of planeChunks(p.planes, I)) {
    const n = p1 - p0;
    const { at, f32, i32 } = arena(k, [n * I, n * O, n * O, n * O, n * O, n * I, r.table.length]);
    i32.set(r.table, at[6]);
    f32.set(a.subarray(p0 * I, p1 * I), at[0]);
    f32.set(gy.subarray(p0 * O, p1 * O), at[1]);
    if (!r.onePass) {
      f32.set(y.subarray(p0 * O, p1 * O), at[2]);
      f32.set(m.subarray(p0 * O, p1 * O), at[3]);
      f32.set(s.subarray(p0 * O, p1 * O), at[4]);
    }
    if (!r.tiled) f32.fill(0, at[5], at[5] + n * I);
    for (let q = 0; q < n; q++) {
      const [xq, oq, dq] = [at[0] + q * I, q * O, (at[5] + q * I) * 4];
      if (r.onePass && r.disjoint)
        k.softBwdOne(
          xq * 4,
          at[6] * 4,
          r.nRows,
          r.OW,
          r.R,
          (at[1] + oq) * 4,
          1 / temperature,
          exact ? 1 : 0,
          dq,
        );
      else
        k.softBwd(
          ...common(r, xq, at[6]),
          (at[1] + oq) * 4,
          (at[2] + oq) * 4,
          (at[3] + oq) * 4,
          (at[4] + oq) * 4,
          1 / temperature,
          exact ? 1 : 0,
          dq,
        );
    }
    dx.set(f32.subarray(at[5], at[5] + n * I), p0 * I);
  }
  return out;
}

export function maxPoolForwardWasm(x: Tensor, g: PoolGeometry): Tensor[] {
  const k = load()!;
  const p = plan(x.shape, g);
  const r = rows(p, g);
  const a = readContiguous(x);
  const yT = cpuEmptyUnfilled(outShape(x, p), 'float32');
  const iT = cpuEmptyUnfilled(outShape(x, p), 'int32');
  const [y, idx] = [cpuData(yT), cpuData(iT) as Int32Array];
  const [I, O] = [p.inPlane, p.outPlane];
  for (const [p0, p1] of planeChunks(p.planes, I)) {
    const n = p1 - p0;
    const { at, f32, i32 } = arena(k, [n * I, n * O, n * O, r.table.length]);
    i32.set(r.table, at[3]);
    f32.set(a.subarray(p0 * I, p1 * I), at[0]);
    for (let q = 0; q < n; q++)
      k.maxFwd(...common(r, at[0] + q * I, at[3]), (at[1] + q * O) * 4, (at[2] + q * O) * 4);
    y.set(f32.subarray(at[1], at[1] + n * O), p0 * O);
    idx.set(i32.subarray(at[2], at[2] + n * O), p0 * O);
  }
  return [yT, iT];
}

export function maxPoolBackwardWasm(
  grad: Tensor,
  inputShape: readonly number[],
  indices: Tensor,
  g: PoolGeometry,
): Tensor {
  const k = load()!;
  const p = plan(inputShape, g);
  const gy = readContiguous(grad);
  const idx = readContiguous(indices) as Int32Array;
  const out = cpuEmptyUnfilled(inputShape, 'float32');
  const dx = cpuData(out);
  const [I, O] = [p.inPlane, p.outPlane];
  for (const [p0, p1] of planeChunks(p.planes, I)) {
    const n = p1 - p0;
    const { at, f32, i32 } = arena(k, [n * O, n * O, n * I]);
    f32.set(gy.subarray(p0 * O, p1 * O), at[0]);
    i32.set(idx.subarray(p0 * O, p1 * O), at[1]);
    f32.fill(0, at[2], at[2] + n * I);
    for (let q = 0; q < n; q++) k.maxBwd((at[0] + q * O) * 4, (at[1] + q * O) * 4, O, (at[2] + q * I) * 4);
    dx.set(f32.subarray(at[2], at[2] + n * I), p0 * I);
  }
  return out;
}

export function avgPoolForwardWasm(x: Tensor, g: PoolGeometry, countIncludePad: boolean): Tensor {
  const k = load()!;
  const p = plan(x.shape, g);
  const r = rows(p, g);
  const a = readContiguous(x);
  const yT = cpuEmptyUnfilled(outShape(x, p), 'float32');
  const y = cpuData(yT);
  const [I, O] = [p.inPlane, p.outPlane];
  for (const [p0, p1] of planeChunks(p.planes, I)) {
    const n = p1 - p0;
    const { at, f32, i32 } = arena(k, [n * I, O, n * O, r.table.length]);
    i32.set(r.table, at[3]);
    f32.set(countIncludePad ? r.invWithPad : r.inv, at[1]);
    f32.set(a.subarray(p0 * I, p1 * I), at[0]);
    for (let q = 0; q < n; q++) k.avgFwd(...common(r, at[0] + q * I, at[3]), at[1] * 4, (at[2] + q * O) * 4);
    y.set(f32.subarray(at[2], at[2] + n * O), p0 * O);
  }
  return yT;
}

export function avgPoolBackwardWasm(
  grad: Tensor,
  inputShape: readonly number[],
  g: PoolGeometry,
  countIncludePad: boolean,
): Tensor {
  const k = load()!;
  const p = plan(inputShape, g);
  const r = rows(p, g);
  const gy = readContiguous(grad);
  const out = cpuEmptyUnfilled(inputShape, 'float32');
  const dx = cpuData(out);
  const [I, O] = [p.inPlane, p.outPlane];
  for (const [p0, p1] of planeChunks(p.planes, I)) {
    const n = p1 - p0;
    const { at, f32, i32 } = arena(k, [n * O, O, n * I, r.table.length]);
    i32.set(r.table, at[3]);
    f32.set(countIncludePad ? r.invWithPad : r.inv, at[1]);
    f32.set(gy.subarray(p0 * O, p1 * O), at[0]);
    f32.fill(0, at[2], at[2] + n * I);
    // The input plane itself is not read: the gradient plane is the row base for addressing.
    for (let q = 0; q < n; q++)
      k.avgBwd(...common(r, at[2] + q * I, at[3]), (at[0] + q * O) * 4, at[1] * 4, (at[2] + q * I) * 4);
    dx.set(f32.subarray(at[2], at[2] + n * I), p0 * I);
  }
  return out;
}
