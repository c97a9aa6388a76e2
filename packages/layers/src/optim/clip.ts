// Gradient clipping by total norm (torch.nn.utils.clip_grad_norm_).
import { noGrad } from '@softpool/autograd';
import { abs, add, clamp, div, max, pow, stack, sum, type Tensor } from '@softpool/tensor';

/**
 * Scales all gradients in place so their joint `normType`-norm is at most `maxNorm`, and returns
 * the norm before clipping as a 0-d tensor (no read-back: it works the same on every backend).
 * `normType` Infinity uses the largest absolute value.
 * @example clipGradNorm(model.parameters(), 1.0);
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2): Tensor {
  const grads = [...params].map((p) => p.grad).filter((g): g is Tensor => g !== null && g !== undefined);
  return noGrad(() => {
    if (grads.length === 0) throw new TypeError('clipGradNorm: no parameter has a gradient');
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
