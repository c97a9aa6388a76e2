// RMSprop with optional momentum and centering, as torch.optim.RMSprop.
import { add, div, mul, sqrt, square, sub, type Tensor, zerosLike } from '@softpool/tensor';
import { Optimizer, type ParamGroup, type ParamGroupSpec, type ParamState } from './optimizer.js';

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
}

export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(
    params: Iterable<Tensor> | ParamGroupSpec<RMSpropOptions>[],
    options: Partial<RMSpropOptions> = {},
  ) {
    super(params, {
      lr: 1e-2,
      alpha: 0.99,
      eps: 1e-8,
      weightDecay: 0,
      momentum: 0,
      centered: false,
      ...options,
    });
  }
  protected override update(p: Tensor, grad: Tensor, g: ParamGroup<RMSpropOptions>, st: ParamState): void {
    const d = g.weightDecay ? add(grad, mul(p, g.weightDecay)) : grad;
    st.step = ((st.step as number | undefined) ?? 0) + 1;
    const sq = this.setState(
      st,
      'squareAvg',
      add(mul((st.squareAvg as Tensor | undefined) ?? zerosLike(p), g.alpha), mul(square(d), 1 - g.alpha)),
    );
    let avg: Tensor;
    if (g.centered) {
      const ga = this.setState(
        st,
        'gradAvg',
        add(mul((st.gradAvg as Tensor | undefined) ?? zerosLike(p), g.alpha), mul(d, 1 - g.alpha)),
      );
      avg = add(sqrt(sub(sq, square(ga))), g.eps);
    } else {
      avg = add(sqrt(sq), g.eps);
    }
    if (g.momentum > 0) {
      const buf = this.setState(
        st,
        'momentumBuffer',
        add(mul((st.momentumBuffer as Tensor | undefined) ?? zerosLike(p), g.momentum), div(d, avg)),
      );
      p.sub_(mul(buf, g.lr));
    } else {
      p.sub_(mul(div(d, avg), g.lr));
    }
  }
}
