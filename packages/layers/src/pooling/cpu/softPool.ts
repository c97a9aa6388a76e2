// CPU kernels of softPool: forward (one pass per output) and backward (gathered per input).
import { cpuData, cpuEmpty, readContiguous, registerKernel, StateError, type Tensor } from '@softpool/tensor';
import { geometryOf, type PoolGeometry, softPoolOutputs } from '../geometry.js';
import { flatCover, flatWindows, plan } from '../plan.js';
import { newOut } from './common.js';
import { softPoolBackwardWasm, softPoolForwardWasm, wasmReady } from './wasm.js';

/**
 * SoftPool forward: per window, m = max(a/T), y = sum(e a) / sum(e) with e = exp(a/T - m), and the
 * statistics m and s = sum e that let backward rebuild each weight as exp(a/T - m) / s.
 * Non-finite windows: NaN -> NaN; else +inf present -> +inf; else all -inf -> -inf.
 */
export function softPoolForward(x: Tensor, g: PoolGeometry, temperature: number): Tensor[] {
  const p = plan(x.shape, g);
  const a = readContiguous(x);
  const y = newOut(x, p);
  const mx = newOut(x, p);
  const sum = newOut(x, p);
  const { start, taps } = flatWindows(p);
  const invT = 1 / temperature;
  for (let plane = 0; plane < p.planes; plane++) {
    const ib = plane * p.inPlane;
    const ob = plane * p.outPlane;
    for (let o = 0; o < p.outPlane; o++) {
      const j0 = start[o];
      const j1 = start[o + 1];
      let m = Number.NEGATIVE_INFINITY;
      let nan = false;
      for (let j = j0; j < j1; j++) {
        const v = a[ib + taps[j]] * invT;
        if (v > m) m = v;
        else if (Number.isNaN(v)) nan = true;
      }
      if (nan || !Number.isFinite(m)) {
        y.d[ob + o] = nan ? Number.NaN : m === Number.POSITIVE_INFINITY ? m : Number.NEGATIVE_INFINITY;
        mx.d[ob + o] = nan ? Number.NaN : m;
        sum.d[ob + o] = 1;
        continue;
      }
      // y = top + sum e (a - top) / s, with top the window's largest input: every term is <= 0
      // and bounded, so windows near the dtype's largest value do not overflow (sum e a would).
      let top = Number.NEGATIVE_INFINITY;
      for (let j = j0; j < j1; j++) top = Math.max(top, a[ib + taps[j]]);
      let s = 0;
      let sw = 0;
      for (let j = j0; j < j1; j++) {
        const v = a[ib + taps[j]];
        const e = Math.exp(v * invT - m);
        // -inf taps weigh exactly 0 (and 0 * -inf would be NaN).
        if (e === 0) continue;
        s += e;
        sw += e * (v - top);
      }
      y.d[ob + o] = top + sw / s;
      mx.d[ob + o] = m;
      sum.d[ob + o] = s;
    }
  }
  return [y.t, mx.t, sum.t];
}

/**
 * SoftPool backward, gathered per input element over its windows: with w = exp(a/T - lse),
 * exact: dL/da = sum g w (1 + (a - y)/T); paper: dL/da = sum g w (weights held constant).
 */
export function softPoolBackward(
  grad: Tensor,
  x: Tensor,
  stats: Tensor[],
  g: PoolGeometry,
  temperature: number,
  exact: boolean,
): Tensor {
  if (stats.length !== 3)
    throw new StateError('softPoolBackward: the forward statistics are missing (internal error)');
  const p = plan(x.shape, g);
  const a = readContiguous(x);
  const gy = readContiguous(grad);
  const [y, mx, sum] = stats.map(readContiguous);
  const out = cpuEmpty(x.shape, x.dtype);
  const dx = cpuData(out);
  const { start, taps: outs } = flatCover(p);
  const invT = 1 / temperature;
  for (let plane = 0; plane < p.planes; plane++) {
    const ib = plane * p.inPlane;
    const ob = plane * p.outPlane;
    for (let i = 0; i < p.inPlane; i++) {
      const ai = a[ib + i];
      let acc = 0;
      for (let j = start[i]; j < start[i + 1]; j++) {
        const o = ob + outs[j];
        const m = mx[o];
        if (!Number.isFinite(m)) {
          if (Number.isNaN(m)) acc = Number.NaN;
          continue; // +inf / -inf windows pass no gradient
        }
        const w = Math.exp(ai * invT - m) / sum[o];
        if (w === 0) continue;
        acc += exact ? gy[o] * w * (1 + (ai - y[o]) * invT) : gy[o] * w;
      }
      dx[ib + i] = acc;
    }
  }
  return out;
}

/**
 * The float32 SIMD kernels multiply by 1/T in float32: a temperature whose inverse (or itself)
 * leaves float32's range takes the float64 loops instead of overflowing to Infinity.
 */
const f32Temperature = (T: number) => {
  const inv = Math.fround(1 / T);
  return Number.isFinite(inv) && inv > 0 && Math.fround(T) > 0 && Number.isFinite(Math.fround(T));
};

// Outputs: y, then m and s unless attrs.stats is false (no backward will run) or the float32
// kernels' backward rebuilds them itself (kernel 2, stride 2: see wasm.ts).
registerKernel('softPool', 'cpu', ([x], attrs) => {
  const g = geometryOf(attrs);
  const T = attrs.temperature as number;
  if (wasmReady(x, g) && f32Temperature(T)) return softPoolForwardWasm(x, g, T, attrs.stats !== false);
  return softPoolOutputs(softPoolForward(x, g, T), attrs);
});

registerKernel('softPoolBackward', 'cpu', ([grad, x, ...stats], attrs) => {
  const g = geometryOf(attrs);
  const T = attrs.temperature as number;
  const exact = attrs.gradient !== 'paper';
  return wasmReady(x, g) && f32Temperature(T)
    ? softPoolBackwardWasm(grad, x, stats, g, T, exact)
    : softPoolBackward(grad, x, stats, g, T, exact);
});
