// Large contiguous float32 elementwise ops in WebAssembly SIMD (wasm/gemm.wat: mapBinary,
// mapUnary, mapReluBackward), split over the worker threads. V8 ran the generated JavaScript
// loops at 3-5 ns an element on the reference machine (neg, add of LeNet-5's 301K activations:
// 0.8-1.4 and 2.0 ms, against 0.5 and 0.8 ms here); copying in and out costs about 1 ns an element
// and the SIMD loop less. The kernels give the same bits as the JavaScript ones (see the WAT), so
// taking them changes no result.
import { broadcastShapes, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { buf, emptyUnfilled } from './backend.js';
import { output, stage } from './heap.js';
import { activeThreads, runParallel, splitRange } from './threads.js';
import { FN } from './worker-source.js';

/** The ops these kernels take, by their index in the WebAssembly exports. */
const BINARY: Record<string, number> = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5 };
const UNARY: Record<string, number> = { neg: 0, abs: 1, square: 2, sqrt: 3, relu: 4 };

/** Below this many elements the JavaScript loops win: no copies, no call into WebAssembly. */
const MIN = 1 << 14;
/** From this many elements a call is split over the threads. */
const PARALLEL_MIN = 1 << 17;

function eligible(t: Tensor): boolean {
  return t.dtype === 'float32' && t.isContiguous;
}

/** The elements of a contiguous float32 tensor. */
function data(t: Tensor): Float32Array {
  return (buf(t) as Float32Array).subarray(t.offset, t.offset + t.size);
}

/**
 * Stages `inputs` in WebAssembly memory (resident ones stay where they are), runs
 * `call(v0, v1, addresses)` over ranges of 4-lane vectors on the threads into a new tensor
 * (written in place when resident, else copied out).
 */
function run(
  shape: readonly number[],
  inputs: Float32Array[],
  call: (v0: number, v1: number, at: number[]) => number[],
): Tensor {
  const n = sizeOf(shape);
  // A one-element input (a broadcast scalar) fills one vector, which the kernel repeats.
  const staged = inputs.map((x) => (x.length === 1 ? new Float32Array(4).fill(x[0]) : x));
  const out = emptyUnfilled(shape, 'float32');
  const o = buf(out) as Float32Array;
  const { bytes, read } = stage([...staged, output(o)]);
  const parts = n < PARALLEL_MIN ? 1 : 2 * activeThreads();
  runParallel(splitRange(Math.ceil(n / 4), parts).map(([v0, v1]) => call(v0, v1, bytes)));
  read(inputs.length, o);
  return out;
}

/**
 * `op(a, b)` in WebAssembly where it pays: both contiguous float32, b the same size as a or one
 * element (a scalar), large enough. Undefined otherwise (the caller runs the JavaScript loop).
 */
export function wasmBinary(op: string, a: Tensor, b: Tensor): Tensor | undefined {
  const code = BINARY[op];
  if (code === undefined || !eligible(a) || !eligible(b) || a.size < MIN) return undefined;
  if (b.size !== a.size && b.size !== 1) return undefined;
  const shape = broadcastShapes(op, a.shape, b.shape);
  if (sizeOf(shape) !== a.size) return undefined;
  const step = b.size === 1 ? 0 : 16;
  return run(shape, [data(a), data(b)], (v0, v1, [aB, bB, oB]) => [
    FN.mapBinary,
    code,
    aB + v0 * 16,
    bB + (step ? v0 * 16 : 0),
    oB + v0 * 16,
    v1 - v0,
    step,
  ]);
}

/** `op(x)` in WebAssembly where it pays (contiguous float32, large enough); else undefined. */
export function wasmUnary(op: string, x: Tensor): Tensor | undefined {
  const code = UNARY[op];
  if (code === undefined || !eligible(x) || x.size < MIN) return undefined;
  return run(x.shape, [data(x)], (v0, v1, [xB, oB]) => [
    FN.mapUnary,
    code,
    xB + v0 * 16,
    oB + v0 * 16,
    v1 - v0,
  ]);
}

/** relu's gradient `g` where x > 0 (or NaN) in WebAssembly where it pays; else undefined. */
export function wasmReluBackward(g: Tensor, x: Tensor): Tensor | undefined {
  if (!eligible(g) || !eligible(x) || x.size < MIN || g.size !== x.size) return undefined;
  return run(x.shape, [data(g), data(x)], (v0, v1, [gB, xB, oB]) => [
    FN.mapReluBackward,
    gB + v0 * 16,
    xB + v0 * 16,
    oB + v0 * 16,
    v1 - v0,
  ]);
}
