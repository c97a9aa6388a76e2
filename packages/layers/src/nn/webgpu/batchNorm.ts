// WGSL kernels of batch normalisation in training mode, the same passes as the CPU kernels: one
// workgroup per channel reduces with a tree in workgroup memory, then writes its channel.
import { type Backend, registerKernel, run as runOp, type Tensor } from '@softpool/tensor';
import { shaderBackend, withDense } from '../../shader.js';

/** Shared: channel c of a [N, C, S] layout; `red(v)` tree-reduces v over the 64 threads. */
const COMMON = `
var<workgroup> sh: array<f32, 64>;
fn red(l: u32, v: f32) -> f32 {
  sh[l] = v;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (l < s) { sh[l] += sh[l + s]; }
    workgroupBarrier();
  }
  let r = sh[0];
  workgroupBarrier();
  return r;
}`;

const HEAD = `@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  let N = params[1]; let C = params[2]; let S = params[3];
  let eps = bitcast<f32>(params[4]);
  let c = wg.x;
  let M = N * S;`;

/** Element j (of M) of channel c. */
const AT = '((j / S) * C + c) * S + j % S';

const FORWARD = `${COMMON}
${HEAD}
  var s = 0.0;
  for (var j = l; j < M; j += 64u) { s += in0[${AT}]; }
  let mu = red(l, s) / f32(M);
  var v = 0.0;
  for (var j = l; j < M; j += 64u) { let d = in0[${AT}] - mu; v += d * d; }
  let variance = red(l, v) / f32(M);
  let scale = in1[c] / sqrt(variance + eps);
  let shift = in2[c] - mu * scale;
  for (var j = l; j < M; j += 64u) { let k = ${AT}; out0[k] = in0[k] * scale + shift; }
  if (l == 0u) { out1[c] = mu; out2[c] = variance; }
}`;

/** inputs: dy, x, gamma, mean, variance; outputs: dx, dgamma, dbeta. */
const BACKWARD = `${COMMON}
${HEAD}
  let inv = 1.0 / sqrt(in4[c] + eps);
  let mu = in3[c];
  var a = 0.0;
  var b = 0.0;
  for (var j = l; j < M; j += 64u) { let k = ${AT}; a += in0[k]; b += in0[k] * (in1[k] - mu) * inv; }
  let sdy = red(l, a);
  let sdyx = red(l, b);
  let g = in2[c] * inv / f32(M);
  for (var j = l; j < M; j += 64u) { let k = ${AT}; out0[k] = g * (f32(M) * in0[k] - sdy - (in1[k] - mu) * inv * sdyx); }
  if (l == 0u) { out1[c] = sdyx; out2[c] = sdy; }
}`;

function dims(shape: readonly number[]): [number, number, number] {
  const [N, C] = shape;
  return [N, C, shape.slice(2).reduce((a, b) => a * b, 1)];
}

const bits = (v: number) => new Uint32Array(new Float32Array([v]).buffer)[0];

/** Runs one of the programs: a workgroup per channel, outputs [x-shaped, [C], [C]]. */
function run(op: string, code: string, inputs: Tensor[], eps: number, backend: Backend): Tensor[] {
  return withDense(inputs, backend, (dense) => {
    const x = dense[op === 'batchNorm' ? 0 : 1];
    const [N, C, S] = dims(x.shape);
    return shaderBackend(op, backend).runProgram({
      code,
      inputs: dense,
      outputs: [
        { shape: [...x.shape], dtype: x.dtype },
        { shape: [C], dtype: x.dtype },
        { shape: [C], dtype: x.dtype },
      ],
      params: [N, C, S, bits(eps)],
      threads: 0,
      workgroups: C,
    });
  });
}

/** The forward with relu applied to each output (0 where the value is <= 0; NaN kept). */
const FORWARD_RELU = FORWARD.replace(
  'out0[k] = in0[k] * scale + shift;',
  'let v = in0[k] * scale + shift; out0[k] = select(v, 0.0, v <= 0.0);',
);

registerKernel('batchNorm', 'webgpu', (inputs, { eps, relu }, b) =>
  run('batchNorm', relu ? FORWARD_RELU : FORWARD, inputs, eps, b),
);
registerKernel('batchNormBackward', 'webgpu', (inputs, { eps, relu }, b) => {
  if (!relu) return run('batchNormBackward', BACKWARD, inputs, eps, b);
  // Fused relu: dy masked by the forward's output first (the sixth input).
  const [dy, x, gamma, mean, variance, y] = inputs;
  const masked = runOp('reluBackward', [dy, y], {}, b);
  const out = run('batchNormBackward', BACKWARD, [masked, x, gamma, mean, variance], eps, b);
  masked.dispose();
  return out;
});
