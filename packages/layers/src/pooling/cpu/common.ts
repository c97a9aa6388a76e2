// Shared helpers of the reference CPU pooling kernels (any dtype, any geometry): each forward is
// one pass per output over its taps; each backward gathers, for every input element, over the
// windows that contain it (no scatter, deterministic).
import { cpuData, cpuEmpty, type DType, type Tensor, type TypedArray } from '@softpool/tensor';
import type { Plan } from '../plan.js';

/** Output tensor shape: [N, C, ...spatial out], with the input's spatial rank. */
export function outShape(x: Tensor, p: Plan): number[] {
  return [x.shape[0], x.shape[1], ...p.outSize.slice(3 - (x.rank - 2))];
}

export function newOut(x: Tensor, p: Plan, dtype: DType = x.dtype): { t: Tensor; d: TypedArray } {
  const t = cpuEmpty(outShape(x, p), dtype);
  return { t, d: cpuData(t) };
}
