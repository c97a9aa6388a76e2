// Fused CPU kernels of batch normalisation in training mode: per channel, one pass for the
// mean, one for the variance, one to normalise (the composite form takes about twenty passes);
// the backward is the closed form dx = g/sigma (dy - mean(dy) - xhat mean(dy xhat)).
import { cpuData, cpuEmpty, readContiguous, registerKernel, type Tensor } from '@softpool/tensor';

/** [N, C, S] view sizes of a [N, C, ...] tensor. */
function dims(x: Tensor): [number, number, number] {
  const [N, C] = x.shape;
  return [N, C, x.size / (N * C)];
}

registerKernel('batchNorm', 'cpu', ([x, gamma, beta], { eps }) => {
  const [N, C, S] = dims(x);
  const a = readContiguous(x);
  const g = readContiguous(gamma);
  const b = readContiguous(beta);
  const y = cpuEmpty(x.shape, x.dtype);
  const mean = cpuEmpty([C], x.dtype);
  const variance = cpuEmpty([C], x.dtype);
  const [yd, md, vd] = [cpuData(y), cpuData(mean), cpuData(variance)];
  const M = N * S;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const o = (n * C + c) * S;
      for (let i = 0; i < S; i++) s += a[o + i];
    }
    const mu = s / M;
    let v = 0;
    for (let n = 0; n < N; n++) {
      const o = (n * C + c) * S;
      for (let i = 0; i < S; i++) {
        const d = a[o + i] - mu;
        v += d * d;
      }
    }
    v /= M;
    const scale = g[c] / Math.sqrt(v + eps);
    const shift = b[c] - mu * scale;
    for (let n = 0; n < N; n++) {
      const o = (n * C + c) * S;
      for (let i = 0; i < S; i++) yd[o + i] = a[o + i] * scale + shift;
    }
    md[c] = mu;
    vd[c] = v;
  }
  return [y, mean, variance];
});

registerKernel('batchNormBackward', 'cpu', ([dy, x, gamma, mean, variance], { eps }) => {
  const [N, C, S] = dims(x);
  const [gy, a, g, m, v] = [dy, x, gamma, mean, variance].map(readContiguous);
  const dx = cpuEmpty(x.shape, x.dtype);
  const dgamma = cpuEmpty([C], x.dtype);
  const dbeta = cpuEmpty([C], x.dtype);
  const [dxd, dgd, dbd] = [cpuData(dx), cpuData(dgamma), cpuData(dbeta)];
  const M = N * S;
  for (let c = 0; c < C; c++) {
    const inv = 1 / Math.sqrt(v[c] + eps);
    const mu = m[c];
    let sdy = 0;
    let sdyx = 0;
    for (let n = 0; n < N; n++) {
      const o = (n * C + c) * S;
      for (let i = 0; i < S; i++) {
        sdy += gy[o + i];
        sdyx += gy[o + i] * (a[o + i] - mu) * inv;
      }
    }
    const k = (g[c] * inv) / M;
    const mdy = sdy;
    const mdyx = sdyx;
    for (let n = 0; n < N; n++) {
      const o = (n * C + c) * S;
      for (let i = 0; i < S; i++) dxd[o + i] = k * (M * gy[o + i] - mdy - (a[o + i] - mu) * inv * mdyx);
    }
    dgd[c] = sdyx;
    dbd[c] = sdy;
  }
  return [dx, dgamma, dbeta];
});
