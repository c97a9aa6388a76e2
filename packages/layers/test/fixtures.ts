import { readFileSync } from 'node:fs';
import * as sp from '@softpool/tensor';
import { expect } from 'vitest';

export interface T {
  shape: number[];
  data: number[];
}

export const layers = JSON.parse(readFileSync(new URL('./fixtures/layers.json', import.meta.url), 'utf8'));

export function fromT(t: T, dtype: sp.DType = 'float64', requiresGrad = false): sp.Tensor {
  const x = sp.tensor(t.data, { shape: t.shape, dtype });
  return requiresGrad ? x.requiresGrad_() : x;
}

export function expectT(actual: sp.Tensor, expected: T, tol = 1e-9): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  let worst = 0;
  expected.data.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(a[i] - v) / (1 + Math.abs(v)));
  });
  expect(worst).toBeLessThan(tol);
}
