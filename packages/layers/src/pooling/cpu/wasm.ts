// The float32 fast path of SoftPool, max and average pooling on the CPU: wasm/pool.wat kernels,
// run on the CPU worker threads of @softpool/tensor (registerCpuKernels) in its shared memory.
// Planes are staged a chunk at a time (one copy in per input and one out per output for a chunk,
// not per plane: LeNet-5's 5x5 outputs made per-plane copies cost more than the pooling), and
// each work item pools a range of planes laid out back to back. The kernels may read a few values
// past a plane (whatever is there reaches only lanes they discard) and some backward ones add 0
// (or -0) past a row's windows: so each item's planes get their own stretch of memory with a
// guard after it, and no two threads ever touch one address. Outputs that a kernel writes
// exactly (the forward passes', max pooling's gradient scatter) are written in place when their
// storage lives in the memory (resident tensors, float32 and int32). Every plane is pooled
// by one call in a fixed order, so results do not depend on the thread count. Used for regular
// window geometries; adaptive pooling and float64 take the reference kernels. SoftPool with
// kernel 2 and stride 2 (1-D, 2-D, 3-D) keeps no statistics: its backward kernel holds each
// window's inputs anyway and rebuilds m and s from them (the exponentials it needs are the same
// ones), which saves their memory and copies.
import {
  cpuAddress,
  cpuData,
  cpuEmptyUnfilled,
  cpuFill,
  cpuInfo,
  cpuMemory,
  readContiguous,
  registerCpuKernels,
  runCpuKernels,
  type Tensor,
  type TypedArray,
} from '@softpool/tensor';
import type { PoolGeometry } from '../geometry.js';
import { type Plan, plan } from '../plan.js';
import { outShape } from './common.js';
import { wasmBase64, wasmSharedBase64 } from './wasm/pool.gen.js';

/** Argument counts of the exports: the per-plane function's, then planes, inStride, outStride. */
const ARITY = {
  softFwd: 19,
  softBwd: 21,
  softFwdOne: 11,
  softBwdOne: 12,
  maxFwd: 16,
  maxBwd: 7,
  avgFwd: 16,
  avgBwd: 17,
};
type Kernel = keyof typeof ARITY;

/** The exports' kernel numbers for runCpuKernels, once the module is registered. */
let fn: Record<Kernel, number> | undefined;
let failed = false;

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Registers the kernels with the CPU threads, or returns undefined while they are unavailable
 * (browsers refuse synchronous compiles of this size on the main thread; then the module compiles
 * in the background and the reference kernels run meanwhile).
 */
function load(): Record<Kernel, number> | undefined {
  if (fn || failed) return fn;
  const memory = cpuMemory();
  const bytes = decode(cpuInfo().sharedMemory ? wasmSharedBase64 : wasmBase64);
  const imports = { env: { memory } };
  const register = (module: WebAssembly.Module, instance: WebAssembly.Instance) => {
    fn = registerCpuKernels(module, instance.exports, ARITY) as Record<Kernel, number>;
  };
  try {
    const module = new WebAssembly.Module(bytes);
    register(module, new WebAssembly.Instance(module, imports));
  } catch {
    failed = true;
    WebAssembly.instantiate(bytes, imports).then(
      ({ module, instance }) => register(module, instance),
      () => {},
    );
  }
  return fn;
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
   * or 3-D; a row's last group with its lanes past OW masked), whose SoftPool backward rebuilds m,
   * s and y itself: the SoftPool forward keeps no statistics.
   */
  statless: boolean;
  /** statless, and rows whole groups (OW a multiple of 4): the dedicated softFwdOne loop. */
  onePass: boolean;
  /** Tap rows per output row (the same for all rows when onePass). */
  R: number;
  /** No input row belongs to two output rows: with onePass, no input is in two windows (softBwdOne). */
  disjoint: boolean;
  /** onePass, disjoint, and the windows cover every input: softBwdOne writes every gradient. */
  tiled: boolean;
}

const rowCache = new WeakMap<Plan, Rows>();

/** 1 / c of every count, in a plain loop (Float32Array.from with a function took seconds for 2^22). */
function reciprocals(counts: Int32Array): Float32Array {
  const out = new Float32Array(counts.length);
  for (let i = 0; i < counts.length; i++) out[i] = 1 / counts[i];
  return out;
}

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
  const statless = [1, 2, 4].includes(R) && K === 2 && sx === 2 && dx === 1 && oxLo === 0 && oxHi === OW;
  const onePass = statless && OW % 4 === 0;
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
    inv: reciprocals(p.count),
    invWithPad: reciprocals(p.countWithPad),
    statless,
    onePass,
    R,
    disjoint: used.size === listed,
    tiled: onePass && used.size === listed && W === 2 * OW && used.size === p.inSize[0] * H,
  };
  rowCache.set(p, r);
  return r;
}

/** Words after each staged stretch: reads and writes past a plane stay inside it. */
const GUARD = 64;

/** Planes per chunk: about 4 Mi words (16 MiB) of input, at least one plane. */
function planeChunks(planes: number, inPlane: number): [number, number][] {
  const per = Math.max(1, Math.floor((4 << 20) / Math.max(1, inPlane)));
  const out: [number, number][] = [];
  for (let p0 = 0; p0 < planes; p0 += per) out.push([p0, Math.min(planes, p0 + per)]);
  return out;
}

/** Values from which a chunk's planes are split over the threads. */
const PARALLEL_MIN = 1 << 15;

/**
 * One array of a call: `plane` words per plane (or a fixed table when `fixed`), copied in from
 * `from` (per-plane data of every plane, or the table), zero-filled when `zero`, copied out to
 * `to` when given.
 */
interface Staged {
  plane: number;
  from?: TypedArray;
  to?: TypedArray;
  zero?: boolean;
  fixed?: boolean;
  /**
   * The kernel writes exactly this output's elements (no lane past a plane's last one), so a `to`
   * that lives in the memory is written where it is: items' stretches need no guard between them.
   */
  exact?: boolean;
}

/**
 * Runs `call` over the planes of `p` a chunk at a time: stages the arrays (inputs that live in
 * the memory already are read in place: kernels never write inputs), splits the chunk's
 * planes into ranges (one work item each, its stretch of every per-plane array followed by a
 * guard), runs the items on the CPU threads and copies the outputs out. `call(at, planes)` gets
 * the byte address of each array's first plane for the item and returns the item's call.
 */
function runPlanes(p: Plan, arrays: Staged[], call: (at: number[], planes: number) => number[]): void {
  const memory = cpuMemory();
  for (const [c0, c1] of planeChunks(p.planes, p.inPlane)) {
    const n = c1 - c0;
    const parts = n * p.inPlane < PARALLEL_MIN ? 1 : Math.min(n, 2 * cpuInfo().threads);
    const ranges = Array.from({ length: parts }, (_, i) => [
      Math.floor((i * n) / parts),
      Math.floor(((i + 1) * n) / parts),
    ]);
    // Word offsets: a guard first, then each array's stretches (item i's at q0*plane + i*GUARD).
    // Inputs already in the memory (tensor storage there, see cpuAddress) are read where they are,
    // and exactly written outputs there are written in place.
    const inPlace = arrays.map((a) =>
      a.fixed ? undefined : a.from ? cpuAddress(a.from) : a.to && a.exact ? cpuAddress(a.to) : undefined,
    );
    const base: number[] = [];
    let w = GUARD;
    arrays.forEach((a, k) => {
      const at = inPlace[k];
      base.push(at === undefined ? w : at / 4 + c0 * a.plane);
      if (at === undefined) w += a.fixed ? a.plane + GUARD : n * a.plane + parts * GUARD;
    });
    if (memory.buffer.byteLength < w * 4) memory.grow(Math.ceil((w * 4 - memory.buffer.byteLength) / 65536));
    const f32 = new Float32Array(memory.buffer);
    const i32 = new Int32Array(memory.buffer);
    const view = (a: Staged) => (a.from instanceof Int32Array || a.to instanceof Int32Array ? i32 : f32);
    const start = (k: number, i: number) =>
      base[k] +
      (arrays[k].fixed ? 0 : ranges[i][0] * arrays[k].plane + (inPlace[k] === undefined ? i * GUARD : 0));
    arrays.forEach((a, k) => {
      if (inPlace[k] !== undefined) {
        if (a.zero) cpuFill(f32, 0, base[k], base[k] + n * a.plane);
        return;
      }
      if (a.fixed) {
        if (a.from) view(a).set(a.from, base[k]);
        return;
      }
      ranges.forEach(([q0, q1], i) => {
        const at = start(k, i);
        if (a.from) view(a).set(a.from.subarray((c0 + q0) * a.plane, (c0 + q1) * a.plane), at);
        else if (a.zero) cpuFill(f32, 0, at, at + (q1 - q0) * a.plane);
      });
    });
    runCpuKernels(
      ranges.map(([q0, q1], i) =>
        call(
          arrays.map((_, k) => start(k, i) * 4),
          q1 - q0,
        ),
      ),
    );
    arrays.forEach((a, k) => {
      if (!a.to || a.fixed || inPlace[k] !== undefined) return;
      ranges.forEach(([q0, q1], i) => {
        const at = start(k, i);
        a.to!.set(view(a).subarray(at, at + (q1 - q0) * a.plane), (c0 + q0) * a.plane);
      });
    });
  }
}

/** A float's bits as an int (the threads pass integer arguments). */
function bits(v: number): number {
  return new Int32Array(new Float32Array([v]).buffer)[0];
}

/** True when the fast path applies: float32, a regular geometry, and the module is ready. */
export function wasmReady(x: Tensor, g: PoolGeometry): boolean {
  return x.dtype === 'float32' && !g.adaptive && load() !== undefined;
}

/** The row arguments every windowed kernel takes, for input plane address `x` and table address `table` (bytes). */
function common(r: Rows, x: number, table: number): number[] {
  return [x, r.W, table, r.nRows, r.OW, r.sx, r.px, r.K, r.dx, r.oxLo, r.oxHi];
}

/** [y, m, s], or [y] alone when `stats` is false or the backward rebuilds m and s (statless). */
export function softPoolForwardWasm(
  x: Tensor,
  g: PoolGeometry,
  temperature: number,
  stats: boolean,
): Tensor[] {
  const k = load()!;
  const p = plan(x.shape, g);
  const r = rows(p, g);
  const count = stats && !r.statless ? 3 : 1;
  const outs = Array.from({ length: count }, () => cpuEmptyUnfilled(outShape(x, p), 'float32'));
  const [y, m, s] = outs.map(cpuData);
  const [I, O] = [p.inPlane, p.outPlane];
  const [invT, T] = [bits(1 / temperature), bits(temperature)];
  runPlanes(
    p,
    [
      { plane: I, from: readContiguous(x) },
      { plane: r.table.length, from: r.table, fixed: true },
      { plane: O, to: y, exact: true },
      { plane: O, to: m, exact: true },
      { plane: O, to: s, exact: true },
    ],
    ([xa, ta, ya, ma, sa], planes) =>
      r.onePass
        ? [k.softFwdOne, xa, ta, r.nRows, r.OW, r.R, ya, invT, T, planes, I * 4, O * 4]
        : [k.softFwd, ...common(r, xa, ta), ya, ma, sa, invT, T, planes, I * 4, O * 4],
  );
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
  if (!r.statless && stats.length !== 3)
    throw new Error('softPoolBackward: the forward statistics are missing (internal error)');
  // Without statistics (statless) the kernel reads none: m and s get scratch.
  const [a, gy, y, m, s] = [x, grad, ...stats].map(readContiguous);
  const out = cpuEmptyUnfilled(x.shape, 'float32');
  const [I, O] = [p.inPlane, p.outPlane];
  const [invT, ex] = [bits(1 / temperature), exact ? 1 : 0];
  runPlanes(
    p,
    [
      { plane: I, from: a },
      { plane: r.table.length, from: r.table, fixed: true },
      { plane: O, from: gy },
      { plane: O, from: y },
      { plane: O, from: m },
      { plane: O, from: s },
      { plane: I, to: cpuData(out), zero: !r.tiled },
    ],
    ([xa, ta, ga, ya, ma, sa, da], planes) =>
      r.onePass && r.disjoint
        ? [k.softBwdOne, xa, ta, r.nRows, r.OW, r.R, ga, invT, ex, da, planes, I * 4, O * 4]
        : [k.softBwd, ...common(r, xa, ta), ga, ya, ma, sa, invT, ex, da, planes, I * 4, O * 4],
  );
  return out;
}

export function maxPoolForwardWasm(x: Tensor, g: PoolGeometry): Tensor[] {
  const k = load()!;
  const p = plan(x.shape, g);
  const r = rows(p, g);
  const yT = cpuEmptyUnfilled(outShape(x, p), 'float32');
  const iT = cpuEmptyUnfilled(outShape(x, p), 'int32');
  const [I, O] = [p.inPlane, p.outPlane];
  runPlanes(
    p,
    [
      { plane: I, from: readContiguous(x) },
      { plane: r.table.length, from: r.table, fixed: true },
      { plane: O, to: cpuData(yT), exact: true },
      { plane: O, to: cpuData(iT), exact: true },
    ],
    ([xa, ta, ya, ia], planes) => [k.maxFwd, ...common(r, xa, ta), ya, ia, planes, I * 4, O * 4],
  );
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
  const out = cpuEmptyUnfilled(inputShape, 'float32');
  const [I, O] = [p.inPlane, p.outPlane];
  runPlanes(
    p,
    [
      { plane: O, from: readContiguous(grad) },
      { plane: O, from: readContiguous(indices) },
      { plane: I, to: cpuData(out), zero: true, exact: true },
    ],
    ([ga, ia, da], planes) => [k.maxBwd, ga, ia, O, da, planes, I * 4, O * 4],
  );
  return out;
}

export function avgPoolForwardWasm(x: Tensor, g: PoolGeometry, countIncludePad: boolean): Tensor {
  const k = load()!;
  const p = plan(x.shape, g);
  const r = rows(p, g);
  const yT = cpuEmptyUnfilled(outShape(x, p), 'float32');
  const [I, O] = [p.inPlane, p.outPlane];
  runPlanes(
    p,
    [
      { plane: I, from: readContiguous(x) },
      { plane: r.table.length, from: r.table, fixed: true },
      { plane: O, from: countIncludePad ? r.invWithPad : r.inv, fixed: true },
      { plane: O, to: cpuData(yT), exact: true },
    ],
    ([xa, ta, va, ya], planes) => [k.avgFwd, ...common(r, xa, ta), va, ya, planes, I * 4, O * 4],
  );
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
  const out = cpuEmptyUnfilled(inputShape, 'float32');
  const [I, O] = [p.inPlane, p.outPlane];
  // The input plane itself is not read: the gradient plane is the row base for addressing.
  runPlanes(
    p,
    [
      { plane: O, from: readContiguous(grad) },
      { plane: r.table.length, from: r.table, fixed: true },
      { plane: O, from: countIncludePad ? r.invWithPad : r.inv, fixed: true },
      { plane: I, to: cpuData(out), zero: true },
    ],
    ([ga, ta, va, da], planes) => [k.avgBwd, ...common(r, da, ta), ga, va, da, planes, I * 4, O * 4],
  );
  return out;
}
