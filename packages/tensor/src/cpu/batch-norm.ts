// Batch norm (training mode) of contiguous float32 [N, C, S] data in WebAssembly (wasm/gemm.wat,
// bnForward / bnBackward): SIMD float64 arithmetic in the same order as the JavaScript kernels of
// @softpool/layers, so the bits agree, with channel blocks spread over the worker threads. A
// channel's sums are all made by one thread, so results do not depend on the thread count.
import { activeThreads, runParallel } from './threads.js';
import { reserve } from './wasm.js';
import { FN } from './worker-source.js';

/** Values below which one call stays on the calling thread (waking workers costs more). */
const PARALLEL_MIN = 1 << 16;

/** Contiguous channel blocks [c0, c1): one per call when small, else two per thread. */
function channelBlocks(C: number, values: number): [number, number][] {
  const parts = values < PARALLEL_MIN ? 1 : Math.min(C, 2 * activeThreads());
  return Array.from({ length: parts }, (_, i) => [
    Math.floor((i * C) / parts),
    Math.floor(((i + 1) * C) / parts),
  ]);
}

/** Word offsets of a call's arrays in WebAssembly memory, in order, from 0. */
function layout(sizes: number[]): { at: number[]; total: number } {
  const at: number[] = [];
  let total = 0;
  for (const n of sizes) {
    at.push(total);
    total += n + (n & 1); // keep every array 8-byte aligned (eps is a float64)
  }
  return { at, total };
}

/**
 * y = (x - mean) / sqrt(var + eps) * gamma + beta per channel of x [N, C, S], with the batch mean
 * and (biased) variance, written into `out`; `relu` stores relu(y) instead (NaN kept).
 */
export function batchNormFloat32(
  x: Float32Array,
  [N, C, S]: [number, number, number],
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
  out: { y: Float32Array; mean: Float32Array; variance: Float32Array },
  relu = false,
): void {
  const V = N * C * S;
  const { at, total } = layout([V, V, C, C, C, C, 2]);
  const [xA, yA, gA, bA, mA, vA, eA] = at;
  const { f32 } = reserve(total);
  f32.set(x, xA);
  f32.set(gamma, gA);
  f32.set(beta, bA);
  new Float64Array(f32.buffer, eA * 4, 1)[0] = eps;
  const b = (w: number) => w * 4;
  runParallel(
    channelBlocks(C, V).map(([c0, c1]) => [
      FN.bnForward,
      b(xA),
      b(yA),
      N,
      C,
      S,
      c0,
      c1,
      b(gA),
      b(bA),
      b(mA),
      b(vA),
      b(eA),
      relu ? 1 : 0,
    ]),
  );
  out.y.set(f32.subarray(yA, yA + V));
  out.mean.set(f32.subarray(mA, mA + C));
  out.variance.set(f32.subarray(vA, vA + C));
}

/**
 * The gradients of `batchNormFloat32` (dx, dgamma, dbeta) from dy, written into `out`. `reluOut`:
 * the forward's output when it was relu(y); dy is then masked by it first, as relu's gradient.
 */
export function batchNormBackwardFloat32(
  dy: Float32Array,
  x: Float32Array,
  [N, C, S]: [number, number, number],
  gamma: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  eps: number,
  out: { dx: Float32Array; dgamma: Float32Array; dbeta: Float32Array },
  reluOut?: Float32Array,
): void {
  const V = N * C * S;
  const { at, total } = layout([V, V, V, C, C, C, C, C, 2, reluOut ? V : 0]);
  const [dyA, xA, dxA, gA, mA, vA, dgA, dbA, eA, yA] = at;
  const { f32 } = reserve(total);
  f32.set(dy, dyA);
  if (reluOut) f32.set(reluOut, yA);
  f32.set(x, xA);
  f32.set(gamma, gA);
  f32.set(mean, mA);
  f32.set(variance, vA);
  new Float64Array(f32.buffer, eA * 4, 1)[0] = eps;
  const b = (w: number) => w * 4;
  runParallel(
    channelBlocks(C, V).map(([c0, c1]) => [
      FN.bnBackward,
      b(dyA),
      b(xA),
      b(dxA),
      N,
      C,
      S,
      c0,
      c1,
      b(gA),
      b(mA),
      b(vA),
      b(eA),
      b(dgA),
      b(dbA),
      reluOut ? b(yA) : 0,
    ]),
  );
  out.dx.set(f32.subarray(dxA, dxA + V));
  out.dgamma.set(f32.subarray(dgA, dgA + C));
  out.dbeta.set(f32.subarray(dbA, dbA + C));
}
