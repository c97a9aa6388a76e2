// CPU kernels of edscwPool: forward (one pass per output) and backward (gathered per input).
import { cpuData, cpuEmpty, readContiguous, registerKernel, type Tensor } from '@softpool/tensor';
import { geometryOf, type PoolGeometry } from '../geometry.js';
import { flatCover, flatWindows, plan } from '../plan.js';
import { newOut } from './common.js';

/** Dice-Sorensen coefficient of a tap and the window mean, with 0/0 (both zero) defined as 1. */
function dsc(a: number, b: number): number {
  const den = a * a + b * b;
  return den === 0 ? 1 : (2 * Math.abs(a * b)) / den;
}

/** Partial derivatives of dsc(a, b) in a and in b (0 at the 0/0 point and where a*b = 0). */
function dscGrad(a: number, b: number): [number, number] {
  const den = a * a + b * b;
  if (den === 0) return [0, 0];
  const sgn = Math.sign(a * b);
  const den2 = den * den;
  return [(2 * sgn * b * (b * b - a * a)) / den2, (2 * sgn * a * (a * a - b * b)) / den2];
}

/**
 * AdaPool's eDSCW: w = softmax(dsc(a_i, mean)) over the window, y = sum w a. Statistics for backward:
 * the window mean, lse of the dsc scores, and q = sum w (a - y) d dsc / d mean.
 */
export function edscwPoolForward(x: Tensor, g: PoolGeometry): Tensor[] {
  const p = plan(x.shape, g);
  const a = readContiguous(x);
  const [y, mean, lse, q] = [0, 1, 2, 3].map(() => newOut(x, p));
  const { start, taps } = flatWindows(p);
  for (let plane = 0; plane < p.planes; plane++) {
    const ib = plane * p.inPlane;
    const ob = plane * p.outPlane;
    for (let o = 0; o < p.outPlane; o++) {
      const j0 = start[o];
      const j1 = start[o + 1];
      let sum = 0;
      for (let j = j0; j < j1; j++) sum += a[ib + taps[j]];
      const mu = sum / (j1 - j0);
      // dsc scores lie in [0, 1]: exp cannot overflow, no max subtraction needed.
      let s = 0;
      let sw = 0;
      for (let j = j0; j < j1; j++) {
        const v = a[ib + taps[j]];
        const e = Math.exp(dsc(v, mu));
        s += e;
        sw += e * v;
      }
      const out = sw / s;
      const l = Math.log(s);
      let qs = 0;
      for (let j = j0; j < j1; j++) {
        const v = a[ib + taps[j]];
        qs += Math.exp(dsc(v, mu) - l) * (v - out) * dscGrad(v, mu)[1];
      }
      y.d[ob + o] = out;
      mean.d[ob + o] = mu;
      lse.d[ob + o] = l;
      q.d[ob + o] = qs;
    }
  }
  return [y.t, mean.t, lse.t, q.t];
}

/** dy/da_j = w_j + w_j (a_j - y) d dsc(a_j, mean)/da + q / n, gathered over the windows of a_j. */
export function edscwPoolBackward(grad: Tensor, x: Tensor, stats: Tensor[], g: PoolGeometry): Tensor {
  const p = plan(x.shape, g);
  const a = readContiguous(x);
  const gy = readContiguous(grad);
  const [y, mean, lse, q] = stats.map(readContiguous);
  const out = cpuEmpty(x.shape, x.dtype);
  const dx = cpuData(out);
  const { start, taps: outs } = flatCover(p);
  for (let plane = 0; plane < p.planes; plane++) {
    const ib = plane * p.inPlane;
    const ob = plane * p.outPlane;
    for (let i = 0; i < p.inPlane; i++) {
      const ai = a[ib + i];
      let acc = 0;
      for (let j = start[i]; j < start[i + 1]; j++) {
        const oo = outs[j];
        const o = ob + oo;
        const w = Math.exp(dsc(ai, mean[o]) - lse[o]);
        acc += gy[o] * (w + w * (ai - y[o]) * dscGrad(ai, mean[o])[0] + q[o] / p.count[oo]);
      }
      dx[ib + i] = acc;
    }
  }
  return out;
}

registerKernel('edscwPool', 'cpu', ([x], attrs) => edscwPoolForward(x, geometryOf(attrs)));
registerKernel('edscwPoolBackward', 'cpu', ([grad, x, ...stats], attrs) =>
  edscwPoolBackward(grad, x, stats, geometryOf(attrs)),
);
