// Random kernels: Threefry-2x32-20 of (key, counter + i), the same bits as the CPU backend, so
// rand, randint and bernoulli match it exactly and randn to float32 rounding of log and cos.
import { registerKernel, type Tensor } from '@softpool/tensor';
import { wgslType } from '../backend.js';
import { stridedMeta, walk } from '../wgsl.js';
import { broadcastView, gpu, outView } from './util.js';

interface RandomAttrs {
  shape: number[];
  dtype: 'float32' | 'float64' | 'int32' | 'bool';
  key: [number, number];
  counter: number;
}

/** params[1..4]: key0, key1, counter low, counter high; params[5..6]: op parameters. */
const THREEFRY = `
fn rotl(x: u32, r: u32) -> u32 { return (x << r) | (x >> (32u - r)); }
fn threefry(i: u32) -> vec2<u32> {
  let k0 = params[1];
  let k1 = params[2];
  let lo = params[3] + i;
  let hi = params[4] + select(0u, 1u, lo < params[3]);
  let ks = array<u32, 3>(k0, k1, 0x1bd11bdau ^ k0 ^ k1);
  let rot = array<u32, 8>(13u, 15u, 26u, 6u, 17u, 29u, 16u, 24u);
  var x0 = lo + ks[0];
  var x1 = hi + ks[1];
  for (var r = 0u; r < 20u; r++) {
    x0 = x0 + x1;
    x1 = rotl(x1, rot[r % 8u]) ^ x0;
    if (r % 4u == 3u) {
      let j = (r + 1u) / 4u;
      x0 = x0 + ks[j % 3u];
      x1 = x1 + ks[(j + 1u) % 3u] + j;
    }
  }
  return vec2<u32>(x0, x1);
}
fn uniform24(w: u32) -> f32 { return f32(w >> 8u) * 5.9604644775390625e-8; }`;

const DRAW: Record<string, string> = {
  rand: 'uniform24(w.x)',
  randn:
    'sqrt(-2.0 * log(f32((w.x >> 8u) + 1u) * 5.9604644775390625e-8)) * cos(6.283185307179586 * uniform24(w.y))',
  randint: 'bitcast<i32>(params[5] + w.x % params[6])',
  bernoulli: 'select(0.0, 1.0, uniform24(w.x) < bitcast<f32>(params[5]))',
};

function draw(
  op: string,
  a: RandomAttrs,
  backend: Tensor['backend'],
  extra: number[] = [],
  p?: Tensor,
): Tensor {
  const n = a.shape.reduce((x, y) => x * y, 1);
  const key = [a.key[0] >>> 0, a.key[1] >>> 0, a.counter >>> 0, Math.floor(a.counter / 4294967296) >>> 0];
  const T = wgslType(a.dtype);
  // bernoulli with a probability tensor: compare with p read through its broadcast strides.
  const expr = p ? 'select(0.0, 1.0, uniform24(w.x) < in0[p1])' : DRAW[op];
  const meta = p ? stridedMeta(a.shape, [outView(a.shape), broadcastView(p, a.shape)]) : [];
  const code = `${THREEFRY}
fn body(i: u32) {
  let w = threefry(i);
  ${p ? walk(2, 7) : ''}
  out0[i] = ${T}(${expr});
}`;
  const params = [...key, ...extra, 0, 0].slice(0, 6).concat(meta);
  return gpu(backend).runProgram({
    code,
    inputs: p ? [p] : [],
    outputs: [{ shape: a.shape, dtype: a.dtype }],
    params,
    threads: n,
  })[0];
}

registerKernel('rand', 'webgpu', (_, a, b) => draw('rand', a, b));
registerKernel('randn', 'webgpu', (_, a, b) => draw('randn', a, b));
registerKernel('randint', 'webgpu', (_, a, b) =>
  draw('randint', a, b, [a.low >>> 0, (a.high - a.low) >>> 0]),
);
registerKernel('bernoulli', 'webgpu', (inputs, a, b) => {
  const f = new Float32Array([a.p ?? 0]);
  return draw('bernoulli', a, b, [new Uint32Array(f.buffer)[0]], inputs[0]);
});
