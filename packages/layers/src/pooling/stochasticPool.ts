// Stochastic pooling (Zeiler & Fergus, 2013), for non-negative activations (after ReLU; negative
// taps count as 0). Training: each window outputs one tap drawn with probability a_i / sum a; the
// gradient goes to it. Evaluation: the probability-weighted average sum a_i^2 / sum a_i.
import {
  checkTensor,
  div,
  type Generator,
  gt,
  mul,
  rand,
  relu,
  scope,
  type Tensor,
  where,
} from '@softpool/tensor';
import { avgPool2d } from './avgPool.js';
import { outputShape, type PoolOptions, poolInput, resolveGeometry } from './geometry.js';
import { first, runWindowPool } from './run.js';

export interface StochasticPoolOptions extends PoolOptions {
  /** Sample (true, default) or take the expectation (false, evaluation mode). */
  training?: boolean;
  /** A private random stream (default: the global one, seeded by manualSeed). */
  generator?: Generator;
}

/**
 * 2-D stochastic pooling.
 * @example stochasticPool2d(relu(x), { kernelSize: 2, training: model.training })
 */
export function stochasticPool2d(x: Tensor, options: StochasticPoolOptions): Tensor {
  // Intermediates are released here: only the result outlives the call.
  return scope(() => {
    checkTensor('stochasticPool2d', x);
    if (options?.training === false) {
      const r = relu(x);
      const avg = { ...options, countIncludePad: false };
      const num = avgPool2d(mul(r, x), avg);
      const den = avgPool2d(r, avg);
      const positive = gt(den, 0);
      return where(positive, div(num, where(positive, den, 1)), 0);
    }
    const { input } = poolInput('stochasticPool2d', x, 2);
    const geometry = resolveGeometry('stochasticPool2d', input.shape.slice(2), options);
    const u = rand([input.shape[0], input.shape[1], ...outputShape(input.shape.slice(2), geometry)], {
      generator: options.generator,
      backend: x.backend,
    });
    return first(runWindowPool('stochasticPool2d', 'stochasticPool', 2, x, options, {}, u));
  });
}
