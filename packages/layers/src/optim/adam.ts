// Adam (L2 weight decay added to the gradient) and AdamW (decoupled weight decay), as torch.optim.
import {
  ArgumentError,
  add,
  dispatch,
  div,
  maximum,
  mul,
  sqrt,
  square,
  type Tensor,
  zerosLike,
} from '@softpool/tensor';
import { Optimizer, type ParamGroup, type ParamGroupSpec, type ParamState } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

abstract class AdamBase extends Optimizer<AdamOptions> {
  constructor(
    name: string,
    params: Iterable<Tensor> | ParamGroupSpec<AdamOptions>[],
    options: Partial<AdamOptions>,
    weightDecay: number,
    private readonly decoupled: boolean,
  ) {
    const [b1, b2] = options.betas ?? [0.9, 0.999];
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1))
      throw new ArgumentError(`${name}: betas must be in [0, 1), got [${b1}, ${b2}]`);
    if (options.eps !== undefined && !(options.eps >= 0))
      throw new ArgumentError(`${name}: eps must be >= 0, got ${options.eps}`);
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay, amsgrad: false, ...options });
  }

  protected override update(p: Tensor, grad: Tensor, g: ParamGroup<AdamOptions>, st: ParamState): void {
    const [b1, b2] = g.betas;
    if (this.fused(p, grad, g, st)) return;
    if (this.decoupled && g.weightDecay) p.mul_(1 - g.lr * g.weightDecay);
    const d = !this.decoupled && g.weightDecay ? add(grad, mul(p, g.weightDecay)) : grad;
    const step = ((st.step as number | undefined) ?? 0) + 1;
    st.step = step;
    const prev = (k: string) => (st[k] as Tensor | undefined) ?? zerosLike(p);
    const m = this.setState(st, 'expAvg', add(mul(prev('expAvg'), b1), mul(d, 1 - b1)));
    let v = this.setState(st, 'expAvgSq', add(mul(prev('expAvgSq'), b2), mul(square(d), 1 - b2)));
    if (g.amsgrad) v = this.setState(st, 'maxExpAvgSq', maximum(prev('maxExpAvgSq'), v));
    const c1 = 1 - b1 ** step;
    const c2 = 1 - b2 ** step;
    // p -= lr / c1 * m / (sqrt(v) / sqrt(c2) + eps), PyTorch's arrangement.
    const denom = add(div(sqrt(v), Math.sqrt(c2)), g.eps);
    p.sub_(mul(div(m, denom), g.lr / c1));
  }

  /** The step as one in-place op where it can run (`fusable`); false leaves it to the composed ops. */
  private fused(p: Tensor, grad: Tensor, g: ParamGroup<AdamOptions>, st: ParamState): boolean {
    const keys = g.amsgrad ? ['expAvg', 'expAvgSq', 'maxExpAvgSq'] : ['expAvg', 'expAvgSq'];
    const state = keys.map((k) => st[k] as Tensor | undefined);
    if (!this.fusable('adamStep', p, grad, state)) return false;
    const [m, v, vmax] = keys.map((k, i) => state[i] ?? this.setState(st, k, zerosLike(p)));
    const step = ((st.step as number | undefined) ?? 0) + 1;
    st.step = step;
    const [beta1, beta2] = g.betas;
    const { lr, eps, weightDecay } = g;
    const gc = this.fusedGrad(grad);
    dispatch('adamStep', vmax ? [p, gc, m, v, vmax] : [p, gc, m, v], {
      lr,
      beta1,
      beta2,
      eps,
      weightDecay,
      decoupled: this.decoupled,
      step,
    });
    if (gc !== grad) gc.dispose();
    for (const t of [p, m, v, vmax]) t?.markModified();
    return true;
  }
}

/** @example new Adam(model.parameters(), { lr: 1e-3 }) */
export class Adam extends AdamBase {
  constructor(params: Iterable<Tensor> | ParamGroupSpec<AdamOptions>[], options: Partial<AdamOptions> = {}) {
    super('Adam', params, options, 0, false);
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter). Default weightDecay 0.01. */
export class AdamW extends AdamBase {
  constructor(params: Iterable<Tensor> | ParamGroupSpec<AdamOptions>[], options: Partial<AdamOptions> = {}) {
    super('AdamW', params, options, 0.01, true);
  }
}
