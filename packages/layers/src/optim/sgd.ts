// SGD with momentum, dampening, Nesterov and (coupled) weight decay, as torch.optim.SGD.
import { ArgumentError, add, dispatch, mul, type Tensor, zerosLike } from '@softpool/tensor';
import { Optimizer, type ParamGroup, type ParamGroupSpec, type ParamState } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/** @example const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }); */
export class SGD extends Optimizer<SGDOptions> {
  constructor(
    params: Iterable<Tensor> | ParamGroupSpec<SGDOptions>[],
    options: Partial<SGDOptions> & { lr: number },
  ) {
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...options });
    for (const g of this.paramGroups) {
      if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
        throw new ArgumentError('SGD: nesterov needs momentum > 0 and dampening 0');
      }
    }
  }
  protected override update(p: Tensor, grad: Tensor, g: ParamGroup<SGDOptions>, st: ParamState): void {
    const prev = st.momentumBuffer as Tensor | undefined;
    if (this.fusable('sgdStep', p, grad, [prev])) {
      // One in-place op; the momentum buffer starts as the first step's direction, as in PyTorch.
      const buf = g.momentum ? (prev ?? this.setState(st, 'momentumBuffer', zerosLike(p))) : undefined;
      const { lr, momentum, dampening, weightDecay, nesterov } = g;
      const gc = this.fusedGrad(grad);
      dispatch('sgdStep', buf ? [p, gc, buf] : [p, gc], {
        lr,
        momentum,
        dampening,
        weightDecay,
        nesterov,
        first: !prev,
      });
      if (gc !== grad) gc.dispose();
      for (const t of [p, buf]) t?.markModified();
      return;
    }
    let d = g.weightDecay ? add(grad, mul(p, g.weightDecay)) : grad;
    if (g.momentum) {
      const buf = prev ? add(mul(prev, g.momentum), mul(d, 1 - g.dampening)) : d.clone();
      this.setState(st, 'momentumBuffer', buf);
      d = g.nesterov ? add(d, mul(buf, g.momentum)) : buf;
    }
    p.sub_(mul(d, g.lr));
  }
}
