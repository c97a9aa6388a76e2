// Large contiguous float32 elementwise ops in WebAssembly SIMD (wasm/gemm.wat: mapBinary,
// mapUnary, mapReluBackward), split over the worker threads. V8 ran the generated JavaScript
// loops at 3-5 ns an element on the reference machine (neg, add of LeNet-5's 301K activations:
// 0.8-1.4 and 2.0 ms, against 0.5 and 0.8 ms here); copying in and out costs about 1 ns an element
// and the SIMD loop less. The kernels give the same bits as the JavaScript ones (see the WAT), so
// taking them changes no result (exp, sigmoid, tanh, expm1, erf and gelu too: they take the
// JavaScript loops' steps in float64, tools/gen-exp-wat.py). Other costly float ops (Math's functions; see THREADED_MAPS) are
// JavaScript loops that every thread compiles from the same text (mapJs in worker-source.ts):
// split over the threads the same way, with the calling thread's bits.
import { broadcastShapes, broadcastStrides, collapseDims, contiguousStrides, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { buf, emptyUnfilled, readContiguous } from './backend.js';
import { THREADED_MAPS } from './expressions.js';
import { output, residentAddress, stage } from './heap.js';
import { activeThreads, runParallel, splitRange } from './threads.js';
import { FN } from './worker-source.js';

/** The ops these kernels take, by their index in the WebAssembly exports. */
const BINARY: Record<string, number> = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5 };
const CLAMP = 6;
const UNARY: Record<string, number> = {
  neg: 0,
  abs: 1,
  square: 2,
  sqrt: 3,
  relu: 4,
  exp: 5,
  sigmoid: 6,
  tanh: 7,
  expm1: 8,
  erf: 9,
  gelu: 10,
  geluTanh: 11, // gelu with approximate: 'tanh'
};

/** Below this many elements the JavaScript loops win: no copies, no call into WebAssembly. */
const MIN = 1 << 14;
/** From this many elements a call is split over the threads. */
const PARALLEL_MIN = 1 << 17;
/** exp, sigmoid, tanh, expm1, erf and gelu cost 5-25 ns an element (float64 lanes): split sooner. */
const COSTLY_PARALLEL_MIN = 1 << 15;
/**
 * The JavaScript maps cost 10-100 ns an element: split from this many, on two threads or more
 * (exp on two threads, against one: 8192 elements 228 / 249 us, 16384 282 / 476 us).
 */
const THREADED_MIN = 1 << 14;
const THREADED: Record<string, number> = Object.fromEntries(THREADED_MAPS.map(([op], i) => [op, i]));

/** The elements (a view) of a contiguous tensor of `dtype`; undefined for any other tensor. */
export function elementsOf<T extends Float32Array | Uint8Array>(t: Tensor, dtype: 'float32' | 'bool') {
  return t.dtype === dtype && t.isContiguous ? (readContiguous(t) as T) : undefined;
}

function eligible(t: Tensor): boolean {
  return t.dtype === 'float32' && t.isContiguous;
}

/** The elements of a contiguous float32 tensor (a view). */
const data = (t: Tensor) => readContiguous(t) as Float32Array;

/**
 * Stages `inputs` in WebAssembly memory (resident ones stay where they are), runs
 * `call(v0, v1, addresses)` over ranges of 4-lane vectors on the threads into a new tensor
 * (written in place when resident, else copied out); split from `parallelMin` elements.
 */
function run(
  shape: readonly number[],
  inputs: Float32Array[],
  call: (v0: number, v1: number, at: number[]) => number[],
  parallelMin = PARALLEL_MIN,
): Tensor {
  const n = sizeOf(shape);
  // A one-element input (a broadcast scalar) fills one vector, which the kernel repeats.
  const staged = inputs.map((x) => (x.length === 1 ? new Float32Array(4).fill(x[0]) : x));
  const out = emptyUnfilled(shape, 'float32');
  const o = buf(out) as Float32Array;
  const { bytes, read } = stage([...staged, output(o)]);
  const parts = n < parallelMin ? 1 : 2 * activeThreads();
  runParallel(splitRange(Math.ceil(n / 4), parts).map(([v0, v1]) => call(v0, v1, bytes)));
  read(inputs.length, o);
  return out;
}

/**
 * The op with its operands swapped (the same bits), so the full-size one comes first: b - a and
 * b / a have kernels of their own.
 */
const SWAPPED: Record<string, number> = { add: 0, mul: 2, maximum: 4, minimum: 5, sub: 7, div: 8 };

/**
 * `op(a, b)` in WebAssembly where it pays: both contiguous float32, a large enough, and b the
 * same size as a, one element (a scalar), or broadcast over a as rows ([R][D] op [D]) or channels
 * ([N][C][S] op [C], e.g. a bias of shape [C,1,1]) in whole vectors. Undefined otherwise (the
 * caller runs the JavaScript loop).
 */
export function wasmBinary(op: string, a: Tensor, b: Tensor): Tensor | undefined {
  let code = BINARY[op];
  if (code === undefined || !eligible(a) || !eligible(b)) return undefined;
  if (b.size > a.size) [a, b, code] = [b, a, SWAPPED[op]];
  if (a.size < MIN) return undefined;
  const shape = broadcastShapes(op, a.shape, b.shape);
  if (sizeOf(shape) !== a.size) return undefined;
  if (b.size !== a.size && b.size !== 1) return broadcastRuns(code, shape, a, b);
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

/** The broadcast patterns of wasmBinary (mapBinaryRuns in gemm.wat); undefined for others. */
function broadcastRuns(code: number, shape: number[], a: Tensor, b: Tensor): Tensor | undefined {
  const { shape: cs, strides } = collapseDims(shape, [
    contiguousStrides(shape),
    broadcastStrides(b.shape, contiguousStrides(b.shape), shape),
  ]);
  const bs = strides[1];
  const last = cs.length - 1;
  const zeroBefore = (d: number) => bs.slice(0, d).every((s) => s === 0);
  const bv = data(b);
  let bData = bv;
  let [period, bRun, bStep] = [1, 0, 16];
  if (!(bs[last] === 1 && zeroBefore(last))) {
    if (!(last >= 1 && bs[last] === 0 && bs[last - 1] === 1 && zeroBefore(last - 1))) return undefined;
    // Channels: each of b's values splat in a vector, which its runs repeat.
    [period, bRun, bStep] = [b.size, 16, 0];
    bData = new Float32Array(4 * b.size);
    for (let c = 0; c < b.size; c++) bData.fill(bv[c], 4 * c, 4 * c + 4);
  }
  if (cs[last] % 4 !== 0) return undefined; // runs of whole vectors only
  const n = cs[last] / 4;
  const runs = a.size / cs[last];
  const out = emptyUnfilled(shape, 'float32');
  const o = buf(out) as Float32Array;
  const { bytes, read } = stage([data(a), bData, output(o)]);
  const parts = a.size < PARALLEL_MIN ? 1 : 2 * activeThreads();
  const [aB, bB, oB] = bytes;
  runParallel(
    splitRange(runs, parts).map(([r0, r1]) => [
      FN.mapBinaryRuns,
      code,
      aB,
      bB,
      oB,
      n,
      bStep,
      period,
      bRun,
      r0,
      r1,
    ]),
  );
  read(2, o);
  return out;
}

/** `op(x)` in WebAssembly where it pays (contiguous float32, large enough); else undefined. */
export function wasmUnary(op: string, x: Tensor): Tensor | undefined {
  const code = UNARY[op];
  if (code === undefined || !eligible(x) || x.size < MIN) return undefined;
  return run(
    x.shape,
    [data(x)],
    (v0, v1, [xB, oB]) => [FN.mapUnary, code, xB + v0 * 16, oB + v0 * 16, v1 - v0],
    code >= UNARY.exp ? COSTLY_PARALLEL_MIN : PARALLEL_MIN,
  );
}

/** `clamp(x, lo, hi)` in WebAssembly where it pays (contiguous float32, large enough); else undefined. */
export function wasmClamp(x: Tensor, lo: number, hi: number): Tensor | undefined {
  if (!eligible(x) || x.size < MIN) return undefined;
  const bounds = new Float32Array([lo, lo, lo, lo, hi, hi, hi, hi]);
  return run(x.shape, [data(x), bounds], (v0, v1, [xB, bB, oB]) => [
    FN.mapBinary,
    CLAMP,
    xB + v0 * 16,
    bB,
    oB + v0 * 16,
    v1 - v0,
    0,
  ]);
}

/** Test hook: off, strided views keep the JavaScript loops (the references the tests compare with). */
export const gatherInternals = { enabled: true };

/** Whether `op` has a kernel here for large contiguous float32 inputs (with the threads it needs). */
export function hasWasmPath(op: string): boolean {
  return (
    BINARY[op] !== undefined ||
    UNARY[op] !== undefined ||
    op === 'clamp' ||
    (THREADED[op] !== undefined && activeThreads() >= 2)
  );
}

/**
 * `f(inputs)` with each large strided float32 view among them replaced by its contiguous copy
 * (gather4: about 0.5 ns an element, the strided JavaScript loops 3-20), released after.
 */
export function withCopies<T>(inputs: Tensor[], f: (xs: Tensor[]) => T): T {
  const copies = inputs.map((t) => (t.dtype === 'float32' ? wasmGather(t) : undefined));
  try {
    return f(inputs.map((t, i) => copies[i] ?? t));
  } finally {
    for (const c of copies) c?.dispose();
  }
}

/** The 32-bit elements of a float32 or int32 array, as floats (bit for bit) for `stage`. */
const asFloats = (a: Float32Array | Int32Array) =>
  a instanceof Float32Array ? a : new Float32Array(a.buffer, a.byteOffset, a.length);

/**
 * A contiguous copy of a strided float32 or int32 view (`contiguous`, `clone`, reshapes of
 * permuted views) in WebAssembly (gather4), rows of its first dim split over the threads, where
 * its dims collapse to four or fewer and its storage is not much larger than the view (or lives
 * in the kernels' memory already); undefined otherwise. The JavaScript loop walks such views at
 * about 3 ns an element.
 */
export function wasmGather(x: Tensor): Tensor | undefined {
  if (!gatherInternals.enabled || (x.dtype !== 'float32' && x.dtype !== 'int32')) return undefined;
  if (x.isContiguous || x.size < MIN) return undefined;
  const { shape, strides } = collapseDims(x.shape, [x.strides]);
  if (shape.length > 4) return undefined;
  const storage = asFloats(buf(x) as Float32Array | Int32Array);
  if (storage.length > 2 * x.size && residentAddress(storage) === undefined) return undefined;
  const lead = 4 - shape.length;
  const [n0, n1, n2, n3] = [...new Array(lead).fill(1), ...shape];
  const [s0, s1, s2, s3] = [...new Array(lead).fill(0), ...strides[0]];
  const out = emptyUnfilled(x.shape, x.dtype);
  const o = asFloats(buf(out) as Float32Array | Int32Array);
  const { bytes, read } = stage([storage, output(o)]);
  const src = bytes[0] + 4 * x.offset;
  const parts = x.size < PARALLEL_MIN ? 1 : 2 * activeThreads();
  runParallel(
    splitRange(n0, parts).map(([r0, r1]) => [FN.gather4, src, bytes[1], n1, n2, n3, s0, s1, s2, s3, r0, r1]),
  );
  read(1, o);
  return out;
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

const paramWords = new Int32Array(2);
const paramValue = new Float64Array(paramWords.buffer);

/**
 * `op` over `inputs` (one, or two where the second may be a one-element scalar) on the threads,
 * for the ops of THREADED_MAPS on large contiguous float32 tensors while two threads or more
 * run; undefined otherwise (the caller's JavaScript loop is then as fast). `q0` is the op's
 * parameter (leakyRelu's slope, gelu's tanh switch).
 */
export function threadedMap(op: string, inputs: Tensor[], q0: number): Tensor | undefined {
  const code = THREADED[op];
  const [a, b] = inputs;
  if (code === undefined || !inputs.every(eligible) || a.size < THREADED_MIN) return undefined;
  if (b && b.size !== a.size && b.size !== 1) return undefined;
  const shape = b ? broadcastShapes(op, a.shape, b.shape) : a.shape;
  if (sizeOf(shape) !== a.size || activeThreads() < 2) return undefined;
  paramValue[0] = q0;
  const [lo, hi] = paramWords;
  const step = b?.size === 1 ? 0 : 1;
  return run(
    shape,
    inputs.map(data),
    (v0, v1, at) => {
      const [aB, oB] = [at[0], at[at.length - 1]];
      const bB = b ? at[1] + (step ? v0 * 16 : 0) : 0;
      const count = Math.min(4 * v1, a.size) - 4 * v0;
      return [FN.mapJs, code, aB + v0 * 16, bB, oB + v0 * 16, count, step, lo, hi];
    },
    THREADED_MIN,
  );
}
