import { type Tensor, tensor } from '@softpool/tensor';

/** Deterministic float64 values (optionally requiring grad). */
export function values(
  shape: number[],
  seed = 1,
  { lo = -2, hi = 2, requiresGrad = true, dtype = 'float64' as 'float64' | 'float32' } = {},
): Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 4294967296;
  });
  const t = tensor(v, { shape, dtype });
  return requiresGrad ? t.requiresGrad_() : t;
}
