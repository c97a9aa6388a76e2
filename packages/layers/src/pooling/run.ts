// The shared front-end path of the window poolings: validate, resolve the geometry, dispatch the
// N-d op, and undo the batch dim for unbatched inputs.
import {
  type Attrs,
  checkTensor,
  DTypeError,
  dispatch,
  isFloat,
  reshape,
  type Tensor,
} from '@softpool/tensor';
import { type PoolGeometry, type PoolOptions, poolInput, resolveGeometry } from './geometry.js';

/**
 * Runs window-pooling `op` for the user-facing function `name` (e.g. 'softPool2d'): returns every
 * output of the op, with the batch dim removed again for unbatched inputs. `more` are extra
 * tensor inputs of the op (already batched like the input).
 */
export function runWindowPool(
  name: string,
  op: string,
  spatial: number,
  x: Tensor,
  options: PoolOptions,
  extra: Attrs = {},
  ...more: Tensor[]
): Tensor[] {
  checkTensor(name, x);
  if (!isFloat(x.dtype)) throw new DTypeError(`${name}: input must be float32 or float64, got ${x.dtype}`);
  const { input, unbatched } = poolInput(name, x, spatial);
  try {
    const geometry: PoolGeometry = resolveGeometry(name, input.shape.slice(2), options);
    return unbatch(dispatch(op, [input, ...more], { ...geometry, ...extra }), unbatched);
  } finally {
    if (unbatched) input.dispose();
  }
}

/** Outputs of a batched op, with the batch dim removed again for an unbatched input. */
function unbatch(outs: Tensor[], unbatched: boolean): Tensor[] {
  if (!unbatched) return outs;
  return outs.map((o) => {
    const r = reshape(o, o.shape.slice(1));
    o.dispose();
    return r;
  });
}

/** Runs an op on an already resolved geometry (adaptive pooling). */
export function runGeometry(
  name: string,
  op: string,
  spatial: number,
  x: Tensor,
  geometry: PoolGeometry,
  extra: Attrs = {},
): Tensor[] {
  checkTensor(name, x);
  if (!isFloat(x.dtype)) throw new DTypeError(`${name}: input must be float32 or float64, got ${x.dtype}`);
  const { input, unbatched } = poolInput(name, x, spatial);
  try {
    return unbatch(dispatch(op, [input], { ...geometry, ...extra }), unbatched);
  } finally {
    if (unbatched) input.dispose();
  }
}

/** Keeps the first output and releases the statistics outputs the graph holds its own handles to. */
export function first(outs: Tensor[]): Tensor {
  for (let i = 1; i < outs.length; i++) outs[i].dispose();
  return outs[0];
}
