// Reductions over any axes with keepDim, and the softmax family along one axis.

import { run } from '../dispatch.js';
import { isFloat } from '../dtype.js';
import { ArgumentError, fmtShape } from '../errors.js';
import { scope } from '../scope.js';
import { normalizeAxes, normalizeAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { div, sqrt, square, sub } from './elementwise.js';
import { checkTensor } from './util.js';
import { permute, reshape } from './view.js';

export interface ReduceOptions {
  /** Axis or axes to reduce; default: all. Negative values count from the end. */
  axis?: number | readonly number[];
  /** Keep reduced axes as size 1. Default false. */
  keepDim?: boolean;
}

/** Second argument of a reduction: axes directly, or an options object. */
export type AxisArg = number | readonly number[] | ReduceOptions | undefined;

const isOptions = (v: unknown): v is ReduceOptions =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The options of a reduction from its (axis | options, options) arguments, validated. */
function reduceOptions<T extends ReduceOptions>(op: string, arg: unknown, options: unknown): T {
  if (options !== undefined && !isOptions(options))
    throw new ArgumentError(`${op}: options must be an object, got ${describe(options)}`);
  if (arg === undefined || typeof arg === 'number' || Array.isArray(arg))
    return { ...(options as T | undefined), axis: arg as number | number[] } as T;
  if (!isOptions(arg))
    throw new ArgumentError(
      `${op}: axis must be an integer, an array of integers or an options object, got ${describe(arg)}`,
    );
  if (typeof arg.keepDim !== 'undefined' && typeof arg.keepDim !== 'boolean')
    throw new ArgumentError(`${op}: keepDim must be a boolean, got ${describe(arg.keepDim)}`);
  return arg as T;
}

const describe = (v: unknown) => (typeof v === 'string' ? `'${v}'` : v === null ? 'null' : String(v));

function parse(
  op: string,
  x: Tensor,
  arg: AxisArg,
  options: ReduceOptions = {},
): { axes: number[]; keepDim: boolean } {
  checkTensor(op, x);
  const opts = reduceOptions<ReduceOptions>(op, arg, options);
  if (opts.axis !== undefined && typeof opts.axis !== 'number' && !Array.isArray(opts.axis))
    throw new ArgumentError(
      `${op}: axis must be an integer or an array of integers, got ${describe(opts.axis)}`,
    );
  return { axes: normalizeAxes(op, opts.axis, x.rank), keepDim: opts.keepDim ?? false };
}

function reduce(op: string, x: Tensor, arg: AxisArg, options?: ReduceOptions): Tensor {
  const { axes, keepDim } = parse(op, x, arg, options);
  return run(op, [x], { axes, keepDim });
}

/** `sum`/`prod` of bool inputs go through an int32 cast that nobody else holds. */
function reduceCast(op: 'sum' | 'prod', x: Tensor, arg: AxisArg, options?: ReduceOptions): Tensor {
  if (x?.dtype !== 'bool') return reduce(op, x, arg, options);
  return scope(() => reduce(op, run('cast', [checkTensor(op, x)], { dtype: 'int32' }), arg, options));
}

/**
 * Sum over axes (all by default). int32 and bool inputs sum to int32.
 * @example sum(x); sum(x, 1); sum(x, [0, 2], { keepDim: true }); sum(x, { axis: -1 })
 */
export function sum(x: Tensor, axis?: AxisArg, options?: ReduceOptions): Tensor {
  return reduceCast('sum', x, axis, options);
}

/** Product over axes. */
export function prod(x: Tensor, axis?: AxisArg, options?: ReduceOptions): Tensor {
  return reduceCast('prod', x, axis, options);
}

/** Maximum over axes (NaN propagates). Gradient: split evenly between tied maxima. */
export function max(x: Tensor, axis?: AxisArg, options?: ReduceOptions): Tensor {
  return reduceNonEmpty('max', x, axis, options);
}

/** Minimum over axes (NaN propagates). */
export function min(x: Tensor, axis?: AxisArg, options?: ReduceOptions): Tensor {
  return reduceNonEmpty('min', x, axis, options);
}

function reduceNonEmpty(op: string, x: Tensor, axis: AxisArg, options?: ReduceOptions): Tensor {
  const { axes, keepDim } = parse(op, x, axis, options);
  if (axes.some((a) => x.shape[a] === 0) || (x.rank > 0 && axes.length === 0 && x.size === 0)) {
    throw new ArgumentError(`${op}: cannot reduce an empty axis of ${fmtShape(x.shape)} (no identity)`);
  }
  return run(op, [x], { axes, keepDim });
}

/** True where every element along the axes is nonzero. */
export function all(x: Tensor, axis?: AxisArg, options?: ReduceOptions): Tensor {
  return reduce('all', x, axis, options);
}

/** True where any element along the axes is nonzero. */
export function any(x: Tensor, axis?: AxisArg, options?: ReduceOptions): Tensor {
  return reduce('any', x, axis, options);
}

function argReduce(
  op: 'argmax' | 'argmin',
  x: Tensor,
  axis?: number,
  options: { keepDim?: boolean } = {},
): Tensor {
  checkTensor(op, x);
  if (x.size === 0) throw new ArgumentError(`${op}: cannot reduce an empty tensor ${fmtShape(x.shape)}`);
  if (axis === undefined)
    return scope(() => {
      const out = run(op, [reshape(x, [x.size])], { axes: [0], keepDim: false });
      return options.keepDim
        ? reshape(
            out,
            x.shape.map(() => 1),
          )
        : out;
    });
  const a = normalizeAxis(op, axis, x.rank);
  return run(op, [x], { axes: x.rank === 0 ? [] : [a], keepDim: options.keepDim ?? false });
}

/** Index (int32) of the first maximum along `axis`, or in the flattened tensor. NaN counts as maximum. */
export function argmax(x: Tensor, axis?: number, options?: { keepDim?: boolean }): Tensor {
  return argReduce('argmax', x, axis, options);
}

/** Index (int32) of the first minimum along `axis`, or in the flattened tensor. */
export function argmin(x: Tensor, axis?: number, options?: { keepDim?: boolean }): Tensor {
  return argReduce('argmin', x, axis, options);
}

function floatInput(op: string, x: Tensor): Tensor {
  checkTensor(op, x);
  return isFloat(x.dtype) ? x : run('cast', [x], { dtype: 'float32' });
}

/** Mean over axes (integer inputs give float32). Empty axes give NaN, as in PyTorch. */
export function mean(x: Tensor, axis?: AxisArg, options?: ReduceOptions): Tensor {
  return scope(() => {
    const input = floatInput('mean', x);
    const { axes, keepDim } = parse('mean', input, axis, options);
    const count = sizeOf(axes.map((a) => input.shape[a]));
    return div(run('sum', [input], { axes, keepDim }), count);
  });
}

export interface VarianceOptions extends ReduceOptions {
  /** Subtracted from the count in the denominator: 1 (default) is the unbiased estimate. */
  correction?: number;
}

/**
 * Variance over axes with Bessel's correction by default (`correction: 0` for the population
 * variance). Also exported as `var`; the method is `x.var()`.
 */
export function variance(
  x: Tensor,
  axis?: number | readonly number[] | VarianceOptions,
  options: VarianceOptions = {},
): Tensor {
  return scope(() => {
    const input = floatInput('var', x);
    const opts = reduceOptions<VarianceOptions>('var', axis, options);
    const { axes, keepDim } = parse('var', input, opts);
    const correction = opts.correction ?? 1;
    if (typeof correction !== 'number' || !Number.isFinite(correction))
      throw new ArgumentError(`var: correction must be a finite number, got ${describe(correction)}`);
    const count = sizeOf(axes.map((a) => input.shape[a]));
    const centered = sub(input, div(run('sum', [input], { axes, keepDim: true }), count));
    return div(run('sum', [square(centered)], { axes, keepDim }), Math.max(count - correction, 0));
  });
}

/** Standard deviation: sqrt(var). */
export function std(
  x: Tensor,
  axis?: number | readonly number[] | VarianceOptions,
  options: VarianceOptions = {},
): Tensor {
  return scope(() => sqrt(variance(x, axis, options)));
}

/** Moves `axes` to the end and merges them, so one-axis kernels can reduce several axes. */
function mergeTrailing(x: Tensor, axes: number[]): Tensor {
  const keep = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const moved = permute(x, [...keep, ...axes]);
  return reshape(moved, [...keep.map((i) => x.shape[i]), sizeOf(axes.map((a) => x.shape[a]))]);
}

/**
 * log(sum(exp(x))) over axes, computed stably (max subtracted); -inf rows give -inf.
 * @example logSumExp(logits, -1)
 */
export function logSumExp(x: Tensor, axis?: AxisArg, options?: ReduceOptions): Tensor {
  return scope(() => logSumExpIn(floatInput('logSumExp', x), axis, options));
}

function logSumExpIn(input: Tensor, axis: AxisArg, options?: ReduceOptions): Tensor {
  const { axes, keepDim } = parse('logSumExp', input, axis, options);
  if (input.rank === 0) return run('logSumExp', [reshape(input, [1])], { axis: 0, keepDim: false });
  if (axes.length === 1) return run('logSumExp', [input], { axis: axes[0], keepDim });
  const merged = run('logSumExp', [mergeTrailing(input, axes)], {
    axis: input.rank - axes.length,
    keepDim: false,
  });
  return keepDim
    ? reshape(
        merged,
        input.shape.map((d, i) => (axes.includes(i) ? 1 : d)),
      )
    : merged;
}

function softmaxLike(op: 'softmax' | 'logSoftmax', x: Tensor, axis: number): Tensor {
  return scope(() => {
    const input = floatInput(op, x);
    if (input.rank === 0) return reshape(run(op, [reshape(input, [1])], { axis: 0 }), []);
    return run(op, [input], { axis: normalizeAxis(op, axis, input.rank) });
  });
}

/** exp(x) / sum(exp(x)) along `axis` (default last), stable for any finite input. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxLike('softmax', x, axis);
}

/** x - logSumExp(x) along `axis` (default last): the stable log of softmax. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxLike('logSoftmax', x, axis);
}
