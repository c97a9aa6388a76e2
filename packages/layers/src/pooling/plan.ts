// The pooling plan of an input shape and geometry (spatial rank padded to 3 axes): window tables
// flattened to CSR lists of taps per output and of outputs per input, cached per shape. The CPU
// kernels walk it; WebGPU programs send its adaptive tables as parameters.
import { type AxisWindows, axisWindows, type PoolGeometry } from './geometry.js';

export interface Plan {
  planes: number;
  inSize: [number, number, number];
  outSize: [number, number, number];
  inPlane: number;
  outPlane: number;
  win: [AxisWindows, AxisWindows, AxisWindows];
  /** Real taps and taps including padding, per output position of a plane. */
  count: Int32Array;
  countWithPad: Int32Array;
}

const unit: PoolGeometry = { kernel: [1], stride: [1], padding: [0], dilation: [1], ceilMode: false };
const cache = new Map<string, Plan>();

export function plan(shape: readonly number[], g: PoolGeometry): Plan {
  const key = JSON.stringify([shape, g]);
  const hit = cache.get(key);
  if (hit) return hit;
  const spatial = shape.slice(2);
  const lead = 3 - spatial.length;
  const inSize = [1, 1, 1].map((one, i) => (i < lead ? one : spatial[i - lead])) as [number, number, number];
  const win = inSize.map((len, i) =>
    i < lead ? axisWindows(1, unit, 0) : axisWindows(len, g, i - lead),
  ) as Plan['win'];
  const outSize = win.map((w) => w.out) as [number, number, number];
  const outPlane = outSize[0] * outSize[1] * outSize[2];
  const count = new Int32Array(outPlane);
  const countWithPad = new Int32Array(outPlane);
  const taps = win.map((w) => w.start.subarray(1).map((end, i) => end - w.start[i]));
  let o = 0;
  for (let oz = 0; oz < outSize[0]; oz++)
    for (let oy = 0; oy < outSize[1]; oy++) {
      const real = taps[0][oz] * taps[1][oy];
      const all = win[0].total[oz] * win[1].total[oy];
      for (let ox = 0; ox < outSize[2]; ox++, o++) {
        count[o] = real * taps[2][ox];
        countWithPad[o] = all * win[2].total[ox];
      }
    }
  const p: Plan = {
    planes: shape[0] * shape[1],
    inSize,
    outSize,
    inPlane: inSize[0] * inSize[1] * inSize[2],
    outPlane,
    win,
    count,
    countWithPad,
  };
  if (cache.size > 64) cache.clear();
  cache.set(key, p);
  return p;
}

/**
 * Calls `visit(o, taps)` for every output position of a plane, where `taps` lists the input
 * offsets (within the plane) of its real taps in scan order. The array is reused between calls.
 */
export function forEachWindow(p: Plan, visit: (o: number, taps: Int32Array, n: number) => void): void {
  const [wz, wy, wx] = p.win;
  const [, H, W] = p.inSize;
  const taps = new Int32Array(p.count.reduce((a, b) => Math.max(a, b), 0));
  let o = 0;
  for (let oz = 0; oz < p.outSize[0]; oz++)
    for (let oy = 0; oy < p.outSize[1]; oy++)
      for (let ox = 0; ox < p.outSize[2]; ox++, o++) {
        let n = 0;
        for (let a = wz.start[oz]; a < wz.start[oz + 1]; a++)
          for (let b = wy.start[oy]; b < wy.start[oy + 1]; b++) {
            const row = (wz.idx[a] * H + wy.idx[b]) * W;
            for (let c = wx.start[ox]; c < wx.start[ox + 1]; c++) taps[n++] = row + wx.idx[c];
          }
        visit(o, taps, n);
      }
}

/** Window tables of a plane, flattened once: offsets of each window's taps (CSR over outputs). */
export interface FlatWindows {
  start: Int32Array;
  taps: Int32Array;
}

const flatCache = new WeakMap<Plan, FlatWindows>();

export function flatWindows(p: Plan): FlatWindows {
  let f = flatCache.get(p);
  if (f) return f;
  const start = new Int32Array(p.outPlane + 1);
  const taps = new Int32Array(p.count.reduce((a, b) => a + b, 0));
  let k = 0;
  forEachWindow(p, (o, t, n) => {
    start[o] = k;
    taps.set(t.subarray(0, n), k);
    k += n;
  });
  start[p.outPlane] = k;
  f = { start, taps };
  flatCache.set(p, f);
  return f;
}

/**
 * The inverse, flattened: for each input offset of a plane, the output positions whose windows
 * contain it (the gather form of every backward pass: no scatter, no atomics, deterministic).
 */
export function flatCover(p: Plan): FlatWindows {
  const key = p as unknown as object;
  const cached = coverCache.get(key);
  if (cached) return cached;
  const w = flatWindows(p);
  const counts = new Int32Array(p.inPlane + 1);
  for (let j = 0; j < w.taps.length; j++) counts[w.taps[j] + 1]++;
  for (let i = 0; i < p.inPlane; i++) counts[i + 1] += counts[i];
  const outs = new Int32Array(w.taps.length);
  const fill = counts.slice(0, p.inPlane);
  for (let o = 0; o < p.outPlane; o++)
    for (let j = w.start[o]; j < w.start[o + 1]; j++) outs[fill[w.taps[j]]++] = o;
  const c = { start: counts, taps: outs };
  coverCache.set(key, c);
  return c;
}

const coverCache = new WeakMap<object, FlatWindows>();
