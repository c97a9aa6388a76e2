// Fused CPU kernels of batch normalisation in training mode: per channel, one pass for the
// mean, one for the variance, one to normalise (the composite form takes about twenty passes);
// the backward is the closed form dx = g/sigma (dy - mean(dy) - xhat mean(dy xhat)). float32 runs
// the same arithmetic in WebAssembly SIMD on the worker threads (@softpool/tensor's
// batchNormFloat32, which must stay bit-identical to the loops here); other dtypes run these loops.
import {
  batchNormBackwardFloat32,
  batchNormFloat32,
  cpuData,
  cpuEmpty,
  cpuEmptyUnfilled,
  cpuInfo,
  readContiguous,
  registerKernel,
  type Tensor,
} from '@softpool/tensor';

/** [N, C, S] view sizes of a [N, C, ...] tensor. */
function dims(x: Tensor): [number, number, number] {
  const [N, C] = x.shape;
  return [N, C, x.size / (N * C)];
}

// The sums below run four independent accumulators: one accumulator is a chain of dependent
// additions that runs at the adder's latency, four keep it busy (the channel sums took most of
// both kernels' time).

/** a[o] + ... + a[o + len - 1]. */
function sumRun(a: ArrayLike<number>, o: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = o;
  for (const end = o + len - 3; i < end; i += 4) {
    s0 += a[i];
    s1 += a[i + 1];
    s2 += a[i + 2];
    s3 += a[i + 3];
  }
  for (; i < o + len; i++) s0 += a[i];
  return s0 + s1 + s2 + s3;
}

/** Sum of (a[i] - mu)^2 over the run. */
function squaredDeviationRun(a: ArrayLike<number>, o: number, len: number, mu: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = o;
  for (const end = o + len - 3; i < end; i += 4) {
    const d0 = a[i] - mu;
    const d1 = a[i + 1] - mu;
    const d2 = a[i + 2] - mu;
    const d3 = a[i + 3] - mu;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < o + len; i++) s0 += (a[i] - mu) * (a[i] - mu);
  return s0 + s1 + s2 + s3;
}

/** Sum of g[i] * (a[i] - mu) over the run. */
function dotDeviationRun(
  g: ArrayLike<number>,
  a: ArrayLike<number>,
  o: number,
  len: number,
  mu: number,
): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = o;
  for (const end = o + len - 3; i < end; i += 4) {
    s0 += g[i] * (a[i] - mu);
    s1 += g[i + 1] * (a[i + 1] - mu);
    s2 += g[i + 2] * (a[i + 2] - mu);
    s3 += g[i + 3] * (a[i + 3] - mu);
  }
  for (; i < o + len; i++) s0 += g[i] * (a[i] - mu);
  return s0 + s1 + s2 + s3;
}

type Data = ArrayLike<number> & { [i: number]: number };

/** The forward loops: y (relu(y) with `relu`), mean and variance of a [N, C, S] (any float dtype). */
export function batchNormLoops(
  a: ArrayLike<number>,
  [N, C, S]: [number, number, number],
  g: ArrayLike<number>,
  b: ArrayLike<number>,
  eps: number,
  yd: Data,
  md: Data,
  vd: Data,
  relu = false,
): void {
  const M = N * S;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += sumRun(a, (n * C + c) * S, S);
    const mu = s / M;
    let v = 0;
    for (let n = 0; n < N; n++) v += squaredDeviationRun(a, (n * C + c) * S, S, mu);
    v /= M;
    const scale = g[c] / Math.sqrt(v + eps);
    const shift = b[c] - mu * scale;
    for (let n = 0; n < N; n++) {
      const o = (n * C + c) * S;
      if (!relu) for (let i = 0; i < S; i++) yd[o + i] = a[o + i] * scale + shift;
      else
        for (let i = 0; i < S; i++) {
          const y = a[o + i] * scale + shift;
          yd[o + i] = Math.max(y, 0); // +0 for -0 and below, NaN kept: as relu
        }
    }
    md[c] = mu;
    vd[c] = v;
  }
}

/** The backward loops: dx, dgamma and dbeta from dy (any float dtype). */
export function batchNormBackwardLoops(
  gy: ArrayLike<number>,
  a: ArrayLike<number>,
  [N, C, S]: [number, number, number],
  g: ArrayLike<number>,
  m: ArrayLike<number>,
  v: ArrayLike<number>,
  eps: number,
  dxd: Data,
  dgd: Data,
  dbd: Data,
): void {
  const M = N * S;
  for (let c = 0; c < C; c++) {
    const inv = 1 / Math.sqrt(v[c] + eps);
    const mu = m[c];
    let sdy = 0;
    let sdyx = 0;
    for (let n = 0; n < N; n++) {
      const o = (n * C + c) * S;
      sdy += sumRun(gy, o, S);
      sdyx += dotDeviationRun(gy, a, o, S, mu) * inv;
    }
    const k = (g[c] * inv) / M;
    for (let n = 0; n < N; n++) {
      const o = (n * C + c) * S;
      for (let i = 0; i < S; i++) dxd[o + i] = k * (M * gy[o + i] - sdy - (a[o + i] - mu) * inv * sdyx);
    }
    dgd[c] = sdyx;
    dbd[c] = sdy;
  }
}

/**
 * Whether to run the WebAssembly twin: float32 everywhere and worker threads to share the work.
 * On one thread it gains nothing (these passes are bound by memory, and the twin first copies the
 * data into WebAssembly memory): [64,32,784] forward+backward took 27-33 ms there against 24-34 ms
 * here; on two threads 25-26 ms against 31-39 ms.
 */
const useWasm = (arrays: ArrayLike<number>[]): boolean =>
  arrays.every((t) => t instanceof Float32Array) && cpuInfo().threads > 1;

registerKernel('batchNorm', 'cpu', ([x, gamma, beta], { eps, relu }) => {
  const dims3 = dims(x);
  const C = dims3[1];
  const ins = [x, gamma, beta].map(readContiguous);
  // Every y and dx element is written: no zeroing.
  const y = cpuEmptyUnfilled(x.shape, x.dtype);
  const mean = cpuEmpty([C], x.dtype);
  const variance = cpuEmpty([C], x.dtype);
  const outs = [y, mean, variance].map(cpuData);
  if (useWasm([...ins, ...outs])) {
    // The same arithmetic in WebAssembly SIMD, on the worker threads (the same bits).
    const [a, g, b] = ins as Float32Array[];
    const [yd, md, vd] = outs as Float32Array[];
    batchNormFloat32(a, dims3, g, b, eps, { y: yd, mean: md, variance: vd }, relu);
  } else {
    batchNormLoops(ins[0], dims3, ins[1], ins[2], eps, outs[0], outs[1], outs[2], relu);
  }
  return [y, mean, variance];
});

registerKernel('batchNormBackward', 'cpu', ([dy, x, gamma, mean, variance, reluOut], { eps }) => {
  const dims3 = dims(x);
  const C = dims3[1];
  const ins = [dy, x, gamma, mean, variance].map(readContiguous);
  // Fused relu: dy masked by the forward's output first, as relu's gradient (+0 where <= 0).
  const mask = reluOut ? readContiguous(reluOut) : undefined;
  const dx = cpuEmptyUnfilled(x.shape, x.dtype);
  const dgamma = cpuEmpty([C], x.dtype);
  const dbeta = cpuEmpty([C], x.dtype);
  const outs = [dx, dgamma, dbeta].map(cpuData);
  if (useWasm([...ins, ...outs, ...(mask ? [mask] : [])])) {
    const [gy, a, g, m, v] = ins as Float32Array[];
    const [dxd, dgd, dbd] = outs as Float32Array[];
    batchNormBackwardFloat32(
      gy,
      a,
      dims3,
      g,
      m,
      v,
      eps,
      { dx: dxd, dgamma: dgd, dbeta: dbd },
      mask as Float32Array,
    );
  } else {
    const [gy, a, g, m, v] = ins;
    let gm = gy;
    if (mask) {
      gm = gy.slice();
      for (let i = 0; i < gm.length; i++) if (mask[i] <= 0) gm[i] = 0;
    }
    batchNormBackwardLoops(gm, a, dims3, g, m, v, eps, outs[0], outs[1], outs[2]);
  }
  return [dx, dgamma, dbeta];
});
