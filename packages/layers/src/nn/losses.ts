// Loss functions (PyTorch names, defaults and reductions) and their modules.
import {
  ArgumentError,
  abs,
  add,
  cast,
  checkTensor,
  DTypeError,
  div,
  exp,
  fmtShape,
  gather,
  hasKernel,
  isFloat,
  log1p,
  logSoftmax,
  mean,
  mul,
  ne,
  neg,
  permute,
  relu,
  run,
  ShapeError,
  square,
  sub,
  sum,
  type Tensor,
  unsqueeze,
  where,
} from '@softpool/tensor';
import { Module } from '../module.js';
import './cpu/nllLoss.js';
import './grads.js';

/** `t` with `axis` moved to the last position (a view). */
function moveAxisLast(t: Tensor, axis: number): Tensor {
  if (axis === t.rank - 1) return t;
  const order = t.shape.map((_, i) => i).filter((i) => i !== axis);
  return permute(t, [...order, axis]);
}

export type Reduction = 'mean' | 'sum' | 'none';

function lossOptions<T extends object>(op: string, options: T): T {
  if (typeof options !== 'object' || options === null)
    throw new ArgumentError(`${op}: options must be an object, got ${String(options)}`);
  return options;
}

function reduce(op: string, t: Tensor, reduction: Reduction, count?: Tensor | number): Tensor {
  if (reduction === 'none') return t;
  if (reduction === 'sum') return sum(t);
  if (reduction !== 'mean')
    throw new ArgumentError(`${op}: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
  return count === undefined ? mean(t) : div(sum(t), count);
}

export interface NllOptions {
  reduction?: Reduction;
  /** Targets with this class index contribute nothing (and are not counted by 'mean'). Default -100. */
  ignoreIndex?: number;
  /** Per-class weights [C]; 'mean' divides by the summed weights of the counted targets. */
  weight?: Tensor;
}

/**
 * Negative log-likelihood of class indices under log-probabilities: input [N, C] (or [N, C, ...]),
 * target int32 [N] (or [N, ...]).
 */
export function nllLoss(logProbs: Tensor, target: Tensor, options: NllOptions = {}): Tensor {
  const { reduction = 'mean', ignoreIndex = -100, weight } = lossOptions('nllLoss', options);
  checkTensor('nllLoss', logProbs);
  checkTensor('nllLoss', target, 'target');
  if (!isFloat(logProbs.dtype))
    throw new DTypeError(`nllLoss: input must hold float log-probabilities, got ${logProbs.dtype}`);
  if (target.dtype !== 'int32')
    throw new DTypeError(`nllLoss: target must hold int32 class indices, got ${target.dtype}`);
  if (
    logProbs.rank < 2 ||
    target.rank !== logProbs.rank - 1 ||
    target.shape.some((d, i) => d !== logProbs.shape[i === 0 ? 0 : i + 1])
  ) {
    throw new ShapeError(
      `nllLoss: input ${fmtShape(logProbs.shape)} needs target [N, ...spatial] = ${fmtShape([logProbs.shape[0], ...logProbs.shape.slice(2)])}, got ${fmtShape(target.shape)}`,
    );
  }
  const C = logProbs.shape[1];
  if (weight && (weight.rank !== 1 || weight.shape[0] !== C))
    throw new ShapeError(`nllLoss: weight must be [${C}], got ${fmtShape(weight.shape)}`);
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none')
    throw new ArgumentError(`nllLoss: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
  // [N, C] on a backend with the fused kernels: one op (a trainable weight takes the composite,
  // which gives it a gradient).
  if (logProbs.rank === 2 && hasKernel('nllLoss', logProbs.device) && !weight?.requiresGrad)
    return run('nllLoss', weight ? [logProbs, target, weight] : [logProbs, target], {
      ignoreIndex,
      reduction,
    });
  const keepMask = ne(target, ignoreIndex);
  const safeTarget = where(keepMask, target, 0);
  // Class axis last: [N, ..., C]; pick each target's log-probability.
  const lp = moveAxisLast(logProbs, 1);
  const picked = gather(lp, lp.rank - 1, unsqueeze(cast(safeTarget, 'int32'), -1)).squeeze(-1);
  let w: Tensor = cast(keepMask, logProbs.dtype);
  if (weight) w = mul(w, gather(weight, 0, safeTarget.flatten()).reshape(target.shape));
  const losses = neg(mul(picked, w));
  return reduce('nllLoss', losses, reduction, reduction === 'mean' ? sum(w) : undefined);
}

export interface CrossEntropyOptions extends NllOptions {
  /** Mixes the target with the uniform distribution: (1 - s) one-hot + s / C. Default 0. */
  labelSmoothing?: number;
}

/**
 * Cross-entropy between logits [N, C] (or [N, C, ...]) and int32 class indices [N] (or
 * [N, ...]), or class probabilities shaped like the logits. logSoftmax is fused and stable.
 * @example crossEntropy(model.forward(x), labels, { labelSmoothing: 0.1 })
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  checkTensor('crossEntropy', logits);
  checkTensor('crossEntropy', target, 'target');
  if (!isFloat(logits.dtype)) throw new DTypeError(`crossEntropy: logits must be float, got ${logits.dtype}`);
  const {
    reduction = 'mean',
    labelSmoothing = 0,
    ignoreIndex = -100,
    weight,
  } = lossOptions('crossEntropy', options);
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
    throw new ArgumentError(`crossEntropy: labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  const logp = logSoftmax(logits, 1);
  const C = logits.shape[1];
  if (isFloat(target.dtype)) {
    // Probability targets.
    if (target.rank !== logits.rank || target.shape.some((d, i) => d !== logits.shape[i])) {
      throw new ShapeError(
        `crossEntropy: probability targets must match the logits ${fmtShape(logits.shape)}, got ${fmtShape(target.shape)}`,
      );
    }
    let t = labelSmoothing ? add(mul(target, 1 - labelSmoothing), labelSmoothing / C) : target;
    if (weight) t = mul(t, weight.reshape([1, C, ...logits.shape.slice(2).map(() => 1)]));
    return reduce('crossEntropy', neg(sum(mul(logp, t), 1)), reduction);
  }
  if (!labelSmoothing) return nllLoss(logp, target, { reduction, ignoreIndex, weight });
  // With smoothing: (1 - s) nll + (s / C) sum_c -w_c log p_c; 'mean' divides by the summed target
  // weights of the counted samples, as PyTorch does.
  const nll = nllLoss(logp, target, { reduction: 'none', ignoreIndex, weight });
  const keep = cast(ne(target, ignoreIndex), logits.dtype);
  const classWeights = weight ? weight.reshape([1, C, ...logits.shape.slice(2).map(() => 1)]) : 1;
  const smooth = mul(neg(sum(mul(logp, classWeights), 1)), keep);
  const losses = add(mul(nll, 1 - labelSmoothing), mul(smooth, labelSmoothing / C));
  if (reduction !== 'mean') return reduce('crossEntropy', losses, reduction);
  const counted = weight
    ? mul(keep, gather(weight, 0, where(ne(target, ignoreIndex), target, 0).flatten()).reshape(target.shape))
    : keep;
  return div(sum(losses), sum(counted));
}

/** Mean squared error. */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  const { reduction = 'mean' } = lossOptions('mseLoss', options);
  checkTensor('mseLoss', input);
  checkTensor('mseLoss', target, 'target');
  return reduce('mseLoss', square(sub(input, target)), reduction);
}

/**
 * Binary cross-entropy on logits, computed stably: max(x, 0) - x t + log(1 + exp(-|x|)).
 * `posWeight` scales the positive term (per class, broadcast).
 */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: Tensor,
  options: { reduction?: Reduction; posWeight?: Tensor; weight?: Tensor } = {},
): Tensor {
  const { reduction = 'mean', posWeight, weight } = lossOptions('binaryCrossEntropyWithLogits', options);
  checkTensor('binaryCrossEntropyWithLogits', logits);
  checkTensor('binaryCrossEntropyWithLogits', target, 'target');
  const softplusNeg = add(relu(neg(logits)), log1p(exp(neg(abs(logits))))); // log(1 + exp(-x))
  let loss: Tensor;
  if (posWeight) {
    // (1 - t) x + (1 + (pw - 1) t) log(1 + exp(-x))
    const coef = add(mul(sub(posWeight, 1), target), 1);
    loss = add(mul(sub(1, target), logits), mul(coef, softplusNeg));
  } else {
    loss = add(mul(sub(1, target), logits), softplusNeg);
  }
  if (weight) loss = mul(loss, weight);
  return reduce('binaryCrossEntropyWithLogits', loss, reduction);
}

/** Module forms of the losses. */
export class CrossEntropyLoss extends Module {
  constructor(readonly options: CrossEntropyOptions = {}) {
    super();
  }
  override forward(logits: Tensor, target: Tensor): Tensor {
    return crossEntropy(logits, target, this.options);
  }
}
export class NLLLoss extends Module {
  constructor(readonly options: NllOptions = {}) {
    super();
  }
  override forward(logProbs: Tensor, target: Tensor): Tensor {
    return nllLoss(logProbs, target, this.options);
  }
}
export class MSELoss extends Module {
  constructor(readonly options: { reduction?: Reduction } = {}) {
    super();
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, this.options);
  }
}
export class BCEWithLogitsLoss extends Module {
  constructor(readonly options: { reduction?: Reduction; posWeight?: Tensor; weight?: Tensor } = {}) {
    super();
  }
  override forward(logits: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(logits, target, this.options);
  }
}
