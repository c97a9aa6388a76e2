// CPU kernels of nllLoss on [N, C] log-probabilities: one pass over the targets. The composite
// (masks, casts, gathers, products, sums: a dozen ops forward and as many backward) cost a LeNet-5
// step about as much as a small convolution. Sums are in float64, stored in the input's dtype.
import {
  ArgumentError,
  cpuData,
  cpuEmpty,
  readContiguous,
  registerKernel,
  type Tensor,
} from '@softpool/tensor';

/** The class of row i, checked: an index in [0, C), or ignoreIndex (undefined). */
function classOf(t: ArrayLike<number>, i: number, C: number, ignoreIndex: number): number | undefined {
  const c = t[i];
  if (c === ignoreIndex) return undefined;
  if (!(c >= 0 && c < C))
    throw new ArgumentError(
      `nllLoss: target ${c} at [${i}] is not a class index in [0, ${C}) nor ignoreIndex ${ignoreIndex}`,
    );
  return c;
}

/** The summed weights of the counted targets ('mean' divides by them, as PyTorch does; the backward). */
function counted(
  t: ArrayLike<number>,
  w: ArrayLike<number> | undefined,
  C: number,
  ignoreIndex: number,
): number {
  let total = 0;
  for (let i = 0; i < t.length; i++) {
    const c = classOf(t, i, C, ignoreIndex);
    if (c !== undefined) total += w ? w[c] : 1;
  }
  return total;
}

registerKernel('nllLoss', 'cpu', ([logp, target, weight], { ignoreIndex, reduction }) => {
  const [N, C] = logp.shape;
  const lp = readContiguous(logp);
  const t = readContiguous(target);
  const w = weight ? readContiguous(weight) : undefined;
  const out = cpuEmpty(reduction === 'none' ? [N] : [], logp.dtype);
  const o = cpuData(out);
  let total = 0;
  let weights = 0;
  for (let i = 0; i < N; i++) {
    const c = classOf(t, i, C, ignoreIndex);
    if (c === undefined) {
      if (reduction === 'none') o[i] = 0;
      continue;
    }
    const wc = w ? w[c] : 1;
    const v = -wc * lp[i * C + c];
    if (reduction === 'none') o[i] = v;
    total += v;
    weights += wc;
  }
  if (reduction === 'sum') o[0] = total;
  else if (reduction === 'mean') o[0] = total / weights;
  return out;
});

registerKernel('nllLossBackward', 'cpu', ([g, target, weight], { ignoreIndex, reduction, classes: C }) => {
  const N = target.shape[0];
  const t = readContiguous(target);
  const w = weight ? readContiguous(weight) : undefined;
  const gv = readContiguous(g);
  const out: Tensor = cpuEmpty([N, C], g.dtype);
  const d = cpuData(out);
  const scale = reduction === 'mean' ? 1 / counted(t, w, C, ignoreIndex) : 1;
  for (let i = 0; i < N; i++) {
    const c = classOf(t, i, C, ignoreIndex);
    if (c !== undefined) d[i * C + c] = -(w ? w[c] : 1) * (reduction === 'none' ? gv[i] : gv[0]) * scale;
  }
  return out;
});
