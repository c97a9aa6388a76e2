// Dropout: in training, zero each element with probability p and scale the rest by 1/(1-p)
// (seeded through a Generator); in eval mode, the identity.
import {
  ArgumentError,
  bernoulli,
  defaultGenerator,
  div,
  type Generator,
  mul,
  scope,
  type Tensor,
} from '@softpool/tensor';
import { Module } from '../module.js';

/** @example const drop = new Dropout(0.5); drop.forward(x); drop.eval(); */
export class Dropout extends Module {
  readonly generator: Generator;
  constructor(
    readonly p = 0.5,
    { generator }: { generator?: Generator } = {},
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ArgumentError(`Dropout: p must be in [0, 1], got ${p}`);
    this.generator = generator ?? defaultGenerator();
  }
  override forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    if (this.p === 1) return mul(x, 0);
    return scope(() => {
      const keep = bernoulli(1 - this.p, {
        shape: x.shape,
        dtype: x.dtype,
        backend: x.device,
        generator: this.generator,
      });
      return div(mul(x, keep), 1 - this.p);
    });
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
