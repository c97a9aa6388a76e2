import { ANY_BACKEND, listOps, setBackend, type Tensor } from '@softpool/tensor';
import { afterAll, describe, expect, test } from 'vitest';
import { CASES, helpers } from './cases.js';
import { hasGpu } from './gpu.js';

async function runOn(
  backend: string,
  run: (typeof CASES)[number]['run'],
): Promise<{ shape: number[]; dtype: string; data: number[] }[]> {
  await setBackend(backend);
  const out = run(helpers);
  const list = Array.isArray(out) ? out : [out];
  const results = [];
  for (const t of list as Tensor[]) {
    expect(t.backend.name).toBe(backend);
    results.push({ shape: [...t.shape], dtype: t.dtype, data: Array.from(await t.data(), Number) });
  }
  return results;
}

function close(a: number, b: number, tol: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= tol * (1 + Math.abs(a));
}

describe.skipIf(!hasGpu)('core ops: WebGPU agrees with the CPU', () => {
  afterAll(async () => {
    await setBackend('cpu');
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const cpu = await runOn('cpu', c.run);
    const gpu = await runOn('webgpu', c.run);
    expect(gpu.length).toBe(cpu.length);
    for (let k = 0; k < cpu.length; k++) {
      expect(gpu[k].shape, `output ${k} shape`).toEqual(cpu[k].shape);
      expect(gpu[k].dtype, `output ${k} dtype`).toBe(cpu[k].dtype);
      const tol = c.tol ?? 1e-5;
      const bad = cpu[k].data.findIndex((v, i) => !close(v, gpu[k].data[i], tol));
      expect(bad, `output ${k}: element ${bad}: cpu ${cpu[k].data[bad]} vs webgpu ${gpu[k].data[bad]}`).toBe(
        -1,
      );
    }
  });

  test('every CPU op has a WebGPU kernel and a case in this suite', () => {
    const generic = new Set(listOps(ANY_BACKEND));
    const cpuOps = listOps('cpu').filter((op) => !generic.has(op) || listOps('webgpu').includes(op));
    const covered = new Set(CASES.flatMap((c) => c.ops));
    const perBackend = cpuOps.filter((op) => !['reshape', 'permute', 'expand', 'slice', 'to'].includes(op));
    expect(perBackend.filter((op) => !listOps('webgpu').includes(op))).toEqual([]);
    expect(perBackend.filter((op) => !covered.has(op))).toEqual([]);
  });
});
