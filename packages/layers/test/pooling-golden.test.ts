// Golden fixtures from PyTorch (tools/fixtures/pooling.py): outputs and input gradients of max,
// average, LP (torch.nn.functional) and SoftPool (a torch composition) on odd geometries.
import { readFileSync } from 'node:fs';
import * as sp from '@softpool/tensor';
import { describe, expect, it } from 'vitest';
import * as L from '../src/index.js';

interface Case {
  name: string;
  method: 'soft' | 'max' | 'avg' | 'lp';
  options: L.PoolOptions & { countIncludePad?: boolean; normType?: number };
  input: { shape: number[]; data: number[] };
  output: { shape: number[]; data: number[] };
  gradOutput: number[];
  gradInput: number[];
}

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/pooling.json', import.meta.url), 'utf8')) as {
  cases: Case[];
};

const FNS: Record<string, ((x: sp.Tensor, o: never) => sp.Tensor)[]> = {
  soft: [L.softPool1d, L.softPool2d, L.softPool3d],
  max: [L.maxPool1d, L.maxPool2d, L.maxPool3d],
  avg: [L.avgPool1d, L.avgPool2d, L.avgPool3d],
  lp: [L.lpPool1d, L.lpPool2d, L.lpPool3d],
};

function close(actual: ArrayLike<number>, expected: number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i])));
  expect(worst).toBeLessThan(tol);
}

describe('pooling against PyTorch', () => {
  for (const c of fixtures.cases) {
    for (const dtype of ['float64', 'float32'] as const) {
      it(`${c.method} ${c.name} (${dtype})`, () => {
        const fn = FNS[c.method][c.input.shape.length - 3];
        const x = sp.tensor(c.input.data, { shape: c.input.shape, dtype, requiresGrad: true });
        const y = fn(x, c.options as never);
        expect(y.shape).toEqual(c.output.shape);
        const tol = dtype === 'float64' ? 1e-10 : 2e-5;
        close(y.dataSync(), c.output.data, tol);
        sp.sum(sp.mul(y, sp.tensor(c.gradOutput, { shape: c.output.shape, dtype }))).backward();
        close(x.grad!.dataSync(), c.gradInput, tol * 10);
      });
    }
  }
  it('has fixtures for every method and rank', () => {
    const seen = new Set(fixtures.cases.map((c) => `${c.method}${c.input.shape.length - 2}`));
    for (const key of [
      'soft1',
      'soft2',
      'soft3',
      'max1',
      'max2',
      'max3',
      'avg1',
      'avg2',
      'avg3',
      'lp1',
      'lp2',
    ])
      expect(seen).toContain(key);
  });
});
