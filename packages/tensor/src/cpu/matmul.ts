// CPU matmul: float32 goes through the packed SIMD gemm, float64 and int32 through the same
// packing with a plain JS kernel in float64 arithmetic. Batch dims broadcast; any strides are read directly.
import { registerKernel } from '../kernels.js';
import { broadcastShapes, contiguousStrides, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { buf, empty } from './backend.js';
import { gemm, type Mat } from './gemm.js';

/** Offsets of each broadcast batch entry into a tensor with batch dims `shape`/`strides`. */
function batchOffsets(t: Tensor, batch: number[]): number[] {
  const lead = batch.length - (t.rank - 2);
  const strides = batch.map((_, i) => (i < lead || t.shape[i - lead] === 1 ? 0 : t.strides[i - lead]));
  const n = sizeOf(batch);
  const out = new Array<number>(n);
  const idx = new Array<number>(batch.length).fill(0);
  for (let b = 0; b < n; b++) {
    let off = t.offset;
    for (let d = 0; d < batch.length; d++) off += idx[d] * strides[d];
    out[b] = off;
    for (let d = batch.length - 1; d >= 0; d--) {
      if (++idx[d] < batch[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

registerKernel('matmul', 'cpu', ([a, b]) => {
  const [M, K] = a.shape.slice(-2);
  const N = b.shape[b.rank - 1];
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = empty([...batch, M, N], a.dtype);
  const aOff = batchOffsets(a, batch);
  const bOff = batchOffsets(b, batch);
  const [as0, as1] = a.strides.slice(-2);
  const [bs0, bs1] = b.strides.slice(-2);
  const cs = contiguousStrides(out.shape);
  const cData = buf(out) as Float32Array | Float64Array | Int32Array;
  for (let i = 0; i < aOff.length; i++) {
    const A: Mat = { data: buf(a), offset: aOff[i], s0: as0, s1: as1 };
    const B: Mat = { data: buf(b), offset: bOff[i], s0: bs0, s1: bs1 };
    const C = { data: cData, offset: i * M * N, s0: cs[cs.length - 2] ?? N, s1: 1 };
    gemm(M, N, K, A, B, C);
  }
  return out;
});
