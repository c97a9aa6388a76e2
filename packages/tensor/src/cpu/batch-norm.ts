// Batch norm (training mode) of contiguous float32 [N, C, S] data in WebAssembly (wasm/gemm.wat,
// bnForward / bnBackward): SIMD float64 arithmetic in the same order as the JavaScript kernels of
// @softpool/layers, so the bits agree, with channel blocks spread over the worker threads. A
// channel's sums are all made by one thread, so results do not depend on the thread count.
import { output, stage } from './heap.js';
import { activeThreads, runParallel, splitRange } from './threads.js';
import { FN } from './worker-source.js';

/** Values below which one call stays on the calling thread (waking workers costs more). */
const PARALLEL_MIN = 1 << 16;

/** Contiguous channel blocks [c0, c1): one per call when small, else two per thread. */
function channelBlocks(C: number, values: number): [number, number][] {
  return splitRange(C, values < PARALLEL_MIN ? 1 : 2 * activeThreads());
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
  const { bytes, read } = stage([x, output(out.y), gamma, beta, C, C], [eps]);
  const [xB, yB, gB, bB, mB, vB] = bytes;
  const eB = 0; // eps, the staged constant
  runParallel(
    channelBlocks(C, V).map(([c0, c1]) => [FN.bnForward, xB, yB, N, C, S, c0, c1, gB, bB, mB, vB, eB, +relu]),
  );
  read(1, out.y);
  read(4, out.mean);
  read(5, out.variance);
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
  const { bytes, read } = stage([dy, x, output(out.dx), gamma, mean, variance, C, C, reluOut], [eps]);
  const [dyB, xB, dxB, gB, mB, vB, dgB, dbB, yB] = bytes;
  const eB = 0; // eps, the staged constant
  const mask = reluOut ? yB : 0;
  runParallel(
    channelBlocks(C, V).map(([c0, c1]) => [
      FN.bnBackward,
      dyB,
      xB,
      dxB,
      N,
      C,
      S,
      c0,
      c1,
      gB,
      mB,
      vB,
      eB,
      dgB,
      dbB,
      mask,
    ]),
  );
  read(2, out.dx);
  read(6, out.dgamma);
  read(7, out.dbeta);
}
