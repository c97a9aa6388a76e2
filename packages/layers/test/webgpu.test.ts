// Every pooling method, batch norm and a conv block: WebGPU agrees with the CPU, forward and
// backward (input and parameter gradients). Without an adapter: skipped locally, a failure in CI.
import { noGrad } from '@softpool/autograd';
import * as sp from '@softpool/tensor';
import { afterAll, describe, expect, test } from 'vitest';
import * as L from '../src/index.js';

async function gpuReady(): Promise<boolean> {
  try {
    await import('@softpool/webgpu' as string);
    await sp.initBackend('webgpu');
    return true;
  } catch (e) {
    if (process.env.CI) throw e;
    console.warn(`WebGPU tests skipped: ${(e as Error).message}`);
    return false;
  }
}
const hasGpu = await gpuReady();

interface Case {
  name: string;
  shape: number[];
  /** A fresh module (made under the same seed for both backends) or a function. */
  make: () => L.Module | ((x: sp.Tensor) => sp.Tensor);
  /** Input values: [lo, hi) uniform by default; `scale`/`shift` for the stability case. */
  scale?: number;
  shift?: number;
  tol?: number;
  train?: boolean;
}

const soft =
  (o: Partial<L.SoftPoolOptions> & { kernelSize: L.IntOrTuple }, d: 1 | 2 | 3 = 2) =>
  () =>
  (x: sp.Tensor) =>
    d === 1 ? L.softPool1d(x, o) : d === 2 ? L.softPool2d(x, o) : L.softPool3d(x, o);

/** Several outputs as one vector, so each position gets its own gradient weight. */
const flat = (ys: sp.Tensor[]) => sp.concat(ys.map((y) => y.reshape([-1])));

const CASES: Case[] = [
  { name: 'softPool2d k2 s2', shape: [2, 3, 8, 8], make: soft({ kernelSize: 2 }) },
  {
    name: 'softPool2d overlapping, padding, ceil mode, non-square',
    shape: [2, 2, 9, 7],
    make: soft({ kernelSize: [3, 2], stride: [2, 1], padding: [1, 0], ceilMode: true }),
  },
  {
    name: 'softPool2d dilation, temperature, paper gradient',
    shape: [1, 2, 9, 9],
    make: soft({ kernelSize: 2, stride: 1, dilation: 2, temperature: 0.5, gradient: 'paper' }),
  },
  { name: 'softPool1d', shape: [2, 3, 11], make: soft({ kernelSize: 3, stride: 2, padding: 1 }, 1) },
  { name: 'softPool3d', shape: [1, 2, 5, 6, 4], make: soft({ kernelSize: [2, 3, 2], stride: [1, 2, 2] }, 3) },
  {
    name: 'softPool2d stable at scale 300, shift -500',
    shape: [1, 2, 6, 6],
    make: soft({ kernelSize: 2 }),
    scale: 300,
    shift: -500,
    tol: 1e-4,
  },
  {
    name: 'tiling windows (one thread per window backward): max, avg, SoftPool 2-D and 3-D',
    shape: [2, 3, 8, 6],
    make: () => (x) =>
      flat([
        L.maxPool2d(x, { kernelSize: 2 }),
        L.avgPool2d(x, { kernelSize: [2, 3] }),
        L.softPool2d(x, { kernelSize: [4, 2], temperature: 0.7 }),
        L.softPool3d(x.reshape([1, 2, 3, 8, 6]), { kernelSize: [1, 2, 2] }),
      ]),
  },
  {
    name: 'windows that leave inputs over (gather backward): max, avg, SoftPool',
    shape: [2, 2, 7, 9],
    make: () => (x) =>
      flat([
        L.maxPool2d(x, { kernelSize: 2 }),
        L.avgPool2d(x, { kernelSize: 2 }),
        L.softPool2d(x, { kernelSize: 2 }),
      ]),
  },
  {
    name: 'maxPool2d with padding and ceil mode',
    shape: [2, 3, 7, 9],
    make: () => (x) => L.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }),
  },
  {
    name: 'maxPool1d / maxPool3d',
    shape: [1, 2, 6, 6, 6],
    make: () => (x) =>
      sp.add(
        L.maxPool3d(x, { kernelSize: 2 }).sum(),
        L.maxPool1d(x.reshape([1, 2, 216]), { kernelSize: 4, stride: 3 }).sum(),
      ),
  },
  {
    name: 'avgPool2d countIncludePad true and false',
    shape: [2, 2, 7, 7],
    make: () => (x) =>
      sp.add(
        L.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }),
        L.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }),
      ),
  },
  {
    name: 'lpPool2d p=2 and p=3',
    shape: [1, 3, 8, 8],
    make: () => (x) =>
      sp.add(
        L.lpPool2d(x, { normType: 2, kernelSize: 2 }),
        L.lpPool2d(sp.abs(x), { normType: 3, kernelSize: 2 }),
      ),
    tol: 1e-4,
  },
  {
    name: 'edscwPool2d',
    shape: [2, 2, 6, 6],
    make: () => (x) => L.edscwPool2d(x, { kernelSize: 2 }),
    tol: 1e-4,
  },
  {
    name: 'AdaPool2d (learned beta)',
    shape: [2, 2, 6, 6],
    make: () => new L.AdaPool2d(2, { betaShape: [3, 3] }),
    tol: 1e-4,
  },
  {
    name: 'StochasticPool2d train (seeded) and eval',
    shape: [2, 2, 6, 6],
    make: () => new L.StochasticPool2d(2),
    train: true,
  },
  { name: 'MixedPool2d', shape: [2, 3, 6, 6], make: () => new L.MixedPool2d(2, { channels: 3 }) },
  { name: 'GatedPool2d', shape: [2, 3, 6, 6], make: () => new L.GatedPool2d(2, { channels: 3 }) },
  { name: 'TreePool2d', shape: [2, 3, 6, 6], make: () => new L.TreePool2d(2, { channels: 3 }) },
  { name: 'LIPPool2d', shape: [2, 3, 6, 6], make: () => new L.LIPPool2d(3, 2) },
  { name: 'DPPPool2d', shape: [2, 3, 6, 6], make: () => new L.DPPPool2d(2, { channels: 3 }), tol: 1e-4 },
  { name: 'S3Pool2d (seeded)', shape: [2, 3, 8, 8], make: () => new L.S3Pool2d(2), train: true },
  {
    name: 'adaptive and global pooling',
    shape: [2, 3, 7, 9],
    make: () => (x) =>
      sp.add(
        L.adaptiveAvgPool2d(x, [3, 4]).sum(),
        sp.add(L.adaptiveMaxPool2d(x, [2, 5]).sum(), L.globalAvgPool(x).sum()),
      ),
  },
  {
    name: 'BatchNorm2d (training) after Conv2d',
    shape: [4, 3, 8, 8],
    make: () => new L.Sequential(new L.Conv2d(3, 5, 3, { padding: 1 }), new L.BatchNorm2d(5), new L.ReLU()),
    tol: 1e-4,
  },
  {
    // No ReLU after it: the batch norm op without its fused relu.
    name: 'BatchNorm2d (training) alone',
    shape: [4, 3, 5, 5],
    make: () => new L.Sequential(new L.Conv2d(3, 5, 3, { padding: 1 }), new L.BatchNorm2d(5)),
    tol: 1e-4,
  },
];

/** Runs a case on a backend: output, input gradient and parameter gradients. */
async function runCase(c: Case, backend: string): Promise<Float32Array[]> {
  await sp.setBackend(backend);
  sp.manualSeed(7);
  const made = c.make();
  const n = c.shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from(
    { length: n },
    (_, i) => Math.sin(i * 12.9898 + 1.3) * (c.scale ?? 1) + (c.shift ?? 0),
  );
  const x = sp.tensor(data, { shape: c.shape, requiresGrad: true });
  const params = made instanceof L.Module ? made.parameters() : [];
  if (made instanceof L.Module) {
    await made.to(backend);
    made.train(c.train ?? true);
  }
  sp.manualSeed(11);
  const y = made instanceof L.Module ? made.forward(x) : made(x);
  // A weighted sum, so every output position carries a different gradient.
  const weights = sp.tensor(
    Float32Array.from({ length: y.size }, (_, i) => Math.cos(i * 0.7)),
    { shape: y.shape },
  );
  sp.sum(sp.mul(y, weights)).backward();
  const out = [await y.data(), await x.grad!.data()];
  for (const p of made instanceof L.Module ? made.parameters() : params)
    if (p.grad) out.push(await p.grad.data());
  return out.map((a) => Float32Array.from(a as Float32Array));
}

describe.skipIf(!hasGpu)('layers on WebGPU agree with the CPU', () => {
  afterAll(async () => {
    await sp.setBackend('cpu');
  });

  test('every pooling kernel has a WebGPU kernel', () => {
    const pooling = sp.listOps('cpu').filter((op) => /Pool|batchNorm/.test(op));
    expect(pooling.filter((op) => !sp.hasKernel(op, 'webgpu'))).toEqual([]);
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const cpu = await runCase(c, 'cpu');
    const gpu = await runCase(c, 'webgpu');
    expect(gpu.length).toBe(cpu.length);
    const tol = c.tol ?? 2e-5;
    for (let k = 0; k < cpu.length; k++) {
      const bad = cpu[k].findIndex((v, i) => !(Math.abs(v - gpu[k][i]) <= tol * (1 + Math.abs(v))));
      expect(bad, `tensor ${k} element ${bad}: cpu ${cpu[k][bad]} webgpu ${gpu[k][bad]}`).toBe(-1);
    }
  });

  test("SoftPool windows near float32's largest value stay finite, as on the CPU", async () => {
    const x = sp.tensor([3e38, 3e38, -3e38, 0], { shape: [1, 1, 4], backend: 'webgpu' });
    const y = L.softPool1d(x, { kernelSize: 4 });
    const v = (await y.data())[0];
    expect(Number.isFinite(v)).toBe(true);
    expect(Math.abs(v - 3e38) / 3e38).toBeLessThan(1e-6);
    x.dispose();
    y.dispose();
  });

  test('SoftPool without a backward keeps no statistics on either backend', async () => {
    const x = sp.randn([2, 3, 8, 8], { backend: 'cpu' });
    const outs: Float32Array[] = [];
    for (const backend of ['cpu', 'webgpu']) {
      const xb = x.to(backend);
      const before = sp.memory().bytes;
      const y = noGrad(() => L.softPool2d(xb, { kernelSize: 3, stride: 2, padding: 1 }));
      expect(sp.memory().bytes - before).toBe(y.size * 4);
      outs.push(Float32Array.from((await y.data()) as Float32Array));
      y.dispose();
      if (xb !== x) xb.dispose();
    }
    expect(outs[1].every((v, i) => Math.abs(v - outs[0][i]) <= 2e-5 * (1 + Math.abs(v)))).toBe(true);
    x.dispose();
  });

  test('long regular windows need no window tables (a 70,000-long 1-D input agrees with the CPU)', async () => {
    // Before regular windows were enumerated arithmetically, this input's tables exceeded the
    // parameter block and the call was refused.
    const x = sp.randn([1, 2, 70_000], { backend: 'cpu' });
    const run = async (backend: string) => {
      const xi = x.to(backend).detach().requiresGrad_();
      const y = L.softPool1d(xi, { kernelSize: 3, stride: 2, padding: 1 });
      y.sum().backward();
      const out = [
        Float32Array.from((await y.data()) as Float32Array),
        Float32Array.from((await xi.grad!.data()) as Float32Array),
      ];
      y.dispose();
      xi.dispose();
      return out;
    };
    const [cpu, gpu] = [await run('cpu'), await run('webgpu')];
    for (let k = 0; k < 2; k++) {
      const bad = cpu[k].findIndex((v, i) => !(Math.abs(v - gpu[k][i]) <= 2e-5 * (1 + Math.abs(v))));
      expect(bad, `tensor ${k} element ${bad}`).toBe(-1);
    }
    x.dispose();
    const huge = sp.zeros([1, 1, 2 ** 24], { backend: 'webgpu' });
    expect(() => L.maxPool1d(huge, { kernelSize: 2 })).toThrow(
      'maxPool: input [1,1,16777216] has a spatial size of 2^24 or more, beyond the WebGPU pooling kernels; use the cpu backend',
    );
    huge.dispose();
  });

  test('a tiny MLP and a tiny CNN with SoftPool overfit one batch on WebGPU', async () => {
    await sp.setBackend('webgpu');
    sp.manualSeed(0);
    const fit = async (net: L.Module, x: sp.Tensor, y: sp.Tensor, steps: number) => {
      const opt = new L.Adam(net.parameters(), { lr: 0.02 });
      let last: sp.Tensor | null = null;
      for (let i = 0; i < steps; i++) {
        last?.dispose();
        last = sp.scope(() => {
          opt.zeroGrad();
          const l = L.crossEntropy(net.forward(x), y);
          l.backward();
          opt.step();
          return l.detach();
        });
      }
      const loss = await last!.item();
      last!.dispose();
      return loss;
    };
    const mlp = new L.Sequential(new L.Linear(6, 32), new L.ReLU(), new L.Linear(32, 3));
    expect(await fit(mlp, sp.randn([16, 6]), sp.randint(0, 3, [16]), 300)).toBeLessThan(0.01);
    const cnn = new L.Sequential(
      new L.Conv2d(1, 4, 3, { padding: 1 }),
      new L.ReLU(),
      new L.SoftPool2d(2),
      new L.Flatten(),
      new L.Linear(64, 3),
    );
    expect(cnn.parameters()[0].backend.name).toBe('webgpu');
    expect(await fit(cnn, sp.randn([8, 1, 8, 8]), sp.randint(0, 3, [8]), 200)).toBeLessThan(0.05);
  }, 120_000);
});
