// AdaPool's eDSCW (Stergiou & Poppe, 2021): weights are the softmax of each tap's Dice-Sorensen
// coefficient with the window mean, DSC_i = 2|a_i m| / (a_i^2 + m^2) (0/0 taken as 1), y = sum w a.
import type { Tensor } from '@softpool/tensor';
import type { PoolOptions } from './geometry.js';
import { first, runWindowPool } from './run.js';

export function edscwPool1d(x: Tensor, options: PoolOptions): Tensor {
  return first(runWindowPool('edscwPool1d', 'edscwPool', 1, x, options));
}
/**
 * 2-D eDSCW pooling.
 * @example edscwPool2d(x, { kernelSize: 2 })
 */
export function edscwPool2d(x: Tensor, options: PoolOptions): Tensor {
  return first(runWindowPool('edscwPool2d', 'edscwPool', 2, x, options));
}
export function edscwPool3d(x: Tensor, options: PoolOptions): Tensor {
  return first(runWindowPool('edscwPool3d', 'edscwPool', 3, x, options));
}
