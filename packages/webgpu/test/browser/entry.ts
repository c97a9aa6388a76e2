// Runs in the browser page: the same ops on the CPU and on WebGPU (navigator.gpu), returning the
// largest difference per check for the Node side to assert on.
import {
  conv2d,
  getBackend,
  manualSeed,
  matmul,
  randn,
  setBackend,
  softmax,
  sum,
  type Tensor,
} from '@softpool/tensor';
import '../../src/index.js';

/** `f()` right after manualSeed(seed): the same draw on every backend. */
function seeded(seed: number, f: () => Tensor): Tensor {
  manualSeed(seed);
  return f();
}

async function checks(): Promise<Record<string, number | string>> {
  // Inputs drawn on the CPU and copied, so the checks measure the kernels, not the GPU's cos/log.
  manualSeed(3);
  const inputs = [
    randn([33, 20]),
    randn([20, 16]),
    randn([2, 3, 9, 9]),
    randn([4, 3, 3, 3]),
    randn([7, 50]),
    randn([100000]),
    randn([130, 70]),
    randn([70, 40]),
  ];
  const run = ([a, b, x, w, s, v, a2, b2]: Tensor[]) =>
    ({
      matmul: matmul(a, b),
      // large enough for the texture matmul (packed operands, rgba32float storage textures)
      matmulTextures: matmul(a2, b2),
      softmax: softmax(s, 1),
      conv: conv2d(x, w, { padding: 1, stride: 2 }),
      sum: sum(v),
      randn: seeded(5, () => randn([1000])),
    }) as Record<string, Tensor>;
  const cpu = run(inputs);
  await setBackend('webgpu');
  const gpu = run(inputs.map((t) => t.to('webgpu')));
  const out: Record<string, number | string> = {
    adapter: (getBackend('webgpu') as unknown as { adapterDescription: string }).adapterDescription,
  };
  for (const k of Object.keys(cpu)) {
    const [p, q] = [await cpu[k].data(), await gpu[k].data()];
    let d = 0;
    for (let i = 0; i < p.length; i++)
      d = Math.max(d, Math.abs(Number(p[i]) - Number(q[i])) / (1 + Math.abs(Number(p[i]))));
    out[k] = d;
  }
  return out;
}

(globalThis as { runChecks?: typeof checks }).runChecks = checks;
