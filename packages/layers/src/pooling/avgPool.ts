// Average pooling: the mean of each window. countIncludePad (default true, as in PyTorch)
// divides by the taps including padding; false divides by the real taps only.
import type { Tensor } from '@softpool/tensor';
import type { PoolOptions } from './geometry.js';
import { first, runWindowPool } from './run.js';

export interface AvgPoolOptions extends PoolOptions {
  countIncludePad?: boolean;
}

function avgPool(name: string, spatial: number, x: Tensor, options: AvgPoolOptions): Tensor {
  return first(
    runWindowPool(name, 'avgPool', spatial, x, options, {
      countIncludePad: options?.countIncludePad ?? true,
    }),
  );
}

export function avgPool1d(x: Tensor, options: AvgPoolOptions): Tensor {
  return avgPool('avgPool1d', 1, x, options);
}
/**
 * 2-D average pooling.
 * @example avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false })
 */
export function avgPool2d(x: Tensor, options: AvgPoolOptions): Tensor {
  return avgPool('avgPool2d', 2, x, options);
}
export function avgPool3d(x: Tensor, options: AvgPoolOptions): Tensor {
  return avgPool('avgPool3d', 3, x, options);
}
