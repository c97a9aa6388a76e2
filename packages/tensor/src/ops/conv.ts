// Convolutions (cross-correlation, as in PyTorch) over 1, 2 or 3 spatial dims, and the two
// backward primitives autograd uses: gradient with respect to the input and to the weight.

import { run } from '../dispatch.js';
import { isFloat } from '../dtype.js';
import { ArgumentError, DTypeError, fmtShape, ShapeError } from '../errors.js';
import { checkShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkTensor, intList, isTensor, showArg, tupleOption } from './util.js';
import { reshape } from './view.js';

export interface ConvOptions {
  /** Step between windows, per spatial dim or one for all. Default 1. */
  stride?: number | readonly number[];
  /** Zero padding on both sides, per dim; 'valid' = 0; 'same' keeps the size (stride 1 only). */
  padding?: number | readonly number[] | 'same' | 'valid';
  /** Spacing between kernel taps. Default 1. */
  dilation?: number | readonly number[];
  /** Channel groups: in and out channels split into this many independent convolutions. */
  groups?: number;
}

/** The resolved geometry a conv kernel receives. */
export interface ConvAttrs {
  [key: string]: unknown;
  stride: number[];
  padBefore: number[];
  padAfter: number[];
  dilation: number[];
  groups: number;
}

/** Output length of one spatial dim. */
export function convOutSize(len: number, k: number, s: number, pb: number, pa: number, d: number): number {
  return Math.floor((len + pb + pa - d * (k - 1) - 1) / s) + 1;
}

export function resolveConv(
  op: string,
  spatial: number,
  kernel: readonly number[],
  options: ConvOptions,
): ConvAttrs {
  if (typeof options !== 'object' || options === null)
    throw new ArgumentError(`${op}: options must be an object, got ${showArg(options)}`);
  const stride = tupleOption(op, 'stride', options.stride ?? 1, spatial, 1);
  const dilation = tupleOption(op, 'dilation', options.dilation ?? 1, spatial, 1);
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1)
    throw new ArgumentError(`${op}: groups must be a positive integer, got ${groups}`);
  let padBefore: number[];
  let padAfter: number[];
  const padding = options.padding ?? 0;
  if (padding === 'valid') {
    padBefore = new Array<number>(spatial).fill(0);
    padAfter = [...padBefore];
  } else if (padding === 'same') {
    if (stride.some((s) => s !== 1))
      throw new ArgumentError(`${op}: padding 'same' needs stride 1, got [${stride.join(',')}]`);
    // Total padding d*(k-1); the odd one goes after, as in PyTorch.
    const total = kernel.map((k, i) => dilation[i] * (k - 1));
    padBefore = total.map((t) => Math.floor(t / 2));
    padAfter = total.map((t, i) => t - padBefore[i]);
  } else if (typeof padding === 'string') {
    throw new ArgumentError(`${op}: padding must be a number, a tuple, 'same' or 'valid', got '${padding}'`);
  } else {
    padBefore = tupleOption(op, 'padding', padding, spatial, 0);
    padAfter = [...padBefore];
  }
  return { stride, padBefore, padAfter, dilation, groups };
}

function checkConv(
  op: string,
  spatial: number,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
): void {
  checkTensor(op, x);
  checkTensor(op, weight, 'weight');
  if (weight.rank !== spatial + 2) {
    throw new ShapeError(
      `${op}: weight must be ${spatial + 2}-D [out, in/groups, ${'k'.repeat(spatial).split('').join(', ')}], got ${fmtShape(weight.shape)}`,
    );
  }
  if (x.rank !== spatial + 2) {
    throw new ShapeError(
      `${op}: input must be ${spatial + 2}-D [N, C, ...] (or ${spatial + 1}-D unbatched), got ${fmtShape(x.shape)}`,
    );
  }
  for (const [name, t] of [
    ['input', x],
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t && !isFloat(t.dtype))
      throw new DTypeError(`${op}: ${name} must be float32 or float64, got ${t.dtype}`);
  }
  if (x.dtype !== weight.dtype || (bias && bias.dtype !== x.dtype)) {
    throw new DTypeError(
      `${op}: input, weight and bias need one dtype, got ${x.dtype}, ${weight.dtype}${bias ? `, ${bias.dtype}` : ''}`,
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new ShapeError(`${op}: bias must be [${weight.shape[0]}], got ${fmtShape(bias.shape)}`);
  }
}

/** The input's channels against the weight's and the groups. */
function checkChannels(
  op: string,
  inputShape: readonly number[],
  weightShape: readonly number[],
  groups: number,
): void {
  const c = inputShape[1];
  const [cout, cinPerGroup] = weightShape;
  if (c % groups !== 0 || cout % groups !== 0) {
    throw new ShapeError(
      `${op}: in channels ${c} and out channels ${cout} must be divisible by groups ${groups}`,
    );
  }
  if (cinPerGroup * groups !== c) {
    throw new ShapeError(
      `${op}: weight ${fmtShape(weightShape)} expects ${cinPerGroup * groups} input channels, input ${fmtShape(inputShape)} has ${c}`,
    );
  }
}

/** Each spatial dim's dilated kernel against the padded input. */
function checkKernelFits(
  op: string,
  inputShape: readonly number[],
  kernel: readonly number[],
  a: ConvAttrs,
): void {
  kernel.forEach((k, i) => {
    const len = inputShape[2 + i];
    const span = a.dilation[i] * (k - 1) + 1;
    if (len + a.padBefore[i] + a.padAfter[i] < span) {
      throw new ShapeError(
        `${op}: kernel size ${k} (dilated span ${span}) exceeds padded input size ` +
          `${len + a.padBefore[i] + a.padAfter[i]} in spatial dim ${i} of ${fmtShape(inputShape)}`,
      );
    }
  });
}

function conv(
  op: string,
  spatial: number,
  x: Tensor,
  weight: Tensor,
  biasOrOptions: Tensor | null | undefined | ConvOptions,
  maybeOptions?: ConvOptions,
): Tensor {
  if (biasOrOptions !== null && biasOrOptions !== undefined && typeof biasOrOptions !== 'object')
    throw new ArgumentError(
      `${op}: the third argument must be a bias tensor, null or an options object, got ${showArg(biasOrOptions)}`,
    );
  if (maybeOptions !== undefined && (typeof maybeOptions !== 'object' || maybeOptions === null))
    throw new ArgumentError(`${op}: options must be an object, got ${showArg(maybeOptions)}`);
  const isOpts = biasOrOptions !== null && biasOrOptions !== undefined && !isTensor(biasOrOptions);
  const bias = isOpts ? undefined : (biasOrOptions as Tensor | null | undefined);
  const options = (isOpts ? biasOrOptions : maybeOptions) as ConvOptions | undefined;
  checkTensor(op, x);
  // Unbatched input [C, ...] -> [1, C, ...] and back.
  const unbatched = x.rank === spatial + 1;
  const input = unbatched ? reshape(x, [1, ...x.shape]) : x;
  checkConv(op, spatial, input, weight, bias);
  const attrs = resolveConv(op, spatial, weight.shape.slice(2), options ?? {});
  checkChannels(op, input.shape, weight.shape, attrs.groups);
  checkKernelFits(op, input.shape, weight.shape.slice(2), attrs);
  const out = run('conv', bias ? [input, weight, bias] : [input, weight], attrs);
  return unbatched ? reshape(out, out.shape.slice(1)) : out;
}

/**
 * 1-D convolution. `x` is [N, C, L] (or [C, L]); `weight` [Cout, C/groups, K].
 * @example conv1d(x, w, b, { padding: 1 })
 */
export function conv1d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null | ConvOptions,
  options?: ConvOptions,
): Tensor {
  return conv('conv1d', 1, x, weight, bias, options);
}

/**
 * 2-D convolution. `x` is [N, C, H, W] (or [C, H, W]); `weight` [Cout, C/groups, KH, KW].
 * @example conv2d(x, w, { stride: 2, padding: 1 }); conv2d(x, w, b, { padding: 'same' })
 */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null | ConvOptions,
  options?: ConvOptions,
): Tensor {
  return conv('conv2d', 2, x, weight, bias, options);
}

/** 3-D convolution. `x` is [N, C, D, H, W] (or [C, D, H, W]); `weight` [Cout, C/groups, KD, KH, KW]. */
export function conv3d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null | ConvOptions,
  options?: ConvOptions,
): Tensor {
  return conv('conv3d', 3, x, weight, bias, options);
}

/**
 * The checks of conv's front for a backward op (channels that fit the groups, a kernel that fits the
 * padded input), and gradOutput shaped as the forward's output, of the same float dtype as `other`.
 */
function checkBackward(
  op: string,
  inputShape: readonly number[],
  weightShape: readonly number[],
  gradOutput: Tensor,
  [otherName, other]: [string, Tensor],
  attrs: ConvAttrs,
): void {
  if (!isFloat(gradOutput.dtype) || gradOutput.dtype !== other.dtype)
    throw new DTypeError(
      `${op}: gradOutput and ${otherName} need one float dtype (float32 or float64), got ${gradOutput.dtype} and ${other.dtype}`,
    );
  checkChannels(op, inputShape, weightShape, attrs.groups);
  checkKernelFits(op, inputShape, weightShape.slice(2), attrs);
  const out = inputShape
    .slice(2)
    .map((len, i) =>
      convOutSize(
        len,
        weightShape[2 + i],
        attrs.stride[i],
        attrs.padBefore[i],
        attrs.padAfter[i],
        attrs.dilation[i],
      ),
    );
  const want = [inputShape[0], weightShape[0], ...out];
  if (want.some((d, i) => d !== gradOutput.shape[i]))
    throw new ShapeError(
      `${op}: gradOutput must be ${fmtShape(want)} for input ${fmtShape(inputShape)} and weight ${fmtShape(weightShape)}, got ${fmtShape(gradOutput.shape)}`,
    );
}

/**
 * Gradient of a convolution with respect to its input: the transposed convolution of
 * `gradOutput` [N, Cout, ...] with `weight`, shaped like the forward input `inputShape`.
 */
export function convBackwardInput(
  gradOutput: Tensor,
  weight: Tensor,
  inputShape: readonly number[],
  options: ConvOptions = {},
): Tensor {
  checkTensor('convBackwardInput', gradOutput, 'gradOutput');
  checkTensor('convBackwardInput', weight, 'weight');
  checkShape('convBackwardInput', intList('convBackwardInput', 'inputShape', inputShape));
  const spatial = weight.rank - 2;
  if (spatial < 1 || spatial > 3 || gradOutput.rank !== weight.rank || inputShape.length !== weight.rank) {
    throw new ShapeError(
      `convBackwardInput: gradOutput ${fmtShape(gradOutput.shape)}, weight ${fmtShape(weight.shape)} and input shape ${fmtShape(inputShape)} need one rank in 3..5`,
    );
  }
  const attrs = resolveConv('convBackwardInput', spatial, weight.shape.slice(2), options);
  checkBackward('convBackwardInput', inputShape, weight.shape, gradOutput, ['weight', weight], attrs);
  return run('convBackwardInput', [gradOutput, weight], { ...attrs, inputShape: [...inputShape] });
}

/** Gradient of a convolution with respect to its weight, shaped `weightShape`. */
export function convBackwardWeight(
  input: Tensor,
  gradOutput: Tensor,
  weightShape: readonly number[],
  options: ConvOptions = {},
): Tensor {
  checkTensor('convBackwardWeight', input);
  checkTensor('convBackwardWeight', gradOutput, 'gradOutput');
  checkShape('convBackwardWeight', intList('convBackwardWeight', 'weightShape', weightShape));
  const spatial = weightShape.length - 2;
  if (spatial < 1 || spatial > 3 || gradOutput.rank !== input.rank || input.rank !== weightShape.length) {
    throw new ShapeError(
      `convBackwardWeight: input ${fmtShape(input.shape)}, gradOutput ${fmtShape(gradOutput.shape)} and weight shape ${fmtShape(weightShape)} need one rank in 3..5`,
    );
  }
  const attrs = resolveConv('convBackwardWeight', spatial, weightShape.slice(2), options);
  checkBackward('convBackwardWeight', input.shape, weightShape, gradOutput, ['input', input], attrs);
  return run('convBackwardWeight', [input, gradOutput], { ...attrs, weightShape: [...weightShape] });
}
