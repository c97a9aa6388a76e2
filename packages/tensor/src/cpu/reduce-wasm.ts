// Large float32 reductions in WebAssembly (wasm/gemm.wat: reduceOuterInner, reduceLeading,
// argReduce), split over the worker threads.
//
// sum, prod, max and min where the kept axes are one block between reduced ones, or two blocks the
// first of which leads ([K][A][C][S] reduced over A and S: whole reductions, bias gradients,
// reductions over the batch, the channels or the last axis). The sum kernel sums 1M floats in
// about 0.45 ms; copying them in costs as much again, so on one thread a sum gains little over
// the JavaScript loop (1.2-1.4 against 1.4-2.0 ms), more on the threads and over a leading axis
// (0.09 against 0.16 ms for [512,120]). Sums accumulate in float64 like the JavaScript loop but
// add runs in another order (four accumulators), so last bits may differ from it, never between
// thread counts: every channel, and every fixed chunk of a whole reduction, is reduced by one
// call. prod, max and min (and argmax, argmin along one axis) give exactly the JavaScript loop's
// results, NaN and the sign of a zero included (see the kernels' comments).
import { reducedShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { buf, empty } from './backend.js';
import { stage } from './heap.js';
import { elementsOf } from './map-wasm.js';
import { activeThreads, runParallel, splitRange } from './threads.js';
import { FN } from './worker-source.js';

/** Below this many elements the JavaScript loop is as fast. */
const MIN = { sum: 1 << 14, prod: 1 << 14, max: 1 << 11, min: 1 << 11, arg: 1 << 11 };
/** From this many elements the work is split over the threads. */
const PARALLEL_MIN = 1 << 16;
/** A whole reduction goes in chunks of this many elements (fixed, so the bits do not depend on threads). */
const CHUNK = 1 << 16;
const OPS = { sum: 0, max: 1, min: 2, prod: 3 } as const;

/** The contiguous float32 elements of x when a kernel may take it (else undefined). */
const floats = (x: Tensor, min: number) =>
  x.size >= min ? elementsOf<Float32Array>(x, 'float32') : undefined;

/** `op(x, axes)` for contiguous float32 x where it pays; undefined otherwise. */
export function wasmReduce(
  op: keyof typeof OPS,
  x: Tensor,
  axes: readonly number[],
  keepDim: boolean,
): Tensor | undefined {
  const xs = floats(x, MIN[op]);
  if (!xs) return undefined;
  // Kept axes in at most two blocks, the first leading: [K][A][C][S] reduced over A and S, with
  // one [A][C][S] reduction per k (K = 1 where the kept axes are one block).
  const reduced = x.shape.map((_, d) => axes.includes(d));
  const blocks: number[] = []; // where each run of kept or reduced axes ends
  for (let d = 1; d <= x.rank; d++) if (d === x.rank || reduced[d] !== reduced[d - 1]) blocks.push(d);
  const keptRuns = [0, ...blocks.slice(0, -1)].filter((start) => !reduced[start]).length;
  if (keptRuns > 2 || (keptRuns === 2 && reduced[0])) return undefined;
  const k1 = keptRuns === 2 ? blocks[0] : 0; // K = shape[0, k1)
  let i = k1;
  while (i < x.rank && reduced[i]) i++;
  let j = x.rank;
  while (j > i && reduced[j - 1]) j--;
  const K = sizeOf(x.shape.slice(0, k1));
  const A = sizeOf(x.shape.slice(k1, i));
  const C = sizeOf(x.shape.slice(i, j));
  const S = sizeOf(x.shape.slice(j));
  const n = x.size;
  const code = OPS[op];
  // A whole reduction is one of fixed chunks: [1][chunks][CHUNK] plus the tail as one more
  // channel. Not for products: chunks would change their rounding, and one chain of float64
  // multiplications runs no faster here than in the JavaScript loop.
  const whole = C === 1 && K === 1;
  if (whole && op === 'prod') return undefined;
  const [a, c, s] = whole ? [1, Math.ceil(n / CHUNK), CHUNK] : [A, C, S];
  const parts = n < PARALLEL_MIN ? 1 : 2 * activeThreads();
  // The input, then K * c float64 results (reduceLeading's last vector may read past C: into them).
  const { bytes, f32 } = stage([xs, 2 * K * c]);
  const [xB, outB] = bytes;
  const items: number[][] = [];
  if (whole) {
    const full = Math.floor(n / CHUNK);
    for (const [c0, c1] of splitRange(full, parts))
      if (c1 > c0) items.push([FN.reduceOuterInner, code, xB, outB, 0, 1, 1, full, CHUNK, c0, c1]);
    // The tail: one channel of its own, starting where the full chunks end.
    const tail = n - full * CHUNK;
    if (full < c)
      items.push([FN.reduceOuterInner, code, xB + 4 * full * CHUNK, outB + 8 * full, 0, 1, 1, 1, tail, 0, 1]);
  } else {
    // Split the leading block where it is large enough, else the channels.
    const [kParts, cParts] = K >= parts ? [parts, 1] : [1, parts];
    for (const [k0, k1] of splitRange(K, kParts))
      for (const [c0, c1] of splitRange(c, cParts, s === 1 ? 4 : 1))
        if (c1 > c0 && k1 > k0)
          items.push(
            s === 1
              ? [FN.reduceLeading, code, xB, outB, k0, k1, a, c, c0, c1]
              : [FN.reduceOuterInner, code, xB, outB, k0, k1, a, c, s, c0, c1],
          );
  }
  runParallel(items);
  const results = new Float64Array(f32.buffer, outB, K * c);
  const out = empty(reducedShape(x.shape, [...axes], keepDim), 'float32');
  const o = buf(out);
  if (!whole) o.set(results);
  else if (op === 'sum') {
    let total = 0;
    for (let k = 0; k < c; k++) total += results[k];
    o[0] = total;
  } else {
    // The chunks' results in order, combined as the loop combines values (reduce.ts: REDUCERS).
    let acc = results[0];
    for (let k = 1; k < c; k++) {
      const v = results[k];
      if ((op === 'max' ? v > acc : v < acc) || Number.isNaN(v)) acc = v;
    }
    o[0] = acc;
  }
  return out;
}

/** argmax (argmin) along `axis` of contiguous float32 x where it pays; undefined otherwise. */
export function wasmArgReduce(
  x: Tensor,
  axis: number,
  keepDim: boolean,
  greater: boolean,
): Tensor | undefined {
  const xs = floats(x, MIN.arg);
  if (!xs) return undefined;
  const n = x.shape[axis];
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outer = sizeOf(x.shape.slice(0, axis));
  const out = empty(reducedShape(x.shape, [axis], keepDim), 'int32');
  const { bytes, f32 } = stage([xs, outer * inner]);
  const parts = x.size < PARALLEL_MIN ? 1 : 2 * activeThreads();
  // Rows split over the threads; few rows of many columns split their columns (in whole vectors).
  const aParts = Math.min(outer, parts);
  const iParts = inner === 1 ? 1 : Math.min(Math.ceil(inner / 4), Math.ceil(parts / aParts));
  const items: number[][] = [];
  for (const [a0, a1] of splitRange(outer, aParts))
    for (const [i0, i1] of splitRange(inner, iParts, 4))
      if (a1 > a0 && i1 > i0)
        items.push([FN.argReduce, greater ? 0 : 1, bytes[0], bytes[1], n, inner, a0, a1, i0, i1]);
  runParallel(items);
  buf(out).set(new Int32Array(f32.buffer, bytes[1], outer * inner));
  return out;
}
