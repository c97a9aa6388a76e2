import { type Tensor, tensor } from '@softpool/tensor';

/** Deterministic float64 leaves that require grad (values away from kinks by default). */
export function leaf(shape: number[], seed = 1, { lo = -2, hi = 2, requiresGrad = true } = {}): Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 4294967296;
  });
  const t = tensor(values, { shape, dtype: 'float64' });
  return requiresGrad ? t.requiresGrad_() : t;
}
