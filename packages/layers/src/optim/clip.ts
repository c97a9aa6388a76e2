// Gradient clipping by total norm (torch.nn.utils.clip_grad_norm_).
import { noGrad } from '@softpool/autograd';
import {
  ArgumentError,
  abs,
  add,
  checkTensor,
  clamp,
  div,
  max,
  pow,
  StateError,
  stack,
  sum,
  type Tensor,
} from '@softpool/tensor';

/**
 * Scales all gradients in place so their joint `normType`-norm is at most `maxNorm`, and returns
 * the norm before clipping as a 0-d tensor (no read-back: it works the same on every backend).
 * `normType` Infinity uses the largest absolute value.
 * @example clipGradNorm(model.parameters(), 1.0);
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2): Tensor {
  if (params === null || typeof (params as Iterable<Tensor>)?.[Symbol.iterator] !== 'function')
    throw new ArgumentError(`clipGradNorm: params must be an iterable of tensors, got ${String(params)}`);
  const list = [...params];
  for (const [i, p] of list.entries()) checkTensor('clipGradNorm', p, `params[${i}]`);
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0))
    throw new ArgumentError(`clipGradNorm: maxNorm must be a number >= 0, got ${String(maxNorm)}`);
  if (typeof normType !== 'number' || !(normType > 0))
    throw new ArgumentError(`clipGradNorm: normType must be a positive number, got ${String(normType)}`);
  const grads = list.map((p) => p.grad).filter((g): g is Tensor => g !== null && g !== undefined);
  return noGrad(() => {
    if (grads.length === 0) throw new StateError('clipGradNorm: no parameter has a gradient');
    const total =
      normType === Infinity
        ? max(stack(grads.map((g) => max(abs(g)))))
        : pow(sum(stack(grads.map((g) => sum(pow(abs(g), normType))))), 1 / normType);
    const coef = clamp(div(maxNorm, add(total, 1e-6)), null, 1);
    for (const g of grads) g.mul_(coef);
    coef.dispose();
    return total;
  });
}
