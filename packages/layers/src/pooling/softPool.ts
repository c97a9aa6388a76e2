// SoftPool (Stergiou et al., ICCV 2021): each window is reduced to sum(softmax(a) * a), per sample
// and per channel, computed stably (the window maximum is subtracted). The package README
// (Pooling) states the gradients this file offers.
import { ArgumentError, checkTensor, isGradRecording, showArg, type Tensor } from '@softpool/tensor';
import type { PoolOptions } from './geometry.js';
import { first, runWindowPool } from './run.js';

export interface SoftPoolOptions extends PoolOptions {
  /**
   * 'exact' (default): the true gradient w_i (1 + a_i - y). 'paper': w_i, the weights held
   * constant, as the reference CUDA kernel computes; it is NOT the gradient of the forward
   * (finite-difference checks fail for it by design). Offered to reproduce the paper's training.
   */
  gradient?: 'exact' | 'paper';
  /** Softmax temperature T (w ∝ exp(a/T)): T -> 0 tends to max pooling, T -> inf to averaging. Default 1. */
  temperature?: number;
}

function softPool(name: string, spatial: number, x: Tensor, options: SoftPoolOptions): Tensor {
  checkTensor(name, x);
  const gradient = options?.gradient ?? 'exact';
  if (gradient !== 'exact' && gradient !== 'paper') {
    throw new ArgumentError(`${name}: gradient must be 'exact' or 'paper', got ${showArg(gradient)}`);
  }
  const temperature = options?.temperature ?? 1;
  if (typeof temperature !== 'number' || !(temperature > 0) || !Number.isFinite(temperature)) {
    throw new ArgumentError(
      `${name}: temperature must be a positive finite number, got ${showArg(temperature)}`,
    );
  }
  // The op returns y, then the per-window statistics its backward needs; without a backward
  // (inference, or an input that needs no gradient) the kernels can skip them.
  const stats = isGradRecording() && x.requiresGrad;
  return first(runWindowPool(name, 'softPool', spatial, x, options, { gradient, temperature, stats }));
}

/**
 * 1-D SoftPool over [N, C, L] (or [C, L]).
 * @example softPool1d(x, { kernelSize: 2 })
 */
export function softPool1d(x: Tensor, options: SoftPoolOptions): Tensor {
  return softPool('softPool1d', 1, x, options);
}

/**
 * 2-D SoftPool over [N, C, H, W] (or [C, H, W]).
 * @example softPool2d(x, { kernelSize: 2 }); softPool2d(x, { kernelSize: [3, 2], stride: 2, padding: 1 })
 */
export function softPool2d(x: Tensor, options: SoftPoolOptions): Tensor {
  return softPool('softPool2d', 2, x, options);
}

/** 3-D SoftPool over [N, C, D, H, W] (or [C, D, H, W]). */
export function softPool3d(x: Tensor, options: SoftPoolOptions): Tensor {
  return softPool('softPool3d', 3, x, options);
}
