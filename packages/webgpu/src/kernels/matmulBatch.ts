// Broadcast batch dims of the matmul kernels: per-operand strides, and the WGSL that turns a batch
// index into the operands' offsets.
import type { Tensor } from '@softpool/tensor';

/**
 * Batch offsets of one operand broadcast over `batch`: per batch dim, its element stride, or with
 * `matrices` its stride in whole matrices (the index of a matrix among the operand's own); 0 where
 * broadcast.
 */
export function batchStrides(t: Tensor, batch: readonly number[], matrices = false): number[] {
  const dims = t.shape.slice(0, -2);
  const strides = matrices
    ? dims.map((_, i) => dims.slice(i + 1).reduce((x, y) => x * y, 1))
    : t.strides.slice(0, -2);
  const lead = batch.length - dims.length;
  return batch.map((n, i) => (i < lead || (dims[i - lead] === 1 && n !== 1) ? 0 : strides[i - lead]));
}

/** WGSL: the offsets of A and B for batch index `b` (params from index 12: br, shape, aStr, bStr). */
export const BATCH = `
fn batchOffsets(b: u32) -> vec2<u32> {
  let br = params[12];
  var rem = b;
  var oa = params[10];
  var ob = params[11];
  for (var d = i32(br) - 1; d >= 0; d--) {
    let ud = u32(d);
    let n = params[13u + ud];
    let c = rem % n;
    rem = rem / n;
    oa += c * params[13u + br + ud];
    ob += c * params[13u + 2u * br + ud];
  }
  return vec2<u32>(oa, ob);
}`;
