// Random tensors from a seedable counter-based generator: the same seed gives the same numbers on
// every backend (each element is a pure function of seed and position).

import { run } from '../dispatch.js';
import { DTYPES, type DType, isDType, isFloat } from '../dtype.js';
import { ArgumentError, DTypeError } from '../errors.js';
import { defaultGenerator, type Generator } from '../random.js';
import { checkShape, type Shape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { CreateOptions } from './creation.js';
import { checkTensor, resolveBackend, showArg } from './util.js';

export interface RandomOptions extends CreateOptions {
  /** A private stream; default: the global generator seeded by `manualSeed`. */
  generator?: Generator;
}

/** The attrs every random kernel gets: key words and the first counter of this call. */
export interface RandomAttrs {
  [key: string]: unknown;
  shape: number[];
  dtype: DType;
  key: [number, number];
  counter: number;
}

function draw(
  op: string,
  shape: Shape,
  options: RandomOptions,
  dtype: DType,
  extra: Record<string, unknown> = {},
  inputs: Tensor[] = [],
): Tensor {
  if (typeof options !== 'object' || options === null)
    throw new ArgumentError(`${op}: options must be an object, got ${showArg(options)}`);
  if (!isDType(dtype))
    throw new DTypeError(`${op}: dtype must be one of ${DTYPES.join(', ')}, got ${showArg(dtype)}`);
  const dims = checkShape(op, shape);
  const g = options.generator ?? defaultGenerator();
  const attrs: RandomAttrs = { shape: dims, dtype, key: g.key, counter: g.advance(sizeOf(dims)), ...extra };
  const t = run(op, inputs, attrs, inputs.length ? undefined : resolveBackend(options.backend));
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

function floatType(op: string, dtype: DType | undefined): DType {
  const d = dtype ?? 'float32';
  if (!isFloat(d)) throw new DTypeError(`${op}: dtype must be float32 or float64, got ${showArg(d)}`);
  return d;
}

/**
 * Uniform samples in [0, 1).
 * @example manualSeed(0); rand([2, 3])
 */
export function rand(shape: Shape, options: RandomOptions = {}): Tensor {
  return draw('rand', shape, options, floatType('rand', options?.dtype));
}

/** Standard normal samples (Box-Muller). */
export function randn(shape: Shape, options: RandomOptions = {}): Tensor {
  return draw('randn', shape, options, floatType('randn', options?.dtype));
}

/** Uniform integers in [low, high) (int32 by default). */
export function randint(low: number, high: number, shape: Shape, options: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new ArgumentError(
      `randint: need integers low < high, got low ${showArg(low)}, high ${showArg(high)}`,
    );
  }
  if (high - low > 2 ** 32) throw new ArgumentError(`randint: range ${high - low} exceeds 2^32`);
  return draw('randint', shape, options, options.dtype ?? 'int32', { low, high });
}

/**
 * 1 with probability `p` (a number or a tensor of probabilities), else 0; float32 by default.
 * @example bernoulli(fullLike(x, 0.9)) // dropout mask
 */
export function bernoulli(p: Tensor | number, options: RandomOptions & { shape?: Shape } = {}): Tensor {
  if (typeof options !== 'object' || options === null)
    throw new ArgumentError(`bernoulli: options must be an object, got ${showArg(options)}`);
  if (typeof p === 'number') {
    if (!(p >= 0 && p <= 1)) throw new ArgumentError(`bernoulli: p must be in [0, 1], got ${p}`);
    if (!options.shape) throw new ArgumentError('bernoulli: a number p needs options.shape');
    return draw('bernoulli', options.shape, options, options.dtype ?? 'float32', { p });
  }
  checkTensor('bernoulli', p, 'p');
  if (!isFloat(p.dtype)) throw new DTypeError(`bernoulli: p must be a float tensor, got ${p.dtype}`);
  return draw('bernoulli', p.shape, options, options.dtype ?? p.dtype, {}, [p]);
}

/** `rand` with the shape (and dtype, backend) of `like`. */
export function randLike(like: Tensor, options: RandomOptions = {}): Tensor {
  checkTensor('randLike', like);
  return rand(like.shape, {
    dtype: isFloat(like.dtype) ? like.dtype : 'float32',
    backend: like.backend,
    ...options,
  });
}

/** `randn` with the shape (and dtype, backend) of `like`. */
export function randnLike(like: Tensor, options: RandomOptions = {}): Tensor {
  checkTensor('randnLike', like);
  return randn(like.shape, {
    dtype: isFloat(like.dtype) ? like.dtype : 'float32',
    backend: like.backend,
    ...options,
  });
}
