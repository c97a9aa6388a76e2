// Batched matmul with broadcast batch dims. Each thread computes a 4x4 block of C in registers.
// When K and N are multiples of 4 the operands are read as vec4 rows of dense copies (the fast
// path); otherwise a scalar kernel reads any strides. No workgroup memory: on CPU-like adapters
// (lavapipe) barriers cost more than they save, and on GPUs the vec4 loads already coalesce.
import { broadcastShapes, registerKernel, type Tensor } from '@softpool/tensor';
import { gpu, withDense } from './util.js';

/** Batch offsets of one operand broadcast over `batch`: strides per batch dim (0 where broadcast). */
function batchStrides(t: Tensor, batch: readonly number[]): number[] {
  const dims = t.shape.slice(0, -2);
  const lead = batch.length - dims.length;
  return batch.map((n, i) => (i < lead || (dims[i - lead] === 1 && n !== 1) ? 0 : t.strides[i - lead]));
}

/** WGSL: the offsets of A and B for batch index `b` (params from index 12: br, shape, aStr, bStr). */
const BATCH = `
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

const SCALAR = `${BATCH}
fn body(i: u32) {
  let M = params[1]; let N = params[2]; let K = params[3];
  let tn = params[4]; let tm = params[5];
  let as0 = params[6]; let as1 = params[7]; let bs0 = params[8]; let bs1 = params[9];
  let b = i / (tm * tn);
  let t = i % (tm * tn);
  let r0 = (t / tn) * 4u;
  let c0 = (t % tn) * 4u;
  let off = batchOffsets(b);
  var rows: array<u32, 4>;
  var cols: array<u32, 4>;
  for (var q = 0u; q < 4u; q++) {
    rows[q] = off.x + min(r0 + q, M - 1u) * as0;
    cols[q] = off.y + min(c0 + q, N - 1u) * bs1;
  }
  var acc: array<vec4<T>, 4>;
  for (var k = 0u; k < K; k++) {
    let bv = vec4<T>(in1[cols[0] + k * bs0], in1[cols[1] + k * bs0], in1[cols[2] + k * bs0], in1[cols[3] + k * bs0]);
    for (var q = 0u; q < 4u; q++) { acc[q] += in0[rows[q] + k * as1] * bv; }
  }
  let base = b * M * N;
  for (var q = 0u; q < 4u; q++) {
    let r = r0 + q;
    if (r >= M) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (c0 + j < N) { out0[base + r * N + c0 + j] = acc[q][j]; }
    }
  }
}`;

/** Dense row-major operands as vec4: A rows along K, B and C rows along N. */
const VEC4 = `${BATCH}
fn body(i: u32) {
  let M = params[1]; let N4 = params[2] / 4u; let K4 = params[3] / 4u;
  let tn = params[4]; let tm = params[5];
  let b = i / (tm * tn);
  let t = i % (tm * tn);
  let r0 = (t / tn) * 4u;
  let c = t % tn;
  let off = batchOffsets(b) / 4u;
  let a0 = off.x + min(r0, M - 1u) * K4;
  let a1 = off.x + min(r0 + 1u, M - 1u) * K4;
  let a2 = off.x + min(r0 + 2u, M - 1u) * K4;
  let a3 = off.x + min(r0 + 3u, M - 1u) * K4;
  var c0 = vec4<T>(); var c1 = vec4<T>(); var c2 = vec4<T>(); var c3 = vec4<T>();
  for (var k = 0u; k < K4; k++) {
    let bb = off.y + k * 4u * N4 + c;
    let b0 = in1[bb]; let b1 = in1[bb + N4]; let b2 = in1[bb + 2u * N4]; let b3 = in1[bb + 3u * N4];
    let x0 = in0[a0 + k]; let x1 = in0[a1 + k]; let x2 = in0[a2 + k]; let x3 = in0[a3 + k];
    c0 += x0.x * b0 + x0.y * b1 + x0.z * b2 + x0.w * b3;
    c1 += x1.x * b0 + x1.y * b1 + x1.z * b2 + x1.w * b3;
    c2 += x2.x * b0 + x2.y * b1 + x2.z * b2 + x2.w * b3;
    c3 += x3.x * b0 + x3.y * b1 + x3.z * b2 + x3.w * b3;
  }
  let o = b * M * N4 + r0 * N4 + c;
  out0[o] = c0;
  if (r0 + 1u < M) { out0[o + N4] = c1; }
  if (r0 + 2u < M) { out0[o + 2u * N4] = c2; }
  if (r0 + 3u < M) { out0[o + 3u * N4] = c3; }
}`;

/** C = A @ B for operands of rank >= 2 (the front-end promotes vectors). */
export function matmulGpu(a: Tensor, b: Tensor): Tensor {
  const [M, K] = a.shape.slice(-2);
  const N = b.shape[b.rank - 1];
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const shape = [...batch, M, N];
  const count = batch.reduce((x, y) => x * y, 1);
  const backend = gpu(a.backend);
  const T = a.dtype === 'int32' ? 'i32' : 'f32';
  const vec = K % 4 === 0 && N % 4 === 0 && M * N * K > 0;
  const run = (x: Tensor, y: Tensor, code: string, tn: number) => {
    const tm = Math.ceil(M / 4);
    const params = [
      M,
      N,
      K,
      tn,
      tm,
      ...x.strides.slice(-2),
      ...y.strides.slice(-2),
      x.offset,
      y.offset,
      batch.length,
      ...batch,
      ...batchStrides(x, batch),
      ...batchStrides(y, batch),
    ];
    return backend.runProgram({
      code: `alias T = ${T};${code}`,
      inputs: [x, y],
      outputs: [{ shape, dtype: a.dtype }],
      params,
      threads: count * tm * tn,
      vec4: code === VEC4,
    })[0];
  };
  if (M * N === 0) return run(a, b, SCALAR, 0);
  if (K === 0)
    return backend.runProgram({
      code: `fn body(i: u32) { out0[i] = ${T}(0); }`,
      inputs: [],
      outputs: [{ shape, dtype: a.dtype }],
      threads: count * M * N,
    })[0];
  if (!vec) return run(a, b, SCALAR, Math.ceil(N / 4));
  // vec4 loads need row-major operands at offsets that are multiples of 4: dense copies when not.
  return withDense([a, b], a.backend, ([x, y]) => run(x, y, VEC4, N / 4));
}

registerKernel('matmul', 'webgpu', ([a, b]) => matmulGpu(a, b));
