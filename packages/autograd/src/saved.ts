// Tensors a gradient rule saved in the forward pass. Each is an extra handle with the storage
// version it had when saved: if the tensor is modified in place before backward reads it, the
// gradient would be computed from the wrong values, so reading it throws instead.
import { fmtShape, StateError, shareHandle, type Tensor } from '@softpool/tensor';

export interface Saved {
  tensor: Tensor;
  version: number;
}

export function save(t: Tensor): Saved {
  return { tensor: shareHandle(t), version: t.version };
}

/** The saved tensor, after checking that nothing wrote into it since it was saved. */
export function unpack(s: Saved, op: string, what: string): Tensor {
  if (s.tensor.version !== s.version) {
    throw new StateError(
      `backward: a tensor saved by '${op}' (its ${what}, ${fmtShape(s.tensor.shape)}) was modified in place after ` +
        `it was saved (version ${s.tensor.version}, saved at ${s.version}); clone it before modifying it`,
    );
  }
  return s.tensor;
}
