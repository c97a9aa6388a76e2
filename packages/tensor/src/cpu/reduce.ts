// CPU reductions: the input is walked once in memory order, accumulating into a float64 buffer
// viewed with zero strides on the reduced axes; then the softmax family along one axis.
import type { DType } from '../dtype.js';
import { registerKernel } from '../kernels.js';
import { contiguousStrides, reducedShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { buf, empty, operand, readContiguous } from './backend.js';
import { reduceStrided } from './codegen.js';
import { output, stage } from './heap.js';
import { withCopies } from './map-wasm.js';
import { wasmArgReduce, wasmReduce } from './reduce-wasm.js';
import { SOFTMAX_CODES, softmaxBlock } from './softmax-block.js';
import { activeThreads, runParallel, splitRange } from './threads.js';
import { FN } from './worker-source.js';

/** combine expression over `acc` and `x1`, the identity, and the output dtype rule. */
const REDUCERS: Record<
  'sum' | 'prod' | 'max' | 'min' | 'all' | 'any',
  { combine: string; init: number; out: (d: DType) => DType }
> = {
  sum: { combine: 'acc + x1', init: 0, out: (d) => d },
  prod: { combine: 'acc * x1', init: 1, out: (d) => d },
  max: { combine: 'x1 > acc || x1 !== x1 ? x1 : acc', init: -Infinity, out: (d) => d },
  min: { combine: 'x1 < acc || x1 !== x1 ? x1 : acc', init: Infinity, out: (d) => d },
  // Without a branch, which random masks mispredict (any of 1.6M random bools: 11 ms as a ternary).
  all: { combine: 'acc & +(x1 !== 0)', init: 1, out: () => 'bool' },
  any: { combine: 'acc | +(x1 !== 0)', init: 0, out: () => 'bool' },
};

for (const [op, r] of Object.entries(REDUCERS) as [keyof typeof REDUCERS, (typeof REDUCERS)['sum']][]) {
  registerKernel(op, 'cpu', ([x], { axes, keepDim }) => {
    const fast = op === 'all' || op === 'any' ? undefined : wasmReduce(op, x, axes, keepDim);
    if (fast) return fast;
    const kept = reducedShape(x.shape, axes, true);
    const acc = new Float64Array(sizeOf(kept)).fill(r.init);
    const accStrides = contiguousStrides(kept).map((s, i) => (axes.includes(i) ? 0 : s));
    reduceStrided(r.combine, { data: acc, offset: 0, strides: accStrides }, operand(x), x.shape);
    const out = empty(reducedShape(x.shape, axes, keepDim), r.out(x.dtype));
    buf(out).set(acc);
    return out;
  });
}

/** Index of the first max (min) along one axis; NaN wins, as in PyTorch. */
function argReduce(x: Tensor, axes: number[], keepDim: boolean, greater: boolean): Tensor {
  const fast = x.rank > 0 ? onCopy(x, (t) => wasmArgReduce(t, axes[0], keepDim, greater)) : undefined;
  if (fast) return fast;
  const out = empty(reducedShape(x.shape, axes, keepDim), 'int32');
  const o = buf(out);
  const data = buf(x);
  if (x.rank === 0) return out;
  const axis = axes[0];
  const n = x.shape[axis];
  const st = x.strides[axis];
  const keptDims = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const idx = new Array<number>(keptDims.length).fill(0);
  let base = x.offset;
  for (let k = 0; k < o.length; k++) {
    let best = data[base];
    let bi = 0;
    for (let j = 1; j < n && !Number.isNaN(best); j++) {
      const v = data[base + j * st];
      if ((greater ? v > best : v < best) || Number.isNaN(v)) {
        best = v;
        bi = j;
      }
    }
    o[k] = bi;
    for (let d = keptDims.length - 1; d >= 0; d--) {
      const dim = keptDims[d];
      base += x.strides[dim];
      if (++idx[d] < x.shape[dim]) break;
      idx[d] = 0;
      base -= x.strides[dim] * x.shape[dim];
    }
  }
  return out;
}

registerKernel('argmax', 'cpu', ([x], { axes, keepDim }) => argReduce(x, axes, keepDim, true));
registerKernel('argmin', 'cpu', ([x], { axes, keepDim }) => argReduce(x, axes, keepDim, false));

type SoftmaxOp = keyof typeof SOFTMAX_CODES;

/** From this many elements the softmax family splits its work over the threads (see THREADED_MIN). */
const SOFTMAX_THREADED_MIN = 1 << 14;
/** From this many elements float32 rows (the last axis) go to WebAssembly: 2-5x the JavaScript loop. */
const SOFTMAX_WASM_MIN = 1 << 10;

/** `f(x)`, x a contiguous copy where it is a large strided float32 view (withCopies). */
const onCopy = <T>(x: Tensor, f: (t: Tensor) => T): T => withCopies([x], ([t]) => f(t));

/**
 * The three softmax-family kernels over axis `axis`, as a contiguous [outer, n, inner] layout:
 * float32 in WebAssembly (gemm.wat: softmaxRows over the last axis, softmaxCols four columns a
 * step over the others), float64 and small inputs in softmax-block.ts. Both compute the same
 * steps in the same order (exp as Math.exp), so they give the same bits; large float32 inputs
 * split rows (and columns) over the threads, each part computed exactly as one thread would.
 */
function softmaxFamily(op: SoftmaxOp, x: Tensor, axis: number, keepDim: boolean): Tensor {
  return onCopy(x, (t) => softmaxOf(op, t, axis, keepDim));
}

function softmaxOf(op: SoftmaxOp, x: Tensor, axis: number, keepDim: boolean): Tensor {
  const xs = readContiguous(x);
  const n = x.shape[axis];
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outer = sizeOf(x.shape.slice(0, axis));
  const code = SOFTMAX_CODES[op];
  const out = empty(op === 'logSumExp' ? reducedShape(x.shape, [axis], keepDim) : x.shape, x.dtype);
  const o = buf(out) as Float32Array | Float64Array;
  const float32 = x.dtype === 'float32';
  if (float32 && x.size >= SOFTMAX_WASM_MIN) {
    if (inner === 1) softmaxRows(op, xs as Float32Array, o as Float32Array, n, outer);
    else softmaxCols(op, xs as Float32Array, o as Float32Array, n, outer, inner);
    return out;
  }
  const parts = float32 && x.size >= SOFTMAX_THREADED_MIN ? 2 * activeThreads() : 1;
  if (parts < 4) {
    softmaxBlock(code, xs as Float32Array | Float64Array, o, n, inner, 0, outer, 0, inner);
    return out;
  }
  const aParts = Math.min(outer, parts);
  const iParts = Math.min(inner, Math.ceil(parts / aParts));
  const { bytes, read } = stage([xs as Float32Array, output(o as Float32Array)]);
  const items: number[][] = [];
  for (const [a0, a1] of splitRange(outer, aParts))
    for (const [i0, i1] of splitRange(inner, iParts))
      items.push([FN.softmaxBlock, code, bytes[0], bytes[1], n, inner, a0, a1, i0, i1]);
  runParallel(items);
  read(1, o as Float32Array);
  return out;
}

/** m + log(s), or m where m is infinite (its limit), as softmax-block.ts. */
const logSumExpOf = (m: number, s: number) =>
  m === Number.POSITIVE_INFINITY || m === Number.NEGATIVE_INFINITY ? m : m + Math.log(s);

/**
 * `op` over `rows` rows of n floats in WebAssembly, rows split over the threads. softmax is one
 * pass of the kernel; logSoftmax and logSumExp take each row's max and sum from it, their logs
 * here (Math.log, as softmax-block.ts), and logSoftmax a second pass for its outputs.
 */
function softmaxRows(op: SoftmaxOp, xs: Float32Array, o: Float32Array, n: number, rows: number): void {
  const parts = xs.length >= SOFTMAX_THREADED_MIN ? 2 * activeThreads() : 1;
  const ranges = splitRange(rows, parts);
  // Entries: the input, the output (logSumExp writes its own here), and float64 scratch: a row's
  // m and s, or for softmax a row's exponentials (n + 3 of them) for each range.
  const { bytes, f32, read } = stage([
    xs,
    op === 'logSumExp' ? undefined : output(o),
    op === 'softmax' ? 2 * (n + 3) * ranges.length : 4 * rows,
  ]);
  const scratch = (i: number) => (op === 'softmax' ? bytes[2] + 8 * (n + 3) * i : bytes[2]);
  const pass = (code: number) =>
    runParallel(
      ranges.map(([r0, r1], i) => [FN.softmaxRows, code, bytes[0], bytes[1], n, scratch(i), r0, r1]),
    );
  if (op === 'softmax') pass(0);
  else {
    pass(2);
    const stats = new Float64Array(f32.buffer, bytes[2], 2 * rows);
    for (let r = 0; r < rows; r++) {
      const [m, s] = [stats[2 * r], stats[2 * r + 1]];
      if (op === 'logSoftmax') stats[2 * r + 1] = Math.log(s);
      else o[r] = logSumExpOf(m, s);
    }
    if (op === 'logSumExp') return;
    pass(1);
  }
  read(1, o);
}

/**
 * `op` along the middle axis of [outer][n][inner] floats in WebAssembly (softmaxCols: four
 * columns a step, each lane the loop down its column), rows and columns split over the threads;
 * the logs as in softmaxRows.
 */
function softmaxCols(
  op: SoftmaxOp,
  xs: Float32Array,
  o: Float32Array,
  n: number,
  outer: number,
  inner: number,
): void {
  const parts = xs.length >= SOFTMAX_THREADED_MIN ? 2 * activeThreads() : 1;
  const aParts = Math.min(outer, parts);
  const iParts = Math.min(Math.ceil(inner / 4), Math.ceil(parts / aParts));
  const blocks: [number, number, number, number][] = [];
  for (const [a0, a1] of splitRange(outer, aParts))
    for (const [i0, i1] of splitRange(inner, iParts, 4))
      if (a1 > a0 && i1 > i0) blocks.push([a0, a1, i0, i1]);
  const columns = outer * inner;
  // Entries: the input, the output (logSumExp writes its own here), and float64 scratch: each
  // block's exponentials (4 n of them) for softmax, else every column's m, then every s (and
  // room for 3 more: the last block's lanes past the columns load there).
  const { bytes, f32, read } = stage([
    xs,
    op === 'logSumExp' ? undefined : output(o),
    op === 'softmax' ? 8 * n * blocks.length : 4 * columns + 6,
  ]);
  const [xB, oB, sB] = bytes;
  const sOff = sB + 8 * columns;
  const pass = (code: number) =>
    runParallel(
      blocks.map(([a0, a1, i0, i1], k) => [
        FN.softmaxCols,
        code,
        xB,
        oB,
        n,
        inner,
        op === 'softmax' ? sB + 32 * n * k : sB,
        sOff,
        a0,
        a1,
        i0,
        i1,
      ]),
    );
  if (op === 'softmax') pass(0);
  else {
    pass(2);
    const m = new Float64Array(f32.buffer, sB, columns);
    const s = new Float64Array(f32.buffer, sOff, columns);
    for (let c = 0; c < columns; c++) {
      if (op === 'logSoftmax') s[c] = Math.log(s[c]);
      else o[c] = logSumExpOf(m[c], s[c]);
    }
    if (op === 'logSumExp') return;
    pass(1);
  }
  read(1, o);
}

registerKernel('softmax', 'cpu', ([x], { axis }) => softmaxFamily('softmax', x, axis, false));
registerKernel('logSoftmax', 'cpu', ([x], { axis }) => softmaxFamily('logSoftmax', x, axis, false));
registerKernel('logSumExp', 'cpu', ([x], { axis, keepDim }) => softmaxFamily('logSumExp', x, axis, keepDim));
