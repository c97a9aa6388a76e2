import '@softpool/autograd';
import { valueAndGrad } from '@softpool/autograd';
import {
  add,
  conv2d,
  cpuAddress,
  cpuData,
  gather,
  logSoftmax,
  matmul,
  mean,
  memory,
  ones,
  randn,
  relu,
  scope,
  setBackend,
  sum,
  type Tensor,
  tensor,
  zeros,
} from '@softpool/tensor';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { backend, hasGpu } from './gpu.js';

describe.skipIf(!hasGpu)('WebGPU engine', () => {
  beforeAll(async () => {
    await setBackend('webgpu');
  });
  afterAll(async () => {
    await setBackend('cpu');
  });

  test('a new shape reuses the pipeline of the op (per layout: dense, or strided/broadcast)', async () => {
    await add(ones([3]), 1).data();
    await add(ones([5, 7]), ones([7])).data();
    const before = backend!.pipelineCount;
    await add(ones([2, 3, 4]), 2).data();
    await add(ones([4, 6]), ones([6])).data();
    await add(ones([2, 3, 4]), ones([3, 1])).data();
    expect(backend!.pipelineCount).toBe(before);
  });

  test('steady-state steps create no buffers or textures and leak nothing', async () => {
    const w = tensor(new Float32Array(64 * 32).fill(0.01), { shape: [64, 32] });
    // a product large enough for the texture matmul (2^19 multiply-adds), and a small one
    const step = async () => {
      const loss = scope(() => sum(relu(matmul(matmul(ones([256, 64]), w), ones([32, 64])))));
      await loss.data();
      loss.dispose();
    };
    await step();
    await step();
    const created = backend!.pool.creations;
    const live = memory().backends.webgpu;
    for (let i = 0; i < 20; i++) await step();
    expect(created).toBeGreaterThan(0);
    expect(backend!.pool.creations).toBe(created);
    expect(memory().backends.webgpu).toEqual(live);
    w.dispose();
  });

  test('moving between backends, and reading back asynchronously', async () => {
    const cpu = tensor([1, 2, 3], { backend: 'cpu' });
    const g = cpu.to('webgpu');
    expect(g.backend.name).toBe('webgpu');
    expect(() => g.to('cpu')).toThrow(/toAsync/);
    expect(() => g.dataSync()).toThrow(/webgpu/);
    const back = await g.toAsync('cpu');
    expect(Array.from(back.dataSync())).toEqual([1, 2, 3]);
  });

  test('CPU storage that lives in WebAssembly memory (a shared view) uploads and reads back', async () => {
    const cpu = randn([128, 256], { backend: 'cpu' });
    expect(cpuAddress(cpuData(cpu))).toBeGreaterThan(0);
    const g = cpu.to('webgpu');
    const back = await add(g, 1).toAsync('cpu');
    const [a, b] = [cpu.dataSync(), back.dataSync()];
    expect(b.every((v, i) => v === Math.fround(a[i] + 1))).toBe(true);
    for (const t of [cpu, g, back]) t.dispose();
  });

  test('more threads than one dispatch dimension allows are split into a 2-D grid', async () => {
    const n = 65535 * 64 + 1000;
    const x = add(zeros([n]), 2);
    const d = await x.data();
    expect(d[0]).toBe(2);
    expect(d[n - 1]).toBe(2);
    expect(d.length).toBe(n);
    x.dispose();
  });

  test('an index out of range fails the next read-back with the op and the range', async () => {
    const x = ones([2, 3]);
    const bad = gather(x, 1, tensor([[0, 5]], { dtype: 'int32' }));
    await expect(bad.data()).rejects.toThrow(/gather: an index is out of range \[-3, 3\)/);
    // The flag is cleared: later work reads back normally.
    expect(Array.from(await add(x, 1).data())).toEqual([2, 2, 2, 2, 2, 2]);
  });

  test('float64 and tensors beyond the device limits get clear errors', () => {
    expect(() => ones([2], { dtype: 'float64' })).toThrow(/float64 is not supported by WebGPU/);
    const max = backend!.device.limits.maxStorageBufferBindingSize;
    expect(() => zeros([Math.ceil(max / 4) + 16])).toThrow(/exceeds this device's largest buffer/);
  });

  test('forward and backward of a small CNN on WebGPU match the CPU', async () => {
    const init = (shape: number[], seed: number) =>
      Float32Array.from(
        { length: shape.reduce((a, b) => a * b, 1) },
        (_, i) => Math.sin(seed * 1000 + i * 1.7) * 0.5,
      );
    const loss = (x: Tensor, w: Tensor, b: Tensor, fc: Tensor) => {
      const h = relu(conv2d(x, w, b, { padding: 1, stride: 2 }));
      const logits = matmul(h.reshape([2, -1]), fc);
      return mean(
        gather(
          logSoftmax(logits, 1),
          1,
          tensor([[1], [3]], { dtype: 'int32', backend: x.backend.name }),
        ).neg(),
      );
    };
    const shapes = [[2, 3, 8, 8], [4, 3, 3, 3], [4], [64, 5]];
    const results: { value: number; grads: Float32Array[] }[] = [];
    for (const name of ['cpu', 'webgpu']) {
      const args = shapes.map((s, k) => tensor(init(s, k + 1), { shape: s, backend: name }));
      const [value, grads] = valueAndGrad(loss, [0, 1, 2, 3])(...args);
      results.push({
        value: (await value.data())[0],
        grads: await Promise.all(grads.map((g) => g.data() as Promise<Float32Array>)),
      });
    }
    const [cpu, gpu] = results;
    expect(gpu.value).toBeCloseTo(cpu.value, 5);
    for (let k = 0; k < cpu.grads.length; k++) {
      for (let i = 0; i < cpu.grads[k].length; i++)
        expect(Math.abs(gpu.grads[k][i] - cpu.grads[k][i])).toBeLessThan(1e-5);
    }
  });
});
