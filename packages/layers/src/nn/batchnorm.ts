// Batch normalisation over the channel dim of [N, C, ...]: batch statistics in training (and the
// running estimates updated with momentum), running statistics in eval mode, as in PyTorch.
import { noGrad } from '@softpool/autograd';
import {
  ArgumentError,
  add,
  cast,
  dispatch,
  div,
  fmtShape,
  hasKernel,
  mean,
  mul,
  ones,
  relu,
  reshape,
  rsqrt,
  ShapeError,
  scope,
  sub,
  type Tensor,
  variance,
  zeros,
} from '@softpool/tensor';
import { Module, type Parameter, param } from '../module.js';
import { ReLU } from './activations.js';
import './cpu/batchNorm.js';
import './webgpu/batchNorm.js';
import './grads.js';

export interface BatchNormOptions {
  eps?: number;
  /** Weight of the new batch in the running averages; null: a cumulative average. Default 0.1. */
  momentum?: number | null;
  /** Learn a per-channel scale and shift. Default true. */
  affine?: boolean;
  /** Keep running statistics (and use them in eval mode). Default true. */
  trackRunningStats?: boolean;
}

abstract class BatchNormNd extends Module {
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  declare runningMean: Tensor | null;
  declare runningVar: Tensor | null;
  declare numBatchesTracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly trackRunningStats: boolean;

  constructor(
    private readonly ranks: number[],
    readonly numFeatures: number,
    { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true }: BatchNormOptions = {},
  ) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) {
      throw new ArgumentError(
        `${this.constructor.name}: numFeatures must be a positive integer, got ${numFeatures}`,
      );
    }
    this.eps = eps;
    this.momentum = momentum;
    this.trackRunningStats = trackRunningStats;
    this.weight = affine ? param(ones([numFeatures])) : null;
    this.bias = affine ? param(zeros([numFeatures])) : null;
    this.registerBuffer('runningMean', trackRunningStats ? zeros([numFeatures]) : null);
    this.registerBuffer('runningVar', trackRunningStats ? ones([numFeatures]) : null);
    this.registerBuffer('numBatchesTracked', trackRunningStats ? zeros([], { dtype: 'int32' }) : null);
  }

  override forward(x: Tensor): Tensor {
    return this.#forward(x, false);
  }

  /**
   * relu(forward(x)) as one op where the fused batch norm runs (training, batch statistics): the
   * same values with one pass and one tensor fewer. `Sequential` uses it for a batch norm followed
   * by a `ReLU`.
   */
  forwardRelu(x: Tensor): Tensor {
    return this.#forward(x, true);
  }

  override fusedForward(next: Module): ((x: Tensor) => Tensor) | undefined {
    return next instanceof ReLU ? (x) => this.forwardRelu(x) : undefined;
  }

  #forward(x: Tensor, withRelu: boolean): Tensor {
    const name = this.constructor.name;
    if (!this.ranks.includes(x.rank) || x.shape[1] !== this.numFeatures) {
      throw new ShapeError(
        `${name}: expected ${this.ranks.map((r) => `${r}-D`).join(' or ')} input with ${this.numFeatures} channels in dim 1, got ${fmtShape(x.shape)}`,
      );
    }
    // Statistics and temporaries are released here; only the output outlives the call.
    return scope(() => {
      const axes = [0, ...x.shape.slice(2).map((_, i) => i + 2)];
      const bshape = x.shape.map((d, i) => (i === 1 ? d : 1));
      const useBatch = this.training || !this.trackRunningStats;
      let m: Tensor;
      let v: Tensor;
      if (useBatch) {
        const count = x.size / this.numFeatures;
        if (this.training && count <= 1)
          throw new ShapeError(
            `${name}: training needs more than 1 value per channel, got input ${fmtShape(x.shape)}`,
          );
        if (hasKernel('batchNorm', x.device)) {
          // The fused op: normalisation, statistics and their gradients in a few passes.
          const gamma = this.weight ?? ones([this.numFeatures], { dtype: x.dtype, backend: x.device });
          const beta = this.bias ?? zeros([this.numFeatures], { dtype: x.dtype, backend: x.device });
          const [y, bm, bv] = dispatch('batchNorm', [x, gamma, beta], { eps: this.eps, relu: withRelu });
          if (this.training && this.trackRunningStats) this.#track(bm, bv, count);
          return y;
        }
        m = mean(x, axes);
        v = variance(x, axes, { correction: 0 });
        if (this.training && this.trackRunningStats) this.#track(m, v, count);
      } else {
        m = this.runningMean!;
        v = this.runningVar!;
      }
      let y = mul(sub(x, reshape(m, bshape)), reshape(rsqrt(add(v, this.eps)), bshape));
      if (this.weight && this.bias) y = add(mul(y, reshape(this.weight, bshape)), reshape(this.bias, bshape));
      return withRelu ? relu(y) : y;
    });
  }

  #track(m: Tensor, v: Tensor, count: number): void {
    // Its own scope: the temporaries are released even when forward runs outside one.
    noGrad(() =>
      scope(() => {
        this.numBatchesTracked!.add_(1);
        // Cumulative average (momentum null): f = 1 / batches, computed where the counter lives.
        const f = this.momentum ?? div(1, cast(this.numBatchesTracked!, m.dtype));
        const keep = typeof f === 'number' ? 1 - f : sub(1, f);
        // The running variance is the unbiased estimate, as in PyTorch.
        const unbiased = mul(v, count / (count - 1));
        this.runningMean!.copy_(add(mul(this.runningMean!, keep), mul(m, f)));
        this.runningVar!.copy_(add(mul(this.runningVar!, keep), mul(unbiased, f)));
      }),
    );
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.weight !== null}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/** Over [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNormNd {
  constructor(numFeatures: number, options?: BatchNormOptions) {
    super([2, 3], numFeatures, options);
  }
}
/** Over [N, C, H, W]. @example new BatchNorm2d(16) */
export class BatchNorm2d extends BatchNormNd {
  constructor(numFeatures: number, options?: BatchNormOptions) {
    super([4], numFeatures, options);
  }
}
/** Over [N, C, D, H, W]. */
export class BatchNorm3d extends BatchNormNd {
  constructor(numFeatures: number, options?: BatchNormOptions) {
    super([5], numFeatures, options);
  }
}
