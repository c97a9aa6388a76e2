// Parameter initialisation (torch.nn.init): in-place fills under noGrad, with PyTorch's fan
// conventions, and `uniform` for creating fresh tensors. Layers use these for PyTorch's defaults.
import { noGrad } from '@softpool/autograd';
import {
  ArgumentError,
  add,
  checkTensor,
  copy_,
  type DType,
  type Generator,
  mul,
  rand,
  randn,
  type Shape,
  showArg,
  type Tensor,
} from '@softpool/tensor';

export interface InitOptions {
  generator?: Generator;
}

/** A new tensor of Uniform(low, high) samples. */
export function uniform(
  shape: Shape,
  low: number,
  high: number,
  options: InitOptions & { dtype?: DType; backend?: string } = {},
): Tensor {
  finite('uniform', { low, high });
  const r = rand(shape, options);
  const scaled = mul(r, high - low);
  const out = add(scaled, low);
  r.dispose();
  scaled.dispose();
  return out;
}

/** fan_in and fan_out of a weight ([out, in, ...kernel]), as torch.nn.init computes them. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2)
    throw new ArgumentError(`init: fan in and fan out need a tensor of rank >= 2, got rank ${shape.length}`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

export type Nonlinearity = 'linear' | 'relu' | 'leakyRelu' | 'tanh' | 'sigmoid';

/** The recommended gain of a nonlinearity (torch.nn.init.calculate_gain). */
export function calculateGain(nonlinearity: Nonlinearity, param = 0.01): number {
  switch (nonlinearity) {
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu':
      return Math.sqrt(2 / (1 + param * param));
    case 'tanh':
      return 5 / 3;
    default:
      return 1;
  }
}

function finite(op: string, values: Record<string, unknown>): void {
  for (const [name, v] of Object.entries(values))
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new ArgumentError(`${op}: ${name} must be a finite number, got ${showArg(v)}`);
}

function initOptions<T extends object>(op: string, options: T): T {
  if (typeof options !== 'object' || options === null)
    throw new ArgumentError(`${op}: options must be an object, got ${String(options)}`);
  return options;
}

function fill(t: Tensor, make: () => Tensor): Tensor {
  checkTensor('init', t, 'tensor');
  noGrad(() => {
    const v = make();
    copy_(t, v);
    v.dispose();
  });
  return t;
}

/** Fills with Uniform(low, high). */
export function uniform_(t: Tensor, low = 0, high = 1, options: InitOptions = {}): Tensor {
  return fill(t, () => uniform(t.shape, low, high, { ...options, dtype: t.dtype, backend: t.device }));
}

/** Fills with Normal(mean, std). */
export function normal_(t: Tensor, mean = 0, std = 1, options: InitOptions = {}): Tensor {
  finite('normal_', { mean, std });
  return fill(t, () => {
    const r = randn(t.shape, { ...options, dtype: t.dtype, backend: t.device });
    const out = add(mul(r, std), mean);
    r.dispose();
    return out;
  });
}

export function constant_(t: Tensor, value: number): Tensor {
  checkTensor('constant_', t, 'tensor');
  noGrad(() => t.fill_(value));
  return t;
}

export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

export interface KaimingOptions extends InitOptions {
  /** Negative slope of leaky ReLU (a). Default 0. */
  a?: number;
  mode?: 'fanIn' | 'fanOut';
  nonlinearity?: Nonlinearity;
}

/** He initialisation, uniform: bound = gain * sqrt(3 / fan). */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const f = fans(checkTensor('kaimingUniform_', t, 'tensor').shape);
  const {
    a = 0,
    mode = 'fanIn',
    nonlinearity = 'leakyRelu',
    ...rest
  } = initOptions('kaimingUniform_', options);
  const std = calculateGain(nonlinearity, a) / Math.sqrt(mode === 'fanIn' ? f.fanIn : f.fanOut);
  const bound = Math.sqrt(3) * std;
  return uniform_(t, -bound, bound, rest);
}

/** He initialisation, normal: std = gain / sqrt(fan). */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const f = fans(checkTensor('kaimingNormal_', t, 'tensor').shape);
  const {
    a = 0,
    mode = 'fanIn',
    nonlinearity = 'leakyRelu',
    ...rest
  } = initOptions('kaimingNormal_', options);
  return normal_(
    t,
    0,
    calculateGain(nonlinearity, a) / Math.sqrt(mode === 'fanIn' ? f.fanIn : f.fanOut),
    rest,
  );
}

/** Glorot initialisation, uniform: bound = gain * sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform_(t: Tensor, options: InitOptions & { gain?: number } = {}): Tensor {
  const f = fans(checkTensor('xavierUniform_', t, 'tensor').shape);
  const { gain = 1, ...rest } = initOptions('xavierUniform_', options);
  const bound = gain * Math.sqrt(6 / (f.fanIn + f.fanOut));
  return uniform_(t, -bound, bound, rest);
}

/** Glorot initialisation, normal: std = gain * sqrt(2 / (fanIn + fanOut)). */
export function xavierNormal_(t: Tensor, options: InitOptions & { gain?: number } = {}): Tensor {
  const f = fans(checkTensor('xavierNormal_', t, 'tensor').shape);
  const { gain = 1, ...rest } = initOptions('xavierNormal_', options);
  return normal_(t, 0, gain * Math.sqrt(2 / (f.fanIn + f.fanOut)), rest);
}
