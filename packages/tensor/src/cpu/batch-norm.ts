// Batch norm (training mode) of contiguous float32 [N, C, S] data in WebAssembly (wasm/gemm.wat,
// bnForward / bnBackward): SIMD float64 arithmetic in the same order as the JavaScript kernels of
// @softpool/layers, so the bits agree, with channel blocks spread over the worker threads. A
// channel's sums are all made by one thread, so results do not depend on the thread count.
import { activeThreads, runParallel, splitRange } from './threads.js';
import { reserve } from './wasm.js';
import { FN } from './worker-source.js';

/** Values below which one call stays on the calling thread (waking workers costs more). */
const PARALLEL_MIN = 1 << 16;

/** Contiguous channel blocks [c0, c1): one per call when small, else two per thread. */
function channelBlocks(C: number, values: number): [number, number][] {
  return splitRange(C, values < PARALLEL_MIN ? 1 : 2 * activeThreads());
}

/**
 * Lays out a call's arrays in WebAssembly memory from 0, each 8-byte aligned, then `eps` as a
 * float64: an array entry is copied in, a number reserves that many words (an output), undefined
 * reserves none. Returns the byte address of each entry (eps last) and a reader of the outputs.
 */
function stage(entries: (Float32Array | number | undefined)[], eps: number) {
  const words: number[] = [];
  let total = 0;
  for (const e of [...entries, 2]) {
    const n = typeof e === 'number' ? e : (e?.length ?? 0);
    words.push(total);
    total += n + (n & 1);
  }
  const { f32 } = reserve(total);
  entries.forEach((e, i) => {
    if (e instanceof Float32Array) f32.set(e, words[i]);
  });
  new Float64Array(f32.buffer, words[entries.length] * 4, 1)[0] = eps;
  return {
    bytes: words.map((w) => w * 4),
    /** Copies entry i (an output) into `to`. */
    read: (i: number, to: Float32Array) => to.set(f32.subarray(words[i], words[i] + to.length)),
  };
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
  const { bytes, read } = stage([x, V, gamma, beta, C, C], eps);
  const [xB, yB, gB, bB, mB, vB, eB] = bytes;
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
  const { bytes, read } = stage([dy, x, V, gamma, mean, variance, C, C, reluOut], eps);
  const [dyB, xB, dxB, gB, mB, vB, dgB, dbB, yB, eB] = bytes;
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
