// CPU kernels of maxPool: forward (one pass per output) and backward (gathered per input).
import { cpuData, cpuEmpty, readContiguous, registerKernel, type Tensor } from '@softpool/tensor';
import { geometryOf, type PoolGeometry } from '../geometry.js';
import { flatCover, flatWindows, plan } from '../plan.js';
import { newOut } from './common.js';
import { maxPoolBackwardWasm, maxPoolForwardWasm, wasmReady } from './wasm.js';

/** Max pool forward: the maximum (NaN wins) and the flat in-plane index of the first maximum. */
export function maxPoolForward(x: Tensor, g: PoolGeometry): [Tensor, Tensor] {
  const p = plan(x.shape, g);
  const a = readContiguous(x);
  const y = newOut(x, p);
  const idx = newOut(x, p, 'int32');
  const { start, taps } = flatWindows(p);
  for (let plane = 0; plane < p.planes; plane++) {
    const ib = plane * p.inPlane;
    const ob = plane * p.outPlane;
    for (let o = 0; o < p.outPlane; o++) {
      let best = taps[start[o]];
      let m = a[ib + best];
      for (let j = start[o] + 1; j < start[o + 1] && !Number.isNaN(m); j++) {
        const v = a[ib + taps[j]];
        if (v > m || Number.isNaN(v)) {
          m = v;
          best = taps[j];
        }
      }
      y.d[ob + o] = m;
      idx.d[ob + o] = best;
    }
  }
  return [y.t, idx.t];
}

/** Max pool backward: each input element collects the gradients of the windows it won. */
export function maxPoolBackward(grad: Tensor, x: Tensor, indices: Tensor, g: PoolGeometry): Tensor {
  const p = plan(x.shape, g);
  const gy = readContiguous(grad);
  const win = readContiguous(indices);
  const out = cpuEmpty(x.shape, grad.dtype);
  const dx = cpuData(out);
  const { start, taps: outs } = flatCover(p);
  for (let plane = 0; plane < p.planes; plane++) {
    const ib = plane * p.inPlane;
    const ob = plane * p.outPlane;
    for (let i = 0; i < p.inPlane; i++) {
      let acc = 0;
      for (let j = start[i]; j < start[i + 1]; j++) {
        const o = ob + outs[j];
        if (win[o] === i) acc += gy[o];
      }
      dx[ib + i] = acc;
    }
  }
  return out;
}

registerKernel('maxPool', 'cpu', ([x], attrs) => {
  const g = geometryOf(attrs);
  return wasmReady(x, g) ? maxPoolForwardWasm(x, g) : maxPoolForward(x, g);
});

registerKernel('maxPoolBackward', 'cpu', ([grad, x, indices], attrs) => {
  const g = geometryOf(attrs);
  return wasmReady(grad, g)
    ? maxPoolBackwardWasm(grad, x.shape, indices, g)
    : maxPoolBackward(grad, x, indices, g);
});
