// CPU elementwise kernels: each op is one JS expression (expressions.ts); the codegen template
// turns it into a strided loop. Values are computed in float64 and rounded on store, which is
// exact for float32 +, -, *, / and sqrt.
import type { DType } from '../dtype.js';
import { registerKernel } from '../kernels.js';
import { BINARY_OPS, COMPARISON_OPS, LOGICAL_OPS, UNARY_OPS } from '../ops/elementwise.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { broadcastOperand, buf, emptyUnfilled, operand } from './backend.js';
import { mapStrided } from './codegen.js';
import { BINARY, BINARY_INT, HELPERS, UNARY, UNARY_INT } from './expressions.js';
import { cpuFill } from './heap.js';
import {
  hasWasmPath,
  threadedMap,
  wasmBinary,
  wasmClamp,
  wasmGather,
  wasmReluBackward,
  wasmUnary,
  withCopies,
} from './map-wasm.js';
import { hasMaskPath, wasmCompare, wasmLogical, wasmWhere } from './mask-wasm.js';

const BOOL_OUT = new Set<string>([...COMPARISON_OPS, ...LOGICAL_OPS, 'logicalNot']);

/** Runs `expr` over inputs broadcast together into a new tensor of `dtype`. */
export function mapNew(expr: string, inputs: Tensor[], dtype: DType, params: number[] = []): Tensor {
  const shape = broadcastShapes('map', ...inputs.map((t) => t.shape));
  const out = emptyUnfilled(shape, dtype); // the map writes every element
  mapStrided(
    expr,
    operand(out),
    inputs.map((t) => broadcastOperand(t, shape)),
    shape,
    params,
    HELPERS,
  );
  return out;
}

/**
 * relu of contiguous float32 on the bits: a negative sign bit (-0, -inf and every negative value)
 * gives +0 unless the value is NaN, which is kept. The float expression is a branch that random
 * activations mispredict: on 800K floats, 6-14 ms as a float expression, under 1 ms on the bits.
 */
function reluFloat32(x: Tensor): Tensor {
  const out = emptyUnfilled(x.shape, 'float32');
  const src = buf(x) as Float32Array;
  const dst = buf(out) as Float32Array;
  const a = new Int32Array(src.buffer, src.byteOffset + 4 * x.offset, x.size);
  const o = new Int32Array(dst.buffer, dst.byteOffset, x.size);
  for (let i = 0; i < o.length; i++) {
    const b = a[i];
    // -1 when |b| is above +inf's bits (a NaN), else 0.
    const nan = (0x7f800000 - (b & 0x7fffffff)) >> 31;
    o[i] = b & ~((b >> 31) & ~nan);
  }
  return out;
}

/**
 * reluBackward of contiguous float32 on the bits, like reluFloat32: the gradient's bits are kept
 * where the input is above 0 or NaN, cleared elsewhere. For input bits b (as int32), `-b & ~b` has
 * its sign set exactly for b > 0 (+0 and every negative value, -0 included, give a clear sign).
 */
function reluBackwardFloat32(g: Tensor, x: Tensor): Tensor {
  const out = emptyUnfilled(x.shape, 'float32');
  const gs = buf(g) as Float32Array;
  const xs = buf(x) as Float32Array;
  const dst = buf(out) as Float32Array;
  const gb = new Int32Array(gs.buffer, gs.byteOffset + 4 * g.offset, g.size);
  const xb = new Int32Array(xs.buffer, xs.byteOffset + 4 * x.offset, x.size);
  const o = new Int32Array(dst.buffer, dst.byteOffset, x.size);
  for (let i = 0; i < o.length; i++) {
    const b = xb[i];
    const nan = (0x7f800000 - (b & 0x7fffffff)) >> 31;
    o[i] = gb[i] & ((((-b | 0) & ~b) >> 31) | nan);
  }
  return out;
}

registerKernel('reluBackward', 'cpu', ([g, x]) => {
  const fast = wasmReluBackward(g, x);
  if (fast) return fast;
  if (x.dtype === 'float32' && g.isContiguous && x.isContiguous) return reluBackwardFloat32(g, x);
  return mapNew('x2 <= 0 ? 0 : x1', [g, x], g.dtype);
});

/**
 * `fast(inputs)`, the WebAssembly or threaded path of `op`; where it declines and an input is a
 * large strided float32 view, it runs again on contiguous copies of those (withCopies).
 */
function onContiguous(
  op: string,
  inputs: Tensor[],
  fast: (xs: Tensor[]) => Tensor | undefined,
): Tensor | undefined {
  const direct = fast(inputs);
  if (direct || !(hasWasmPath(op) || hasMaskPath(op)) || inputs.every((t) => t.isContiguous)) return direct;
  return withCopies(inputs, (xs) => (xs.some((x, i) => x !== inputs[i]) ? fast(xs) : undefined));
}

for (const op of UNARY_OPS) {
  registerKernel(op, 'cpu', ([x], attrs) => {
    // The one parameter of the parameterised unary ops: leakyRelu's slope, gelu's tanh switch.
    const { negativeSlope, approximate } = attrs as { negativeSlope?: number; approximate?: string };
    const param = Number(negativeSlope ?? (approximate === 'tanh' ? 1 : 0));
    const wasmOp = op === 'gelu' && approximate === 'tanh' ? 'geluTanh' : op;
    const fast = onContiguous(
      wasmOp,
      [x],
      ([y]) => wasmUnary(wasmOp, y) ?? wasmLogical(op, y) ?? threadedMap(op, [y], param),
    );
    if (fast) return fast;
    if (op === 'relu' && x.dtype === 'float32' && x.isContiguous) return reluFloat32(x);
    const expr = (x.dtype === 'int32' && UNARY_INT[op]) || UNARY[op];
    return mapNew(expr, [x], BOOL_OUT.has(op) ? 'bool' : x.dtype, [param]);
  });
}

for (const op of BINARY_OPS) {
  registerKernel(op, 'cpu', (inputs) => {
    const fast = onContiguous(
      op,
      inputs,
      ([a, b]) =>
        wasmBinary(op, a, b) ?? wasmCompare(op, a, b) ?? wasmLogical(op, a, b) ?? threadedMap(op, [a, b], 0),
    );
    if (fast) return fast;
    const [a, b] = inputs;
    const expr = (a.dtype === 'int32' && BINARY_INT[op]) || BINARY[op];
    return mapNew(expr, [a, b], BOOL_OUT.has(op) ? 'bool' : a.dtype);
  });
}

registerKernel(
  'where',
  'cpu',
  ([c, a, b]) =>
    onContiguous('where', [c, a, b], ([k, x, y]) => wasmWhere(k, x, y)) ??
    mapNew('x1 !== 0 ? x2 : x3', [c, a, b], a.dtype),
);

registerKernel(
  'clamp',
  'cpu',
  ([x], { min, max }) =>
    onContiguous('clamp', [x], ([y]) => wasmClamp(y, min, max)) ??
    mapNew('Math.min(Math.max(x1, q0), q1)', [x], x.dtype, [min, max]),
);

registerKernel('cast', 'cpu', ([x], { dtype }) =>
  mapNew(dtype === 'bool' ? '+(x1 !== 0)' : 'x1', [x], dtype),
);

registerKernel('contiguous', 'cpu', ([x]) => wasmGather(x) ?? mapNew('x1', [x], x.dtype));

registerKernel('full', 'cpu', (_, { shape, value, dtype }) => {
  const out = emptyUnfilled(shape, dtype);
  const o = buf(out);
  const v = dtype === 'bool' ? (value ? 1 : 0) : value;
  if (o instanceof Float32Array) cpuFill(o, v);
  else o.fill(v);
  return out;
});

/** Writes `src` (broadcast, same dtype) into the memory of the view `dst`; returns `dst`. */
registerKernel('assign', 'cpu', ([dst, src]) => {
  mapStrided('x1', operand(dst), [broadcastOperand(src, dst.shape)], dst.shape, [], HELPERS);
  return dst;
});
