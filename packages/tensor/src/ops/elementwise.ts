// Elementwise ops: unary math, binary arithmetic and comparisons with NumPy broadcasting, where,
// clamp, cast. Front-ends resolve dtypes and scalars, then dispatch one kernel by op name.

import { run } from '../dispatch.js';
import { type DType, isDType, isFloat } from '../dtype.js';
import { ArgumentError, DTypeError, fmtShape, ShapeError } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkTensor, operands, resultDType, scalarTensor, showArg, type TensorLike } from './util.js';

/** Unary ops computed in floating point (integer and bool inputs become float32 first). */
export const FLOAT_UNARY_OPS = [
  'exp',
  'log',
  'log1p',
  'expm1',
  'sqrt',
  'rsqrt',
  'sin',
  'cos',
  'tanh',
  'sigmoid',
  'erf',
  'reciprocal',
  'gelu',
] as const;
/** Unary ops that keep an int32 input's dtype. */
export const NUMERIC_UNARY_OPS = [
  'neg',
  'abs',
  'sign',
  'relu',
  'square',
  'floor',
  'ceil',
  'round',
  'leakyRelu',
] as const;
export const UNARY_OPS = [...FLOAT_UNARY_OPS, ...NUMERIC_UNARY_OPS, 'logicalNot'] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

export const ARITHMETIC_OPS = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'] as const;
export const COMPARISON_OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
export const LOGICAL_OPS = ['logicalAnd', 'logicalOr'] as const;
export const BINARY_OPS = [...ARITHMETIC_OPS, ...COMPARISON_OPS, ...LOGICAL_OPS] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

function floatUnary(op: UnaryOp, x: Tensor, attrs: Record<string, unknown> = {}): Tensor {
  checkTensor(op, x);
  const input = isFloat(x.dtype) ? x : run('cast', [x], { dtype: 'float32' });
  return run(op, [input], attrs);
}

function numericUnary(op: UnaryOp, x: Tensor, attrs: Record<string, unknown> = {}): Tensor {
  checkTensor(op, x);
  if (x.dtype === 'bool')
    throw new DTypeError(`${op}: bool tensors are not supported; cast to int32 or float32 first`);
  return run(op, [x], attrs);
}

/** -x */
export const neg = (x: Tensor): Tensor => numericUnary('neg', x);
/** |x| */
export const abs = (x: Tensor): Tensor => numericUnary('abs', x);
/** -1, 0 or 1 (NaN stays NaN). */
export const sign = (x: Tensor): Tensor => numericUnary('sign', x);
/** max(x, 0); NaN propagates. */
export const relu = (x: Tensor): Tensor => numericUnary('relu', x);
/**
 * The gradient of relu: `gradOutput` where `input` > 0, else 0 (NaN inputs pass the gradient, as
 * in PyTorch's threshold_backward). One pass instead of a comparison, a cast and a product.
 * @example reluBackward(dy, x) // dx of y = relu(x)
 */
export function reluBackward(gradOutput: Tensor, input: Tensor): Tensor {
  checkTensor('reluBackward', gradOutput, 'gradOutput');
  checkTensor('reluBackward', input, 'input');
  if (gradOutput.shape.length !== input.shape.length || gradOutput.shape.some((d, i) => d !== input.shape[i]))
    throw new ShapeError(
      `reluBackward: gradOutput ${fmtShape(gradOutput.shape)} and input ${fmtShape(input.shape)} must have the same shape`,
    );
  if (gradOutput.dtype !== input.dtype || gradOutput.dtype === 'bool')
    throw new DTypeError(
      `reluBackward: gradOutput and input must share a numeric dtype, got ${gradOutput.dtype} and ${input.dtype}`,
    );
  return run('reluBackward', [gradOutput, input]);
}
/** x * x */
export const square = (x: Tensor): Tensor => numericUnary('square', x);
export const floor = (x: Tensor): Tensor => numericUnary('floor', x);
export const ceil = (x: Tensor): Tensor => numericUnary('ceil', x);
/** Rounds half to even, like PyTorch. */
export const round = (x: Tensor): Tensor => numericUnary('round', x);
export const exp = (x: Tensor): Tensor => floatUnary('exp', x);
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => floatUnary('log', x);
/** log(1 + x), accurate near 0. */
export const log1p = (x: Tensor): Tensor => floatUnary('log1p', x);
/** exp(x) - 1, accurate near 0. */
export const expm1 = (x: Tensor): Tensor => floatUnary('expm1', x);
export const sqrt = (x: Tensor): Tensor => floatUnary('sqrt', x);
/** 1 / sqrt(x) */
export const rsqrt = (x: Tensor): Tensor => floatUnary('rsqrt', x);
export const sin = (x: Tensor): Tensor => floatUnary('sin', x);
export const cos = (x: Tensor): Tensor => floatUnary('cos', x);
export const tanh = (x: Tensor): Tensor => floatUnary('tanh', x);
/** 1 / (1 + exp(-x)), computed without overflow. */
export const sigmoid = (x: Tensor): Tensor => floatUnary('sigmoid', x);
/** The Gauss error function. */
export const erf = (x: Tensor): Tensor => floatUnary('erf', x);
/** 1 / x */
export const reciprocal = (x: Tensor): Tensor => floatUnary('reciprocal', x);

/** x for x > 0, negativeSlope * x otherwise (default slope 0.01, as in PyTorch). */
export function leakyRelu(x: Tensor, options: { negativeSlope?: number } = {}): Tensor {
  const negativeSlope = options?.negativeSlope ?? 0.01;
  if (typeof negativeSlope !== 'number' || !Number.isFinite(negativeSlope))
    throw new ArgumentError(
      `leakyRelu: negativeSlope must be a finite number, got ${showArg(negativeSlope)}`,
    );
  checkTensor('leakyRelu', x);
  const input = isFloat(x.dtype) ? x : run('cast', [x], { dtype: 'float32' });
  return run('leakyRelu', [input], { negativeSlope });
}

/** x * Phi(x), exact (erf) by default; `approximate: 'tanh'` gives the tanh formula. */
export function gelu(x: Tensor, options: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  const approximate = options?.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new ArgumentError(`gelu: approximate must be 'none' or 'tanh', got ${showArg(approximate)}`);
  }
  return floatUnary('gelu', x, { approximate });
}

/** Elementwise NOT: true where x is 0. */
export function logicalNot(x: Tensor): Tensor {
  checkTensor('logicalNot', x);
  return run('logicalNot', [x]);
}

/** Converts to another dtype (float -> int truncates toward zero; nonzero -> true). */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensor('cast', x);
  if (!isDType(dtype)) throw new DTypeError(`cast: unknown dtype '${String(dtype)}'`);
  return run('cast', [x], { dtype });
}

function binary(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  let dtype = resultDType(op, [a, b]);
  if (op === 'div' && !isFloat(dtype)) dtype = 'float32';
  else if (dtype === 'bool' && (ARITHMETIC_OPS as readonly string[]).includes(op)) dtype = 'int32';
  const [x, y] = operands(op, [a, b], dtype);
  try {
    broadcastShapes(op, x.shape, y.shape);
    return run(op, [x, y]);
  } finally {
    // Operands made here (numbers as 0-d tensors, casts) belong to nobody else: release them
    // (autograd keeps its own handle on what it saved).
    if (x !== a) x.dispose();
    if (y !== b) y.dispose();
  }
}

/** a + b, broadcasting. */
export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
/** a - b, broadcasting. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
/** a * b, broadcasting. */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
/** a / b (true division: integer inputs give float32). */
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);
/** a ** b */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('pow', a, b);
/** Elementwise maximum; NaN propagates. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('maximum', a, b);
/** Elementwise minimum; NaN propagates. */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('minimum', a, b);
export const eq = (a: TensorLike, b: TensorLike): Tensor => binary('eq', a, b);
export const ne = (a: TensorLike, b: TensorLike): Tensor => binary('ne', a, b);
export const lt = (a: TensorLike, b: TensorLike): Tensor => binary('lt', a, b);
export const le = (a: TensorLike, b: TensorLike): Tensor => binary('le', a, b);
export const gt = (a: TensorLike, b: TensorLike): Tensor => binary('gt', a, b);
export const ge = (a: TensorLike, b: TensorLike): Tensor => binary('ge', a, b);
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => binary('logicalAnd', a, b);
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => binary('logicalOr', a, b);

/**
 * `a` where `condition` is true, else `b`, all three broadcast together.
 * @example where(gt(x, 0), x, 0) // relu
 */
/** Operands that may be numbers must be numbers, booleans or tensors (null/undefined: absent). */
function scalarOperands(op: string, values: unknown[]): void {
  for (const v of values)
    if (
      v !== undefined &&
      v !== null &&
      typeof v !== 'number' &&
      typeof v !== 'boolean' &&
      !(v instanceof Tensor)
    )
      throw new ArgumentError(`${op}: operands must be tensors or numbers, got ${showArg(v)}`);
}

export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  checkTensor('where', condition, 'condition');
  scalarOperands('where', [a, b]);
  // Two numbers give float32, as in PyTorch; otherwise the tensors' dtypes decide.
  const dtype = a instanceof Tensor || b instanceof Tensor ? resultDType('where', [a, b]) : 'float32';
  const cond = condition.dtype === 'bool' ? condition : run('cast', [condition], { dtype: 'bool' });
  const [x, y] = [a, b].map((v) => {
    if (!(v instanceof Tensor)) return scalarTensor(Number(v), dtype, condition.backend);
    checkTensor('where', v);
    return v.dtype === dtype ? v : run('cast', [v], { dtype });
  });
  broadcastShapes('where', cond.shape, x.shape, y.shape);
  return run('where', [cond, x, y]);
}

/**
 * Limits values to [min, max] (either bound may be omitted). Tensor bounds broadcast.
 * @example clamp(x, 0, 1)
 */
export function clamp(x: Tensor, min?: TensorLike | null, max?: TensorLike | null): Tensor {
  checkTensor('clamp', x);
  scalarOperands('clamp', [min, max]);
  if ((min === undefined || min === null) && (max === undefined || max === null)) {
    throw new ArgumentError('clamp: give at least one of min and max');
  }
  if (min instanceof Tensor || max instanceof Tensor) {
    let out = x;
    if (min !== undefined && min !== null) out = maximum(out, min);
    if (max !== undefined && max !== null) out = minimum(out, max);
    return out;
  }
  const lo = min === undefined || min === null ? -Infinity : Number(min);
  const hi = max === undefined || max === null ? Infinity : Number(max);
  if (Number.isNaN(lo) || Number.isNaN(hi)) throw new ArgumentError('clamp: bounds must not be NaN');
  if (x.dtype === 'bool') throw new DTypeError('clamp: bool tensors are not supported; cast first');
  const dtype = resultDType('clamp', [x, lo === -Infinity ? 0 : lo, hi === Infinity ? 0 : hi]);
  const input = dtype === x.dtype ? x : run('cast', [x], { dtype });
  return run('clamp', [input], { min: lo, max: hi });
}
