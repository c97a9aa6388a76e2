// The learned poolings of Lee, Gallagher and Tu (AISTATS 2016) and Gao et al.'s LIP (ICCV 2019),
// composed from fused poolings and depthwise convolutions, so they run on every backend and get
// their gradients from autograd. Window dot products (w . x_R) are depthwise convolutions with the
// pooling's geometry; they see zero-padded windows where the pooling has padding.
import {
  ArgumentError,
  add,
  checkTensor,
  conv2d,
  div,
  exp,
  expand,
  fmtShape,
  gt,
  max,
  mul,
  reshape,
  scope,
  sigmoid,
  sub,
  type Tensor,
  where,
} from '@softpool/tensor';
import { avgPool2d } from './avgPool.js';
import { type PoolOptions, poolInput, resolveGeometry } from './geometry.js';
import { maxPool2d } from './maxPool.js';

/** w . x_R for every window: a depthwise conv with weights [kh, kw] (shared) or [C, kh, kw]. */
export function windowDot(name: string, x: Tensor, w: Tensor, options: PoolOptions): Tensor {
  checkTensor(name, w, 'weights');
  const { input, unbatched } = poolInput(name, x, 2);
  const g = resolveGeometry(name, input.shape.slice(2), options);
  const C = input.shape[1];
  const k = g.kernel;
  const shared = w.rank === 2 && w.shape[0] === k[0] && w.shape[1] === k[1];
  const perChannel = w.rank === 3 && w.shape[0] === C && w.shape[1] === k[0] && w.shape[2] === k[1];
  if (!shared && !perChannel) {
    throw new ArgumentError(
      `${name}: weights must be [${k.join(', ')}] or [${C}, ${k.join(', ')}], got ${fmtShape(w.shape)}`,
    );
  }
  const weight = shared
    ? expand(reshape(w, [1, 1, k[0], k[1]]), [C, 1, k[0], k[1]])
    : reshape(w, [C, 1, k[0], k[1]]);
  const out = conv2d(input, weight.contiguous(), {
    stride: g.stride,
    padding: g.padding,
    dilation: g.dilation,
    groups: C,
  });
  return unbatched ? reshape(out, out.shape.slice(1)) : out;
}

/**
 * Mixed pooling: alpha * max + (1 - alpha) * avg, alpha in [0, 1] (a scalar tensor, or [C, 1, 1]
 * per channel).
 * @example mixedPool2d(x, scalar(0.3), { kernelSize: 2 })
 */
export function mixedPool2d(x: Tensor, alpha: Tensor, options: PoolOptions): Tensor {
  // Intermediates are released here: only the result outlives the call.
  return scope(() => {
    checkTensor('mixedPool2d', alpha, 'alpha');
    const avg = avgPool2d(x, { ...options, countIncludePad: false });
    return add(mul(alpha, maxPool2d(x, options)), mul(sub(1, alpha), avg));
  });
}

/**
 * Gated pooling: s = sigmoid(w . x_R) per window, y = s * max + (1 - s) * avg. `gate` holds the
 * gating weights, [kh, kw] per layer or [C, kh, kw] per channel.
 */
export function gatedPool2d(x: Tensor, gate: Tensor, options: PoolOptions): Tensor {
  // Intermediates are released here: only the result outlives the call.
  return scope(() => {
    const s = sigmoid(windowDot('gatedPool2d', x, gate, options));
    const avg = avgPool2d(x, { ...options, countIncludePad: false });
    return add(mul(s, maxPool2d(x, options)), mul(sub(1, s), avg));
  });
}

/**
 * Tree pooling with a binary tree of `gates.length` inner nodes over `leaves.length` =
 * gates.length + 1 leaves (depth 2: 3 gates, 4 leaves). Leaves are learned pooling filters
 * v_m . x_R; each inner node mixes its two children with sigmoid(w_m . x_R). Gates and leaves are
 * [kh, kw] or [C, kh, kw] each; nodes are in breadth-first order (gates[0] is the root).
 */
export function treePool2d(
  x: Tensor,
  leaves: readonly Tensor[],
  gates: readonly Tensor[],
  options: PoolOptions,
): Tensor {
  // Intermediates are released here: only the result outlives the call.
  return scope(() => {
    if (!Array.isArray(leaves) || !Array.isArray(gates))
      throw new ArgumentError('treePool2d: leaves and gates must be arrays of weight tensors');
    if (
      leaves.length !== gates.length + 1 ||
      (leaves.length & (leaves.length - 1)) !== 0 ||
      leaves.length < 2
    ) {
      throw new ArgumentError(
        `treePool2d: need 2^d leaves and 2^d - 1 gates, got ${leaves.length} leaves and ${gates.length} gates`,
      );
    }
    let level = leaves.map((v) => windowDot('treePool2d', x, v, options));
    let gate = gates.length;
    while (level.length > 1) {
      // The gates of this level are the last ones not used yet, in breadth-first order.
      gate -= level.length / 2;
      const next: Tensor[] = [];
      for (let i = 0; i < level.length; i += 2) {
        const s = sigmoid(windowDot('treePool2d', x, gates[gate + i / 2], options));
        next.push(add(mul(s, level[i]), mul(sub(1, s), level[i + 1])));
      }
      level = next;
    }
    return level[0];
  });
}

/**
 * LIP (local importance-based pooling): y = sum F a / sum F over each window with F = exp(logits).
 * `logits` has x's shape (the LIPPool2d module computes them with a small conv net). Logits are
 * shifted by their per-plane maximum first, which leaves every window's ratio unchanged.
 */
export function lipPool2d(x: Tensor, logits: Tensor, options: PoolOptions): Tensor {
  // Intermediates are released here: only the result outlives the call.
  return scope(() => {
    checkTensor('lipPool2d', x);
    checkTensor('lipPool2d', logits, 'logits');
    if (logits.rank !== x.rank || logits.shape.some((d, i) => d !== x.shape[i])) {
      throw new ArgumentError(
        `lipPool2d: logits ${fmtShape(logits.shape)} must have the input's shape ${fmtShape(x.shape)}`,
      );
    }
    const spatial = [x.rank - 2, x.rank - 1];
    const f = exp(sub(logits, max(logits, spatial, { keepDim: true }).detach()));
    const avg = { ...options, countIncludePad: false };
    const den = avgPool2d(f, avg);
    const ok = gt(den, 0);
    return where(ok, div(avgPool2d(mul(f, x), avg), where(ok, den, 1)), 0);
  });
}
