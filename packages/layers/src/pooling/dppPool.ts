// Detail-preserving pooling (Saeedan et al., CVPR 2018): y = sum w a / sum w over each window,
// w_i = alpha + rho(a_i - a~_i), rho(d) = (sqrt(d^2 + eps^2))^lambda, a~ a 3x3 binomial blur of a.
// Taps that differ from their neighbourhood get more weight; alpha >= 0, lambda >= 0 are learned.
import {
  add,
  checkTensor,
  conv2d,
  div,
  mul,
  pad,
  pow,
  reshape,
  scope,
  sqrt,
  square,
  sub,
  type Tensor,
  tensor,
} from '@softpool/tensor';
import { avgPool2d } from './avgPool.js';
import type { PoolOptions } from './geometry.js';

const EPS = 1e-3;

/** 3x3 binomial blur per channel, replicate-padded (size kept). */
function blur(x: Tensor): Tensor {
  const batched = x.rank === 3 ? x.unsqueeze(0) : x;
  const C = batched.shape[1];
  const k = tensor([1, 2, 1, 2, 4, 2, 1, 2, 1], { dtype: x.dtype, backend: x.backend }).div(16);
  const weight = reshape(k, [1, 1, 3, 3]).expand([C, 1, 3, 3]).contiguous();
  const out = conv2d(pad(batched, [1, 1, 1, 1], { mode: 'replicate' }), weight, { groups: C });
  return x.rank === 3 ? out.squeeze(0) : out;
}

/**
 * 2-D detail-preserving pooling. `alpha` and `lambda` broadcast against [N, C, H, W] (scalars or
 * [C, 1, 1]).
 * @example dppPool2d(x, scalar(0.1), scalar(1), { kernelSize: 2 })
 */
export function dppPool2d(x: Tensor, alpha: Tensor, lambda: Tensor, options: PoolOptions): Tensor {
  // Intermediates are released here: only the result outlives the call.
  return scope(() => {
    checkTensor('dppPool2d', x);
    checkTensor('dppPool2d', alpha, 'alpha');
    checkTensor('dppPool2d', lambda, 'lambda');
    const d = sub(x, blur(x));
    const w = add(alpha, pow(sqrt(add(square(d), EPS * EPS)), lambda));
    const avg = { ...options, countIncludePad: false };
    return div(avgPool2d(mul(w, x), avg), avgPool2d(w, avg));
  });
}
