// CPU kernels of lpPool: forward (one pass per output) and backward (gathered per input).
import { cpuData, cpuEmpty, readContiguous, registerKernel, type Tensor } from '@softpool/tensor';
import { geometryOf, type PoolGeometry } from '../geometry.js';
import { flatCover, flatWindows, plan } from '../plan.js';
import { newOut } from './common.js';

/** Power-average (LP) pool: (sum a^p)^(1/p) over real taps, PyTorch's LPPool form. */
export function lpPoolForward(x: Tensor, g: PoolGeometry, normType: number): Tensor {
  const p = plan(x.shape, g);
  const a = readContiguous(x);
  const y = newOut(x, p);
  const { start, taps } = flatWindows(p);
  for (let plane = 0; plane < p.planes; plane++) {
    const ib = plane * p.inPlane;
    const ob = plane * p.outPlane;
    for (let o = 0; o < p.outPlane; o++) {
      let s = 0;
      for (let j = start[o]; j < start[o + 1]; j++) s += a[ib + taps[j]] ** normType;
      y.d[ob + o] = s ** (1 / normType);
    }
  }
  return y.t;
}

/** d y / d a_i = a_i^(p-1) y^(1-p); windows whose output is 0 pass no gradient (as PyTorch's relu clamp). */
export function lpPoolBackward(
  grad: Tensor,
  x: Tensor,
  yT: Tensor,
  g: PoolGeometry,
  normType: number,
): Tensor {
  const p = plan(x.shape, g);
  const a = readContiguous(x);
  const gy = readContiguous(grad);
  const y = readContiguous(yT);
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
        const o = ob + outs[j];
        if (y[o] !== 0) acc += gy[o] * ai ** (normType - 1) * y[o] ** (1 - normType);
      }
      dx[ib + i] = acc;
    }
  }
  return out;
}

registerKernel('lpPool', 'cpu', ([x], attrs) =>
  lpPoolForward(x, geometryOf(attrs), attrs.normType as number),
);
registerKernel('lpPoolBackward', 'cpu', ([grad, x, y], attrs) =>
  lpPoolBackward(grad, x, y, geometryOf(attrs), attrs.normType as number),
);
