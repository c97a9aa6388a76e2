// Max pooling: the largest tap of each window (NaN propagates); the gradient goes to the first
// maximum. Indices are flat positions within each [D, H, W] plane, as PyTorch returns them.
import { ArgumentError, type Tensor } from '@softpool/tensor';
import type { PoolOptions } from './geometry.js';
import { first, runWindowPool } from './run.js';

function maxPool(
  name: string,
  spatial: number,
  x: Tensor,
  options: PoolOptions,
  withIndices: boolean,
): Tensor | [Tensor, Tensor] {
  const outs = runWindowPool(name, 'maxPool', spatial, x, options);
  return withIndices ? [outs[0], outs[1]] : first(outs);
}

/** 1-D max pooling. */
export function maxPool1d(x: Tensor, options: PoolOptions): Tensor {
  return maxPool('maxPool1d', 1, x, options, false) as Tensor;
}
/**
 * 2-D max pooling.
 * @example maxPool2d(x, { kernelSize: 2 })
 */
export function maxPool2d(x: Tensor, options: PoolOptions): Tensor {
  return maxPool('maxPool2d', 2, x, options, false) as Tensor;
}
/** 3-D max pooling. */
export function maxPool3d(x: Tensor, options: PoolOptions): Tensor {
  return maxPool('maxPool3d', 3, x, options, false) as Tensor;
}

/** Max pooling that also returns the int32 indices of the maxima (1-D, 2-D or 3-D by input rank). */
export function maxPoolWithIndices(x: Tensor, spatial: 1 | 2 | 3, options: PoolOptions): [Tensor, Tensor] {
  if (spatial !== 1 && spatial !== 2 && spatial !== 3)
    throw new ArgumentError(
      `maxPoolWithIndices: spatial must be 1, 2 or 3, got ${typeof spatial === 'number' ? spatial : typeof spatial}`,
    );
  return maxPool(`maxPool${spatial}d`, spatial, x, options, true) as [Tensor, Tensor];
}
