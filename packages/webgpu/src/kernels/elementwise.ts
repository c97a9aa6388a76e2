// Elementwise WGSL kernels generated from one template: each op is an expression over x1..x3 and
// q0, q1, like the CPU table. The template walks any strides and broadcasting from metadata, so one
// pipeline per (op, dtypes) serves every shape.
import {
  BINARY_OPS,
  type BinaryOp,
  COMPARISON_OPS,
  contiguousStrides,
  type DType,
  LOGICAL_OPS,
  registerKernel,
  type Tensor,
  UNARY_OPS,
  type UnaryOp,
} from '@softpool/tensor';
import { wgslType } from '../backend.js';
import { f32bits, MATH, stridedMeta, walk } from '../wgsl.js';
import { broadcastView, bshape, gpu, outView } from './util.js';

const UNARY = {
  neg: '-x1',
  abs: 'abs(x1)',
  sign: 'sign(x1)',
  relu: 'select(0.0, x1, x1 > 0.0 || isnan_(x1))',
  square: 'x1 * x1',
  floor: 'floor(x1)',
  ceil: 'ceil(x1)',
  round: 'round(x1)',
  exp: 'exp(x1)',
  log: 'log(x1)',
  log1p: 'select(log(1.0 + x1) * x1 / ((1.0 + x1) - 1.0), x1, (1.0 + x1) == 1.0)',
  expm1: 'select(select((exp(x1) - 1.0) * x1 / log(exp(x1)), -1.0, exp(x1) == 0.0), x1, abs(x1) < 1e-5)',
  sqrt: 'sqrt(x1)',
  rsqrt: 'inverseSqrt(x1)',
  sin: 'sin(x1)',
  cos: 'cos(x1)',
  tanh: 'tanh_(x1)',
  sigmoid: 'select(exp(x1) / (1.0 + exp(x1)), 1.0 / (1.0 + exp(-x1)), x1 >= 0.0)',
  erf: 'erf_(x1)',
  reciprocal: '1.0 / x1',
  gelu: 'select(0.5 * x1 * (1.0 + erf_(x1 * 0.70710678)), 0.5 * x1 * (1.0 + tanh_(0.7978845608 * (x1 + 0.044715 * x1 * x1 * x1))), q0 != 0.0)',
  leakyRelu: 'select(x1 * q0, x1, x1 > 0.0)',
  logicalNot: 'select(0u, 1u, x1 == T(0))',
} as const satisfies Record<UnaryOp, string>;

/** int32 forms where the float one does not type-check or differs. */
const UNARY_INT: Partial<Record<UnaryOp, string>> = {
  relu: 'max(x1, 0i)',
  floor: 'x1',
  ceil: 'x1',
  round: 'x1',
};

const BINARY = {
  add: 'x1 + x2',
  sub: 'x1 - x2',
  mul: 'x1 * x2',
  div: 'x1 / x2',
  pow: 'pow_(x1, x2)',
  maximum: 'select(max(x1, x2), x1 + x2, isnan_(x1) || isnan_(x2))',
  minimum: 'select(min(x1, x2), x1 + x2, isnan_(x1) || isnan_(x2))',
  eq: 'select(0u, 1u, x1 == x2)',
  ne: 'select(0u, 1u, x1 != x2)',
  lt: 'select(0u, 1u, x1 < x2)',
  le: 'select(0u, 1u, x1 <= x2)',
  gt: 'select(0u, 1u, x1 > x2)',
  ge: 'select(0u, 1u, x1 >= x2)',
  logicalAnd: 'select(0u, 1u, x1 != T(0) && x2 != T(0))',
  logicalOr: 'select(0u, 1u, x1 != T(0) || x2 != T(0))',
} as const satisfies Record<BinaryOp, string>;

const BINARY_INT: Partial<Record<BinaryOp, string>> = {
  pow: 'i32(round(pow_(f32(x1), f32(x2))))',
  maximum: 'max(x1, x2)',
  minimum: 'min(x1, x2)',
};

/** pow with PyTorch's sign rules for negative bases and integer exponents. */
const POW = `
fn pow_(a: f32, b: f32) -> f32 {
  let p = pow(abs(a), b);
  let odd = b == floor(b) && abs(b % 2.0) == 1.0;
  let neg = select(p, -p, odd && a < 0.0);
  let r = select(neg, nan_(), a < 0.0 && b != floor(b));
  return select(r, 1.0, b == 0.0);
}`;

const BOOL_OUT = new Set<string>([...COMPARISON_OPS, ...LOGICAL_OPS, 'logicalNot']);

/** Elements per thread on the strided path. */
const RUN = 64;

const TYPE: Record<DType, string> = { float32: 'f32', int32: 'i32', bool: 'u32', float64: 'f64' };

/**
 * Runs `expr` (over x1.. of the inputs' element types) into `out` or a new tensor of `dtype`.
 * Layout of params: q0, q1, then strided metadata of the output and every input.
 */
export function mapGpu(
  expr: string,
  inputs: Tensor[],
  dtype: DType,
  q: number[] = [],
  into?: Tensor,
): Tensor {
  const backend = gpu((into ?? inputs[0]).backend);
  const shape = into ? [...into.shape] : bshape(inputs);
  const n = shape.reduce((a, b) => a * b, 1);
  const outOp = into ? { offset: into.offset, strides: into.strides } : outView(shape);
  const operands = [outOp, ...inputs.map((t) => broadcastView(t, shape))];
  const loads = inputs.map((_, k) => `let x${k + 1} = in${k}[p${k + 1}];`).join(' ');
  const T = inputs[0] ? TYPE[inputs[0].dtype] : 'f32';
  // Fast path: every operand dense in the output's order, or a broadcast scalar, so indices are
  // offset + i (or the offset) instead of a walk with a division per dim (several times faster).
  const dense = contiguousStrides(shape);
  const kinds = operands.map((o) =>
    o.strides.every((st, d) => st === 0 || shape[d] === 1)
      ? 'scalar'
      : o.strides.every((st, d) => st === dense[d] || shape[d] === 1)
        ? 'dense'
        : 'strided',
  );
  const direct = !kinds.includes('strided');
  const meta = direct ? operands.map((o) => o.offset) : stridedMeta(shape, operands);
  const apply = `${loads}
    let q0 = pf(1u);
    let q1 = pf(2u);
    out0[p0] = ${TYPE[dtype]}(${expr});`;
  const head = `${MATH}${POW}\nalias T = ${T};`;
  if (direct) {
    const index = kinds
      .map((k, j) => `let p${j} = params[${3 + j}u]${k === 'dense' ? ' + i' : ''};`)
      .join(' ');
    return run(`${head}\nfn body(i: u32) {\n  ${index}\n  ${apply}\n}`, n, meta);
  }
  // Strided: a thread walks a run of up to RUN elements along the last dim, so the division per
  // dim is paid once per run; each step adds the operands' last-dim strides.
  const L = shape[shape.length - 1];
  const runs = Math.ceil(L / RUN);
  const last = operands.map((_, k) => `p${k} += params[4u + r + ${k}u * (r + 1u) + r];`).join(' ');
  const code = `${head}
fn body(t: u32) {
  let L = params[4u + params[3] - 1u];
  let runs = (L + ${RUN - 1}u) / ${RUN}u;
  let start = (t % runs) * ${RUN}u;
  let count = min(${RUN}u, L - start);
  let i = (t / runs) * L + start;
  ${walk(inputs.length + 1, 3)}
  for (var e = 0u; e < count; e++) {
    ${apply}
    ${last}
  }
}`;
  return run(code, L === 0 ? 0 : (n / L) * runs, meta);

  function run(code: string, threads: number, meta: number[]): Tensor {
    const [out] = backend.runProgram({
      code,
      inputs,
      outputs: [{ shape, dtype }],
      params: [f32bits(q[0] ?? 0), f32bits(q[1] ?? 0), ...meta],
      threads,
      into: into ? [into] : undefined,
    });
    return out;
  }
}

for (const op of UNARY_OPS) {
  registerKernel(op, 'webgpu', ([x], attrs) => {
    const expr = (x.dtype === 'int32' && UNARY_INT[op]) || UNARY[op];
    // The one parameter of the parameterised unary ops: leakyRelu's slope, gelu's tanh switch.
    const { negativeSlope, approximate } = attrs as { negativeSlope?: number; approximate?: string };
    const q = [Number(negativeSlope ?? (approximate === 'tanh' ? 1 : 0))];
    return mapGpu(expr, [x], BOOL_OUT.has(op) ? 'bool' : x.dtype, q);
  });
}

for (const op of BINARY_OPS) {
  registerKernel(op, 'webgpu', ([a, b]) => {
    const expr = (a.dtype === 'int32' && BINARY_INT[op]) || BINARY[op];
    return mapGpu(expr, [a, b], BOOL_OUT.has(op) ? 'bool' : a.dtype);
  });
}

// NaN inputs pass the gradient (NaN <= 0 is false), as on the CPU and in PyTorch.
registerKernel('reluBackward', 'webgpu', ([g, x]) => mapGpu('select(x1, T(0), x2 <= T(0))', [g, x], g.dtype));

registerKernel('where', 'webgpu', ([c, a, b]) => mapGpu('select(x3, x2, x1 != 0u)', [c, a, b], a.dtype));

registerKernel('clamp', 'webgpu', ([x], { min, max }) => {
  if (x.dtype === 'int32') {
    const lo = Math.max(min, -(2 ** 31));
    const hi = Math.min(max, 2 ** 31 - 1);
    return mapGpu(`clamp(x1, ${Math.ceil(lo)}i, ${Math.floor(hi)}i)`, [x], x.dtype);
  }
  return mapGpu('select(min(max(x1, q0), q1), x1, isnan_(x1))', [x], x.dtype, [min, max]);
});

registerKernel('cast', 'webgpu', ([x], { dtype }) => {
  const expr =
    dtype === 'bool'
      ? 'select(0u, 1u, x1 != T(0))'
      : x.dtype === 'float32' && dtype === 'int32'
        ? 'select(i32(x1), 0i, isnan_(x1))'
        : 'x1';
  return mapGpu(expr, [x], dtype);
});

registerKernel('contiguous', 'webgpu', ([x]) => mapGpu('x1', [x], x.dtype));

registerKernel('full', 'webgpu', (_, { shape, value, dtype }, backend) => {
  // The value travels as a parameter (its bits), so every fill value shares one pipeline.
  const T = wgslType(dtype);
  const bits =
    dtype === 'float32' ? f32bits(value) : dtype === 'int32' ? Math.trunc(value) >>> 0 : value ? 1 : 0;
  const [out] = gpu(backend).runProgram({
    code: `fn body(i: u32) { out0[i] = bitcast<${T}>(params[1]); }`,
    inputs: [],
    outputs: [{ shape, dtype }],
    params: [bits],
    threads: shape.reduce((a, b) => a * b, 1),
  });
  return out;
});

/** Writes `src` (broadcast) into the memory of the view `dst`. */
registerKernel('assign', 'webgpu', ([dst, src]) => mapGpu('x1', [src], dst.dtype, [], dst));
