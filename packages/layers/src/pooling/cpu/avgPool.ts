// CPU kernels of avgPool: forward (one pass per output) and backward (gathered per input).
import { cpuData, cpuEmpty, readContiguous, registerKernel, type Tensor } from '@softpool/tensor';
import { geometryOf, type PoolGeometry } from '../geometry.js';
import { flatCover, flatWindows, plan } from '../plan.js';
import { newOut } from './common.js';
import { avgPoolBackwardWasm, avgPoolForwardWasm, wasmReady } from './wasm.js';

/** Average pool forward: mean over real taps, or over taps including padding (countIncludePad). */
export function avgPoolForward(x: Tensor, g: PoolGeometry, countIncludePad: boolean): Tensor {
  const p = plan(x.shape, g);
  const a = readContiguous(x);
  const y = newOut(x, p);
  const { start, taps } = flatWindows(p);
  const divisor = countIncludePad ? p.countWithPad : p.count;
  for (let plane = 0; plane < p.planes; plane++) {
    const ib = plane * p.inPlane;
    const ob = plane * p.outPlane;
    for (let o = 0; o < p.outPlane; o++) {
      let s = 0;
      for (let j = start[o]; j < start[o + 1]; j++) s += a[ib + taps[j]];
      y.d[ob + o] = s / divisor[o];
    }
  }
  return y.t;
}

export function avgPoolBackward(
  grad: Tensor,
  inputShape: readonly number[],
  g: PoolGeometry,
  countIncludePad: boolean,
): Tensor {
  const p = plan(inputShape, g);
  const gy = readContiguous(grad);
  const out = cpuEmpty(inputShape, grad.dtype);
  const dx = cpuData(out);
  const { start, taps: outs } = flatCover(p);
  const divisor = countIncludePad ? p.countWithPad : p.count;
  for (let plane = 0; plane < p.planes; plane++) {
    const ib = plane * p.inPlane;
    const ob = plane * p.outPlane;
    for (let i = 0; i < p.inPlane; i++) {
      let acc = 0;
      for (let j = start[i]; j < start[i + 1]; j++) acc += gy[ob + outs[j]] / divisor[outs[j]];
      dx[ib + i] = acc;
    }
  }
  return out;
}

registerKernel('avgPool', 'cpu', ([x], attrs) => {
  const g = geometryOf(attrs);
  const include = attrs.countIncludePad as boolean;
  return wasmReady(x, g) ? avgPoolForwardWasm(x, g, include) : avgPoolForward(x, g, include);
});

registerKernel('avgPoolBackward', 'cpu', ([grad], attrs) => {
  const g = geometryOf(attrs);
  const shape = attrs.inputShape as number[];
  const include = attrs.countIncludePad as boolean;
  return wasmReady(grad, g)
    ? avgPoolBackwardWasm(grad, shape, g, include)
    : avgPoolBackward(grad, shape, g, include);
});
