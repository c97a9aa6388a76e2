// AdaPool (Stergiou & Poppe, 2021): y = beta * eDSCW + (1 - beta) * eM, where eM is SoftPool and
// beta in [0, 1] is learned (the AdaPool2d module keeps it in range through a sigmoid).
import { add, checkTensor, mul, scope, sub, type Tensor } from '@softpool/tensor';
import { edscwPool1d, edscwPool2d, edscwPool3d } from './edscwPool.js';
import type { PoolOptions } from './geometry.js';
import { softPool1d, softPool2d, softPool3d } from './softPool.js';

function adaPool(
  name: string,
  edscw: typeof edscwPool2d,
  soft: typeof softPool2d,
  x: Tensor,
  beta: Tensor,
  options: PoolOptions,
): Tensor {
  // Intermediates are released here: only the result outlives the call.
  return scope(() => {
    checkTensor(name, beta, 'beta');
    return add(mul(beta, edscw(x, options)), mul(sub(1, beta), soft(x, options)));
  });
}

/** 1-D AdaPool; `beta` broadcasts against the output (a scalar, or one value per output position). */
export const adaPool1d = (x: Tensor, beta: Tensor, options: PoolOptions): Tensor =>
  adaPool('adaPool1d', edscwPool1d, softPool1d, x, beta, options);
/**
 * 2-D AdaPool.
 * @example adaPool2d(x, scalar(0.5), { kernelSize: 2 })
 */
export const adaPool2d = (x: Tensor, beta: Tensor, options: PoolOptions): Tensor =>
  adaPool('adaPool2d', edscwPool2d, softPool2d, x, beta, options);
export const adaPool3d = (x: Tensor, beta: Tensor, options: PoolOptions): Tensor =>
  adaPool('adaPool3d', edscwPool3d, softPool3d, x, beta, options);
