// Optimizer steps on float32 parameters in WebAssembly (wasm/gemm.wat: adamStep, sgdStep), split
// over the worker threads: the same float64 arithmetic in the same order as the JavaScript
// kernels of @softpool/layers (optim/cpu/fused.ts), so the bits agree with them and between
// thread counts. Arrays are copied in and the updated ones out, unless they live in that memory
// (heap.ts), where the kernels update them in place. On the reference machine the JavaScript loop
// took about 20 ns an element (Adam on a 48K-element parameter: 1.0 ms, against 0.42 ms here).
import { stage } from './heap.js';
import { activeThreads, runParallel, splitRange } from './threads.js';
import { FN } from './worker-source.js';

/** Elements from which a step is split over the threads. */
const PARALLEL_MIN = 1 << 15;

/**
 * Stages the arrays after the float64 `consts` (at byte 0, the kernels' $k), runs
 * `call(e0, e1, addresses)` over even element ranges on the threads (the stretches are padded, so
 * a last odd element's partner lane is scratch), and copies the arrays marked in `written` back.
 */
function run(
  arrays: (Float32Array | undefined)[],
  written: boolean[],
  consts: number[],
  call: (e0: number, e1: number, at: number[]) => number[],
): void {
  const n = arrays[0]!.length;
  const { bytes, read } = stage(arrays, consts);
  const parts = n < PARALLEL_MIN ? 1 : 2 * activeThreads();
  runParallel(splitRange(n + (n & 1), parts, 2).map(([e0, e1]) => call(e0, e1, bytes)));
  arrays.forEach((a, i) => {
    if (a && written[i]) read(i, a);
  });
}

/** The Adam / AdamW constants, as the JavaScript kernel derives them. */
export interface AdamConstants {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
  step: number;
}

/**
 * One Adam (AdamW when `decoupled`) step in place on float32 arrays of one length: parameter,
 * gradient, first and second moments, and the running maximum of the second (amsgrad) if given.
 */
export function adamStepFloat32(
  p: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  vmax: Float32Array | undefined,
  a: AdamConstants,
): void {
  const consts = [
    a.decoupled ? 1 - a.lr * a.weightDecay : 1,
    a.decoupled ? 0 : a.weightDecay,
    a.beta1,
    1 - a.beta1,
    a.beta2,
    1 - a.beta2,
    Math.sqrt(1 - a.beta2 ** a.step),
    a.eps,
    a.lr / (1 - a.beta1 ** a.step),
  ];
  run([p, grad, m, v, vmax], [true, false, true, true, true], consts, (e0, e1, at) => [
    FN.adamStep,
    at[0] + e0 * 4,
    at[1] + e0 * 4,
    at[2] + e0 * 4,
    at[3] + e0 * 4,
    vmax ? at[4] + e0 * 4 : 0,
    e1 - e0,
    0,
  ]);
}

/** The SGD settings of one step. */
export interface SgdConstants {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  /** The momentum buffer's first step: it becomes the step's direction. */
  first: boolean;
}

/** One SGD step in place on float32 parameter and gradient arrays, with the momentum buffer if given. */
export function sgdStepFloat32(
  p: Float32Array,
  grad: Float32Array,
  buf: Float32Array | undefined,
  a: SgdConstants,
): void {
  const flags = (buf ? 1 : 0) | (a.first ? 2 : 0) | (a.nesterov ? 4 : 0);
  run(
    [p, grad, buf],
    [true, false, true],
    [a.lr, a.momentum, 1 - a.dampening, a.weightDecay],
    (e0, e1, at) => [FN.sgdStep, at[0] + e0 * 4, at[1] + e0 * 4, buf ? at[2] + e0 * 4 : 0, e1 - e0, 0, flags],
  );
}
