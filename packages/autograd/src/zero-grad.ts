// Clearing gradients between steps.
import type { Tensor } from '@softpool/tensor';

/**
 * Releases and clears `.grad` of each tensor (PyTorch's `set_to_none=True` behaviour, the
 * default there too): the next backward allocates fresh gradients.
 */
export function zeroGrad(tensors: Iterable<Tensor>): void {
  for (const t of tensors) {
    t.grad?.dispose();
    t.grad = null;
  }
}
