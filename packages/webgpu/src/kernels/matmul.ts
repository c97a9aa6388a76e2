// Batched matmul with broadcast batch dims. Float32 products of 2^18 multiply-adds or more go
// through packed textures (matmulTexture.ts) when they fit the texture limits. Otherwise each thread
// computes a block of C in registers: when K and N are multiples of 4 the operands are read as vec4
// rows of dense copies; else a scalar kernel reads any strides. No workgroup memory: on CPU-like
// adapters (lavapipe) barriers cost more than they save, and on GPUs the vec4 loads already coalesce.
import { broadcastShapes, registerKernel, type Tensor } from '@softpool/tensor';
import { BATCH, batchStrides } from './matmulBatch.js';
import { matmulTexture, TEXTURE_MIN_WORK } from './matmulTexture.js';
import { gpu, withDense } from './util.js';

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

/** Rows and vec4 columns of C per thread in the vec4 kernel: loads, not arithmetic, bound it. */
const R = 16;
const C = 2;

/**
 * Dense row-major operands as vec4 (A rows along K, B and C rows along N): a thread accumulates an
 * R x 4C block of C, reading R vec4 of A and 4C vec4 of B per 4 steps of k (16RC multiply-adds).
 */
function vec4Program(): string {
  const acc: string[] = [];
  const loads: string[] = [];
  const math: string[] = [];
  const store: string[] = [];
  for (let c = 0; c < C; c++)
    for (let q = 0; q < 4; q++) loads.push(`let b${q}_${c} = in1[bb + ${q}u * N4 + cols[${c}]];`);
  for (let r = 0; r < R; r++) {
    math.push(`let x${r} = in0[rows[${r}] + k];`);
    for (let c = 0; c < C; c++) {
      acc.push(`var c${r}_${c} = vec4<T>();`);
      math.push(
        `c${r}_${c} += x${r}.x * b0_${c} + x${r}.y * b1_${c} + x${r}.z * b2_${c} + x${r}.w * b3_${c};`,
      );
      store.push(`if (r0 + ${r}u < M && c0 + ${c}u < N4) { out0[o + ${r}u * N4 + ${c}u] = c${r}_${c}; }`);
    }
  }
  return `${BATCH}
fn body(i: u32) {
  let M = params[1]; let N4 = params[2] / 4u; let K4 = params[3] / 4u;
  let tn = params[4]; let tm = params[5];
  let b = i / (tm * tn);
  let t = i % (tm * tn);
  let r0 = (t / tn) * ${R}u;
  let c0 = (t % tn) * ${C}u;
  let off = batchOffsets(b) / 4u;
  var rows: array<u32, ${R}>;
  for (var r = 0u; r < ${R}u; r++) { rows[r] = off.x + min(r0 + r, M - 1u) * K4; }
  var cols: array<u32, ${C}>;
  for (var c = 0u; c < ${C}u; c++) { cols[c] = min(c0 + c, N4 - 1u); }
  ${acc.join(' ')}
  for (var k = 0u; k < K4; k++) {
    let bb = off.y + k * 4u * N4;
    ${loads.join('\n    ')}
    ${math.join('\n    ')}
  }
  let o = b * M * N4 + r0 * N4 + c0;
  ${store.join('\n  ')}
}`;
}

const VEC4 = vec4Program();

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
    const tm = Math.ceil(M / (code === VEC4 ? R : 4));
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
  if (a.dtype === 'float32' && count * M * N * K >= TEXTURE_MIN_WORK) {
    const y = matmulTexture(backend, a, b, batch, shape);
    if (y) return y;
  }
  if (!vec) return run(a, b, SCALAR, Math.ceil(N / 4));
  // vec4 loads need row-major operands at offsets that are multiples of 4: dense copies when not.
  return withDense([a, b], a.backend, ([x, y]) => run(x, y, VEC4, Math.ceil(N / 4 / C)));
}

registerKernel('matmul', 'webgpu', ([a, b]) => matmulGpu(a, b));
