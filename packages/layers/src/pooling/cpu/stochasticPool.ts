// CPU kernel of stochastic pooling's training pass: per window, sample one tap with probability
// max(a, 0) / sum max(a, 0) using a given uniform number; output the tap and its index. Windows
// with no positive tap output 0 with index -1 (no gradient). The backward is maxPoolBackward.
import { readContiguous, registerKernel, type Tensor } from '@softpool/tensor';
import { geometryOf, type PoolGeometry } from '../geometry.js';
import { flatWindows, plan } from '../plan.js';
import { newOut } from './common.js';

export function stochasticPoolForward(x: Tensor, u: Tensor, g: PoolGeometry): [Tensor, Tensor] {
  const p = plan(x.shape, g);
  const a = readContiguous(x);
  const r = readContiguous(u);
  const y = newOut(x, p);
  const idx = newOut(x, p, 'int32');
  const { start, taps } = flatWindows(p);
  for (let plane = 0; plane < p.planes; plane++) {
    const ib = plane * p.inPlane;
    const ob = plane * p.outPlane;
    for (let o = 0; o < p.outPlane; o++) {
      let total = 0;
      for (let j = start[o]; j < start[o + 1]; j++) total += Math.max(a[ib + taps[j]], 0);
      let pick = -1;
      if (total > 0) {
        const target = r[ob + o] * total;
        let acc = 0;
        for (let j = start[o]; j < start[o + 1]; j++) {
          const v = Math.max(a[ib + taps[j]], 0);
          if (v === 0) continue;
          acc += v;
          pick = taps[j];
          if (acc > target) break;
        }
      }
      y.d[ob + o] = pick < 0 ? 0 : a[ib + pick];
      idx.d[ob + o] = pick;
    }
  }
  return [y.t, idx.t];
}

registerKernel('stochasticPool', 'cpu', ([x, u], attrs) => stochasticPoolForward(x, u, geometryOf(attrs)));
