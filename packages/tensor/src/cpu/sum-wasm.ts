// Large float32 sums in WebAssembly (wasm/gemm.wat: sumOuterInner, sumLeading), split over the
// worker threads, where the kept axes are one block between reduced ones ([A][C][S] summed over
// A and S: whole sums, bias gradients, sums over the batch). The kernel sums 1M floats in about
// 0.45 ms; copying them in costs as much again, so on one thread this gains little over the
// JavaScript loop (1.2-1.4 against 1.4-2.0 ms), more on the threads and on sums over a leading
// axis (0.09 against 0.16 ms for [512,120]). Accumulation is in float64 like the JavaScript loop;
// runs are added in another order (four accumulators), so last bits may differ from it, never
// between thread counts: every channel, and every fixed chunk of a whole sum, is summed by one call.
import { reducedShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { buf, empty } from './backend.js';
import { stage } from './heap.js';
import { activeThreads, runParallel, splitRange } from './threads.js';
import { FN } from './worker-source.js';

/** Below this many elements the JavaScript loop is as fast. */
const MIN = 1 << 14;
/** A whole sum goes in chunks of this many elements (fixed, so the bits do not depend on threads). */
const CHUNK = 1 << 16;

/** `sum(x, axes)` for contiguous float32 x where it pays; undefined otherwise. */
export function wasmSum(x: Tensor, axes: readonly number[], keepDim: boolean): Tensor | undefined {
  if (x.dtype !== 'float32' || !x.isContiguous || x.size < MIN) return undefined;
  const reduced = new Set(axes);
  let i = 0;
  while (i < x.rank && reduced.has(i)) i++;
  let j = x.rank;
  while (j > i && reduced.has(j - 1)) j--;
  for (let k = i; k < j; k++) if (reduced.has(k)) return undefined; // kept axes not one block
  const A = sizeOf(x.shape.slice(0, i));
  const C = sizeOf(x.shape.slice(i, j));
  const S = sizeOf(x.shape.slice(j));
  const n = x.size;
  // A whole sum is the sum of fixed chunks: [1][chunks][CHUNK] plus the tail as one more channel.
  const whole = C === 1;
  const [a, c, s] = whole ? [1, Math.ceil(n / CHUNK), CHUNK] : [A, C, S];
  // The input, then c float64 sums (sumLeading's last vector may read past C: into the sums).
  const { bytes, f32 } = stage([(buf(x) as Float32Array).subarray(x.offset, x.offset + n), 2 * c]);
  const [xB, outB] = bytes;
  const parts = n < 4 * MIN ? 1 : 2 * activeThreads();
  const items: number[][] = [];
  if (whole) {
    const full = Math.floor(n / CHUNK);
    for (const [c0, c1] of splitRange(full, parts))
      if (c1 > c0) items.push([FN.sumOuterInner, xB, outB, 1, full, CHUNK, c0, c1]);
    // The tail: one channel of its own, starting where the full chunks end.
    if (full < c)
      items.push([FN.sumOuterInner, xB + full * CHUNK * 4, outB + 8 * full, 1, 1, n - full * CHUNK, 0, 1]);
  } else if (s === 1) {
    for (const [c0, c1] of splitRange(c, parts, 4))
      if (c1 > c0) items.push([FN.sumLeading, xB, outB, a, c, c0, c1]);
  } else {
    for (const [c0, c1] of splitRange(c, parts))
      if (c1 > c0) items.push([FN.sumOuterInner, xB, outB, a, c, s, c0, c1]);
  }
  runParallel(items);
  const sums = new Float64Array(f32.buffer, outB, c);
  const out = empty(reducedShape(x.shape, [...axes], keepDim), 'float32');
  const o = buf(out);
  if (whole) {
    let total = 0;
    for (let k = 0; k < c; k++) total += sums[k];
    o[0] = total;
  } else o.set(sums);
  return out;
}
