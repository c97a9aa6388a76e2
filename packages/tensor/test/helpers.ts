// Test helpers: reference implementations over plain arrays, and tolerant comparisons.
import { expect } from 'vitest';
import {
  type ConvOptions,
  conv1d,
  conv2d,
  conv3d,
  convBackwardInput,
  convBackwardWeight,
  type DType,
  type Tensor,
  tensor,
} from '../src/index.js';

/** Deterministic pseudo-random values (tests must not depend on the library's own RNG). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function randomValues(n: number, seed = 1, lo = -3, hi = 3): number[] {
  const r = lcg(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function randomTensor(shape: number[], dtype: DType = 'float32', seed = 1): Tensor {
  const values = randomValues(sizeOf(shape), seed).map((v) =>
    dtype === 'int32' ? Math.round(v * 3) : dtype === 'bool' ? (v > 0 ? 1 : 0) : v,
  );
  return tensor(values, { shape, dtype });
}

/** Unravels a flat row-major index into coordinates. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d] + idx[d];
  return i;
}

/** Expects two flat arrays to agree elementwise within atol + rtol*|expected| (NaN matches NaN). */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-5, rtol = 1e-5 } = {},
): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e)) {
      if (!Number.isNaN(a)) expect.fail(`element ${i}: expected NaN, got ${a}`);
      continue;
    }
    if (!Number.isFinite(e)) {
      if (a !== e) expect.fail(`element ${i}: expected ${e}, got ${a}`);
      continue;
    }
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) expect.fail(`element ${i}: expected ${e}, got ${a}`);
  }
}

/** Values of a tensor as a plain number array. */
export function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

/** Rounds to float32 precision, for comparing float32 results with a float64 reference. */
export const f32 = (v: number): number => Math.fround(v);

/**
 * float32 convolutions (forward with a bias, input and weight gradients) against the float64 path
 * on each case, with random data seeded from `seed`. The weight gradient sums N*OH*OW products in
 * float32 (up to a few thousand, of values up to 9): its rounding reaches a few 1e-4.
 */
export function expectConvMatchesFloat64(
  cases: { x: number[]; w: number[]; opts: ConvOptions }[],
  seed: number,
): void {
  cases.forEach(({ x: xs, w: ws, opts }, i) => {
    const x = randomTensor(xs, 'float32', seed + 4 * i);
    const w = randomTensor(ws, 'float32', seed + 4 * i + 1);
    const b = randomTensor([ws[0]], 'float32', seed + 4 * i + 2);
    const [x64, w64, b64] = [x, w, b].map((t) => t.cast('float64'));
    const conv = [conv1d, conv2d, conv3d][xs.length - 3];
    const y = conv(x, w, b, opts);
    const y64 = conv(x64, w64, b64, opts);
    expect(y.shape).toEqual(y64.shape);
    const tol = { atol: 1e-4, rtol: 1e-4 };
    expectClose(values(y), values(y64), tol);
    const dy = randomTensor([...y.shape], 'float32', seed + 4 * i + 3);
    const dy64 = dy.cast('float64');
    expectClose(
      values(convBackwardInput(dy, w, xs, opts)),
      values(convBackwardInput(dy64, w64, xs, opts)),
      tol,
    );
    expectClose(
      values(convBackwardWeight(x, dy, ws, opts)),
      values(convBackwardWeight(x64, dy64, ws, opts)),
      {
        atol: 1e-3,
        rtol: 1e-4,
      },
    );
  });
}
