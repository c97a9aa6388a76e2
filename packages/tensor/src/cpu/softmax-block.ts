// The softmax family's loops (softmax, logSoftmax, logSumExp) over a block of a contiguous
// [outer, n, inner] layout. The calling thread runs this function; the worker threads compile its
// source text (worker-source.ts), so a row gives the same bits whichever thread takes it. It
// therefore refers to nothing outside itself.

/** The op numbers `softmaxBlock` takes. */
export const SOFTMAX_CODES = { softmax: 0, logSoftmax: 1, logSumExp: 2 } as const;

/**
 * For outer indices [a0, a1) and inner indices [i0, i1): m = max over the n axis (NaN wins),
 * s = sum of exp(x - m) in axis order (float64); then softmax exp(x - m) / s, logSoftmax
 * x - m - log(s), or logSumExp m + log(s) (the limit where m is infinite) into `o`, whose layout
 * is [outer, n, inner] ([outer, inner] for logSumExp). Float64 scratch of its own.
 */
export function softmaxBlock(
  code: number,
  xs: Float32Array | Float64Array,
  o: Float32Array | Float64Array,
  n: number,
  inner: number,
  a0: number,
  a1: number,
  i0: number,
  i1: number,
): void {
  const w = i1 - i0;
  const m = new Float64Array(w);
  const s = new Float64Array(w);
  // softmax keeps the exponentials for its last pass rather than computing them twice.
  const e = new Float64Array(code === 0 ? n * w : 0);
  for (let a = a0; a < a1; a++) {
    const base = a * n * inner + i0;
    if (w === 1 && inner === 1) {
      // One contiguous row (softmax over the last axis): the same steps on scalars.
      let mi = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < n; j++) {
        const v = xs[base + j];
        if (v > mi || Number.isNaN(v)) mi = v;
      }
      let si = 0;
      for (let j = 0; j < n; j++) {
        const v = Math.exp(xs[base + j] - mi);
        if (code === 0) e[j] = v;
        si += v;
      }
      if (code === 2)
        o[a] = mi === Number.POSITIVE_INFINITY || mi === Number.NEGATIVE_INFINITY ? mi : mi + Math.log(si);
      else if (code === 0) for (let j = 0; j < n; j++) o[base + j] = e[j] / si;
      else {
        const ls = Math.log(si);
        for (let j = 0; j < n; j++) o[base + j] = xs[base + j] - mi - ls;
      }
      continue;
    }
    m.fill(Number.NEGATIVE_INFINITY);
    s.fill(0);
    for (let j = 0; j < n; j++) {
      const row = base + j * inner;
      for (let i = 0; i < w; i++) {
        const v = xs[row + i];
        if (v > m[i] || Number.isNaN(v)) m[i] = v;
      }
    }
    for (let j = 0; j < n; j++) {
      const row = base + j * inner;
      for (let i = 0; i < w; i++) {
        const v = Math.exp(xs[row + i] - m[i]);
        if (code === 0) e[j * w + i] = v;
        s[i] += v;
      }
    }
    if (code === 2) {
      for (let i = 0; i < w; i++) {
        const mi = m[i];
        o[a * inner + i0 + i] =
          mi === Number.POSITIVE_INFINITY || mi === Number.NEGATIVE_INFINITY ? mi : mi + Math.log(s[i]);
      }
    } else if (code === 0) {
      for (let j = 0; j < n; j++) {
        const row = base + j * inner;
        for (let i = 0; i < w; i++) o[row + i] = e[j * w + i] / s[i];
      }
    } else {
      // log(s) once per column (the same value the per-element form computed each time).
      for (let i = 0; i < w; i++) s[i] = Math.log(s[i]);
      for (let j = 0; j < n; j++) {
        const row = base + j * inner;
        for (let i = 0; i < w; i++) o[row + i] = xs[row + i] - m[i] - s[i];
      }
    }
  }
}
