// Power-average (LP) pooling: (sum a^p)^(1/p) over each window, PyTorch's LPPool form. p = 1 is
// sum pooling, p -> inf tends to max pooling. Fractional p needs non-negative inputs (else NaN).
import { ArgumentError, type Tensor } from '@softpool/tensor';
import type { PoolOptions } from './geometry.js';
import { first, runWindowPool } from './run.js';

export interface LpPoolOptions extends PoolOptions {
  normType: number;
}

function lpPool(name: string, spatial: number, x: Tensor, options: LpPoolOptions): Tensor {
  const p = options?.normType;
  if (typeof p !== 'number' || !(p > 0) || !Number.isFinite(p)) {
    throw new ArgumentError(`${name}: normType must be a positive finite number, got ${p}`);
  }
  return first(runWindowPool(name, 'lpPool', spatial, x, options, { normType: p }));
}

export function lpPool1d(x: Tensor, options: LpPoolOptions): Tensor {
  return lpPool('lpPool1d', 1, x, options);
}
/**
 * 2-D power-average pooling.
 * @example lpPool2d(x, { normType: 2, kernelSize: 2 })
 */
export function lpPool2d(x: Tensor, options: LpPoolOptions): Tensor {
  return lpPool('lpPool2d', 2, x, options);
}
export function lpPool3d(x: Tensor, options: LpPoolOptions): Tensor {
  return lpPool('lpPool3d', 3, x, options);
}
