// Pooling modules: PyTorch-style classes around the functional poolings. The window poolings take
// the kernel size first, then options: new SoftPool2d(2), new MaxPool2d(3, { stride: 2, padding: 1 }),
// or one options object holding the kernel size: new MaxPool2d({ kernelSize: 3, stride: 2 }).
import {
  conv2d,
  defaultGenerator,
  full,
  type Generator,
  mul,
  reshape,
  scope,
  sigmoid,
  square,
  type Tensor,
  zeros,
} from '@softpool/tensor';
import { uniform } from '../init.js';
import { Module, type Parameter, param } from '../module.js';
import { adaPool1d, adaPool2d, adaPool3d } from './adaPool.js';
import {
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  adaptiveAvgPool3d,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  adaptiveMaxPool3d,
  globalAvgPool,
  globalMaxPool,
  type OutputSize,
} from './adaptive.js';
import { type AvgPoolOptions, avgPool1d, avgPool2d, avgPool3d } from './avgPool.js';
import { dppPool2d } from './dppPool.js';
import { edscwPool1d, edscwPool2d, edscwPool3d } from './edscwPool.js';
import type { IntOrTuple, PoolOptions } from './geometry.js';
import { gatedPool2d, lipPool2d, mixedPool2d, treePool2d } from './learned.js';
import { type LpPoolOptions, lpPool1d, lpPool2d, lpPool3d } from './lpPool.js';
import { maxPool1d, maxPool2d, maxPool3d } from './maxPool.js';
import { s3Pool2d } from './s3Pool.js';
import { type SoftPoolOptions, softPool1d, softPool2d, softPool3d } from './softPool.js';
import { stochasticPool2d } from './stochasticPool.js';

type Opts<T extends PoolOptions> = Omit<T, 'kernelSize'>;

function describe(o: Record<string, unknown>): string {
  return Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(', ')}]` : String(v)}`)
    .join(', ');
}

/** Base of the modules that wrap one functional window pooling. */
abstract class WindowPool<T extends PoolOptions> extends Module {
  readonly options: T;
  constructor(kernelSize: IntOrTuple, options?: Opts<T>);
  constructor(options: T);
  constructor(kernelSize: IntOrTuple | T, options: Opts<T> = {} as Opts<T>) {
    super();
    const whole = typeof kernelSize === 'object' && !Array.isArray(kernelSize);
    this.options = (whole ? { ...kernelSize } : { ...options, kernelSize }) as T;
  }
  override extraRepr(): string {
    return describe(this.options as unknown as Record<string, unknown>);
  }
}

/** SoftPool over [N, C, L]. @example new SoftPool1d(2) */
export class SoftPool1d extends WindowPool<SoftPoolOptions> {
  override forward(x: Tensor): Tensor {
    return softPool1d(x, this.options);
  }
}
/** SoftPool over [N, C, H, W]. @example new SoftPool2d(2, { stride: 2 }) */
export class SoftPool2d extends WindowPool<SoftPoolOptions> {
  override forward(x: Tensor): Tensor {
    return softPool2d(x, this.options);
  }
}
/** SoftPool over [N, C, D, H, W]. */
export class SoftPool3d extends WindowPool<SoftPoolOptions> {
  override forward(x: Tensor): Tensor {
    return softPool3d(x, this.options);
  }
}
export class MaxPool1d extends WindowPool<PoolOptions> {
  override forward(x: Tensor): Tensor {
    return maxPool1d(x, this.options);
  }
}
/** @example new MaxPool2d(3, { stride: 2, padding: 1 }) */
export class MaxPool2d extends WindowPool<PoolOptions> {
  override forward(x: Tensor): Tensor {
    return maxPool2d(x, this.options);
  }
}
export class MaxPool3d extends WindowPool<PoolOptions> {
  override forward(x: Tensor): Tensor {
    return maxPool3d(x, this.options);
  }
}
export class AvgPool1d extends WindowPool<AvgPoolOptions> {
  override forward(x: Tensor): Tensor {
    return avgPool1d(x, this.options);
  }
}
export class AvgPool2d extends WindowPool<AvgPoolOptions> {
  override forward(x: Tensor): Tensor {
    return avgPool2d(x, this.options);
  }
}
export class AvgPool3d extends WindowPool<AvgPoolOptions> {
  override forward(x: Tensor): Tensor {
    return avgPool3d(x, this.options);
  }
}
export class EDSCWPool1d extends WindowPool<PoolOptions> {
  override forward(x: Tensor): Tensor {
    return edscwPool1d(x, this.options);
  }
}
export class EDSCWPool2d extends WindowPool<PoolOptions> {
  override forward(x: Tensor): Tensor {
    return edscwPool2d(x, this.options);
  }
}
export class EDSCWPool3d extends WindowPool<PoolOptions> {
  override forward(x: Tensor): Tensor {
    return edscwPool3d(x, this.options);
  }
}

/** Power-average pooling. @example new LPPool2d(2, 3) // normType 2, kernel 3 */
abstract class LPPool<T extends LpPoolOptions> extends WindowPool<T> {
  constructor(normType: number, kernelSize: IntOrTuple, options: Opts<Omit<T, 'normType'>> = {} as Opts<T>) {
    super(kernelSize, { ...options, normType } as Opts<T>);
  }
}
export class LPPool1d extends LPPool<LpPoolOptions> {
  override forward(x: Tensor): Tensor {
    return lpPool1d(x, this.options);
  }
}
export class LPPool2d extends LPPool<LpPoolOptions> {
  override forward(x: Tensor): Tensor {
    return lpPool2d(x, this.options);
  }
}
export class LPPool3d extends LPPool<LpPoolOptions> {
  override forward(x: Tensor): Tensor {
    return lpPool3d(x, this.options);
  }
}

abstract class AdaptivePool extends Module {
  constructor(readonly outputSize: OutputSize) {
    super();
  }
  override extraRepr(): string {
    return `outputSize=${JSON.stringify(this.outputSize)}`;
  }
}
export class AdaptiveAvgPool1d extends AdaptivePool {
  override forward(x: Tensor): Tensor {
    return adaptiveAvgPool1d(x, this.outputSize);
  }
}
/** @example new AdaptiveAvgPool2d(1) // global average pooling, keeping [N, C, 1, 1] */
export class AdaptiveAvgPool2d extends AdaptivePool {
  override forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}
export class AdaptiveAvgPool3d extends AdaptivePool {
  override forward(x: Tensor): Tensor {
    return adaptiveAvgPool3d(x, this.outputSize);
  }
}
export class AdaptiveMaxPool1d extends AdaptivePool {
  override forward(x: Tensor): Tensor {
    return adaptiveMaxPool1d(x, this.outputSize);
  }
}
export class AdaptiveMaxPool2d extends AdaptivePool {
  override forward(x: Tensor): Tensor {
    return adaptiveMaxPool2d(x, this.outputSize);
  }
}
export class AdaptiveMaxPool3d extends AdaptivePool {
  override forward(x: Tensor): Tensor {
    return adaptiveMaxPool3d(x, this.outputSize);
  }
}

/** Mean over all spatial dims: [N, C, ...] -> [N, C]. */
export class GlobalAvgPool extends Module {
  override forward(x: Tensor): Tensor {
    return globalAvgPool(x);
  }
}
/** Maximum over all spatial dims: [N, C, ...] -> [N, C]. */
export class GlobalMaxPool extends Module {
  override forward(x: Tensor): Tensor {
    return globalMaxPool(x);
  }
}

export interface LearnedPoolOptions extends Opts<PoolOptions> {
  /** Learn one set of weights per channel (give the channel count); default: one per layer. */
  channels?: number;
}

/** Uniform(-b, b) weights of `shape` (PyTorch's default bound 1/sqrt(fan-in)). */
function uniformParam(shape: number[], bound: number): Parameter {
  return param(uniform(shape, -bound, bound));
}

function windowShape(kernelSize: IntOrTuple, channels?: number): number[] {
  const k = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : [...kernelSize];
  return channels ? [channels, ...k] : k;
}

/** alpha * max + (1 - alpha) * avg with alpha = sigmoid(a learned logit), per layer or channel. */
export class MixedPool2d extends WindowPool<PoolOptions> {
  readonly alphaLogit: Parameter;
  constructor(kernelSize: IntOrTuple, { channels, ...options }: LearnedPoolOptions = {}) {
    super(kernelSize, options);
    this.alphaLogit = param(zeros(channels ? [channels, 1, 1] : []));
  }
  override forward(x: Tensor): Tensor {
    return scope(() => mixedPool2d(x, sigmoid(this.alphaLogit), this.options));
  }
}

/** sigmoid(w . x_R) * max + (1 - sigmoid(w . x_R)) * avg with a learned gating vector w. */
export class GatedPool2d extends WindowPool<PoolOptions> {
  readonly gate: Parameter;
  constructor(kernelSize: IntOrTuple, { channels, ...options }: LearnedPoolOptions = {}) {
    super(kernelSize, options);
    const shape = windowShape(kernelSize, channels);
    this.gate = uniformParam(shape, 1 / Math.sqrt(shape.slice(-2).reduce((a, b) => a * b, 1)));
  }
  override forward(x: Tensor): Tensor {
    return gatedPool2d(x, this.gate, this.options);
  }
}

/** Tree pooling: 2^depth learned leaf filters mixed by 2^depth - 1 learned gates (default depth 2). */
export class TreePool2d extends WindowPool<PoolOptions> {
  readonly leaves: Parameter[];
  readonly gates: Parameter[];
  constructor(
    kernelSize: IntOrTuple,
    { channels, depth = 2, ...options }: LearnedPoolOptions & { depth?: number } = {},
  ) {
    super(kernelSize, options);
    const shape = windowShape(kernelSize, channels);
    const bound = 1 / Math.sqrt(shape.slice(-2).reduce((a, b) => a * b, 1));
    this.leaves = Array.from({ length: 2 ** depth }, () => uniformParam(shape, bound));
    this.gates = Array.from({ length: 2 ** depth - 1 }, () => uniformParam(shape, bound));
  }
  override forward(x: Tensor): Tensor {
    return treePool2d(x, this.leaves, this.gates, this.options);
  }
}

/**
 * LIP: importance logits from a learned depthwise 3x3 conv, bounded as 12 * sigmoid (as in the
 * paper's simple variant), then sum(exp(logit) a) / sum(exp(logit)) per window.
 */
export class LIPPool2d extends WindowPool<PoolOptions> {
  readonly logitWeight: Parameter;
  readonly logitBias: Parameter;
  constructor(channels: number, kernelSize: IntOrTuple, options: Opts<PoolOptions> = {}) {
    super(kernelSize, options);
    this.logitWeight = uniformParam([channels, 1, 3, 3], 1 / 3);
    this.logitBias = param(zeros([channels]));
  }
  override forward(x: Tensor): Tensor {
    return scope(() => {
      const batched = x.rank === 3 ? x.unsqueeze(0) : x;
      const logits = mul(
        sigmoid(conv2d(batched, this.logitWeight, this.logitBias, { padding: 1, groups: batched.shape[1] })),
        12,
      );
      return lipPool2d(x, x.rank === 3 ? reshape(logits, x.shape) : logits, this.options);
    });
  }
}

/** Detail-preserving pooling with learned alpha >= 0 and lambda >= 0 (kept so by squaring). */
export class DPPPool2d extends WindowPool<PoolOptions> {
  readonly alphaRoot: Parameter;
  readonly lambdaRoot: Parameter;
  constructor(kernelSize: IntOrTuple, { channels, ...options }: LearnedPoolOptions = {}) {
    super(kernelSize, options);
    const shape = channels ? [channels, 1, 1] : [];
    this.alphaRoot = param(full(shape, Math.sqrt(0.1)));
    this.lambdaRoot = param(full(shape, 1));
  }
  override forward(x: Tensor): Tensor {
    return scope(() => dppPool2d(x, square(this.alphaRoot), square(this.lambdaRoot), this.options));
  }
}

/** Stochastic pooling: samples in training mode, takes the expectation in eval mode. */
export class StochasticPool2d extends WindowPool<PoolOptions> {
  readonly generator: Generator;
  constructor(
    kernelSize: IntOrTuple,
    { generator, ...options }: Opts<PoolOptions> & { generator?: Generator } = {},
  ) {
    super(kernelSize, options);
    this.generator = generator ?? defaultGenerator();
  }
  override forward(x: Tensor): Tensor {
    return stochasticPool2d(x, { ...this.options, training: this.training, generator: this.generator });
  }
}

/** S3Pool: stride-1 max pooling, then random row/column subsampling (deterministic in eval mode). */
export class S3Pool2d extends Module {
  readonly generator: Generator;
  constructor(
    readonly stride: number,
    readonly options: { kernelSize?: number; gridSize?: number; generator?: Generator } = {},
  ) {
    super();
    this.generator = options.generator ?? defaultGenerator();
  }
  override forward(x: Tensor): Tensor {
    return s3Pool2d(x, {
      ...this.options,
      stride: this.stride,
      training: this.training,
      generator: this.generator,
    });
  }
  override extraRepr(): string {
    return describe({
      stride: this.stride,
      kernelSize: this.options.kernelSize,
      gridSize: this.options.gridSize,
    });
  }
}

/**
 * AdaPool: beta * eDSCW + (1 - beta) * SoftPool with beta = sigmoid(a learned logit): one scalar,
 * or one per output position when `betaShape` (e.g. the output [H, W]) is given.
 */
abstract class AdaPoolBase extends WindowPool<PoolOptions> {
  readonly betaLogit: Parameter;
  constructor(
    kernelSize: IntOrTuple,
    { betaShape = [], ...options }: Opts<PoolOptions> & { betaShape?: number[] } = {},
  ) {
    super(kernelSize, options);
    this.betaLogit = param(zeros(betaShape));
  }
}
export class AdaPool1d extends AdaPoolBase {
  override forward(x: Tensor): Tensor {
    return scope(() => adaPool1d(x, sigmoid(this.betaLogit), this.options));
  }
}
/** @example new AdaPool2d(2, { betaShape: [14, 14] }) */
export class AdaPool2d extends AdaPoolBase {
  override forward(x: Tensor): Tensor {
    return scope(() => adaPool2d(x, sigmoid(this.betaLogit), this.options));
  }
}
export class AdaPool3d extends AdaPoolBase {
  override forward(x: Tensor): Tensor {
    return scope(() => adaPool3d(x, sigmoid(this.betaLogit), this.options));
  }
}
