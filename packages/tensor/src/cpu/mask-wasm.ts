// Comparisons, where and the logical ops of large contiguous tensors in WebAssembly (wasm/gemm.wat:
// mapCompare, mapWhere, mapLogical), split over the worker threads; bool data is one byte an
// element. They give the JavaScript loops' results (the comparisons of float32 values are those
// of their float64 ones), about 10x faster on one thread: V8 runs a loop of +(x1 > x2) at 3-5 ns
// an element, the kernels compare 16 floats into 16 bytes a step. Used by the backward rules
// (leakyRelu, clamp, max, maximum) and masks in user code.
import { broadcastShapes, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { buf, emptyUnfilled } from './backend.js';
import { output, stage } from './heap.js';
import { elementsOf } from './map-wasm.js';
import { activeThreads, runParallel, splitRange } from './threads.js';
import { FN } from './worker-source.js';

const COMPARE: Record<string, number> = { gt: 0, ge: 1, lt: 2, le: 3, eq: 4, ne: 5 };
/** op(scalar, x) is MIRROR[op](x, scalar). */
const MIRROR: Record<string, string> = { gt: 'lt', ge: 'le', lt: 'gt', le: 'ge', eq: 'eq', ne: 'ne' };
const LOGICAL: Record<string, number> = { logicalAnd: 0, logicalOr: 1, logicalNot: 2 };

/** Whether `op` has a kernel here (comparisons of float32 tensors, where, the logical ops). */
export const hasMaskPath = (op: string) =>
  COMPARE[op] !== undefined || LOGICAL[op] !== undefined || op === 'where';

/** Below this many elements the JavaScript loops win: no copies, no call into WebAssembly. */
const MIN = 1 << 14;
/** From this many elements a call is split over the threads. */
const PARALLEL_MIN = 1 << 17;

type Data = Float32Array | Uint8Array;

/**
 * An operand for a kernel that walks `size` elements: its elements and step 1, or a one-element
 * tensor as a 16-byte vector of its value and step 0; undefined if neither.
 */
function walkOrSplat(t: Tensor, dtype: 'float32' | 'bool', size: number): [Data, number] | undefined {
  const d = elementsOf<Data>(t, dtype);
  if (!d || (d.length !== size && d.length !== 1)) return undefined;
  if (d.length === size) return [d, 1];
  return [dtype === 'bool' ? new Uint8Array(16).fill(d[0]) : new Float32Array(4).fill(d[0]), 0];
}

/** Runs `call(g0, g1, addresses)` over ranges of `groups` on the threads, from PARALLEL_MIN elements. */
function parallel(n: number, groups: number, call: (g0: number, g1: number) => number[]): void {
  const parts = n < PARALLEL_MIN ? 1 : 2 * activeThreads();
  runParallel(splitRange(groups, parts).map(([g0, g1]) => call(g0, g1)));
}

/**
 * `fn` (mapCompare: float32 inputs, mapLogical: bool bytes) with `code` over x and y (walked,
 * or a splat vector) into a new bool tensor of `shape`, 16 elements to 16 bytes a step.
 */
function toBool(
  fn: number,
  code: number,
  shape: readonly number[],
  x: Data,
  [y, walk]: [Data, number],
): Tensor {
  const n = x.length;
  const out = emptyUnfilled(shape, 'bool');
  const groups = Math.ceil(n / 16);
  const step = 16 * x.BYTES_PER_ELEMENT; // input bytes a group
  const { bytes, read } = stage([x, y, 4 * groups]);
  const [aB, bB, oB] = bytes;
  parallel(n, groups, (g0, g1) => [
    fn,
    code,
    aB + step * g0,
    bB + walk * step * g0,
    oB + 16 * g0,
    g1 - g0,
    walk * step,
  ]);
  read(2, buf(out) as Uint8Array);
  return out;
}

/** `op(a, b)` for a comparison of float32 tensors where it pays (b the same size or a scalar). */
export function wasmCompare(op: string, a: Tensor, b: Tensor): Tensor | undefined {
  if (COMPARE[op] === undefined) return undefined;
  if (a.size === 1 && b.size > 1) [a, b, op] = [b, a, MIRROR[op]];
  const x = elementsOf<Data>(a, 'float32');
  const y = walkOrSplat(b, 'float32', a.size);
  const shape = broadcastShapes(op, a.shape, b.shape);
  if (!x || !y || a.size < MIN || sizeOf(shape) !== a.size) return undefined;
  return toBool(FN.mapCompare, COMPARE[op], shape, x, y);
}

/** `where(c, a, b)` where it pays: c bool of the output's size, a and b float32, each that size or a scalar. */
export function wasmWhere(c: Tensor, a: Tensor, b: Tensor): Tensor | undefined {
  const n = c.size;
  const cond = elementsOf<Data>(c, 'bool');
  const x = walkOrSplat(a, 'float32', n);
  const y = walkOrSplat(b, 'float32', n);
  const shape = broadcastShapes('where', c.shape, a.shape, b.shape);
  if (!cond || !x || !y || n < MIN || sizeOf(shape) !== n) return undefined;
  const out = emptyUnfilled(shape, 'float32');
  const o = buf(out) as Float32Array;
  const { bytes, read } = stage([cond, x[0], y[0], output(o)]);
  const [cB, aB, bB, oB] = bytes;
  parallel(n, Math.ceil(n / 4), (v0, v1) => [
    FN.mapWhere,
    cB + 4 * v0,
    aB + x[1] * 16 * v0,
    bB + y[1] * 16 * v0,
    oB + 16 * v0,
    v1 - v0,
    16 * x[1],
    16 * y[1],
  ]);
  read(3, o);
  return out;
}

/** logicalAnd, logicalOr (b the same size or a scalar) and logicalNot of bool tensors where it pays. */
export function wasmLogical(op: string, a: Tensor, b?: Tensor): Tensor | undefined {
  if (LOGICAL[op] === undefined) return undefined;
  if (b && a.size === 1 && b.size > 1) [a, b] = [b, a]; // and, or: either order
  const x = elementsOf<Data>(a, 'bool');
  const y = b ? walkOrSplat(b, 'bool', a.size) : ([new Uint8Array(16), 0] as [Data, number]);
  const shape = b ? broadcastShapes(op, a.shape, b.shape) : a.shape;
  if (!x || !y || a.size < MIN || sizeOf(shape) !== a.size) return undefined;
  return toBool(FN.mapLogical, LOGICAL[op], shape, x, y);
}
