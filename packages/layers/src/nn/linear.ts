// Linear (fully connected) layer: y = x W^T + b, PyTorch's default initialisation.
import { ArgumentError, add, matmul, scope, type Tensor, transpose } from '@softpool/tensor';
import { uniform } from '../init.js';
import { Module, type Parameter, param } from '../module.js';

/**
 * @example const fc = new Linear(784, 10); const logits = fc.forward(x); // x: [N, 784]
 */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    { bias = true }: { bias?: boolean } = {},
  ) {
    super();
    for (const [n, v] of [
      ['inFeatures', inFeatures],
      ['outFeatures', outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0)
        throw new ArgumentError(`Linear: ${n} must be a positive integer, got ${v}`);
    }
    // kaiming_uniform(a = sqrt(5)) reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as is the bias.
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = param(uniform([outFeatures, inFeatures], -bound, bound));
    this.bias = bias ? param(uniform([outFeatures], -bound, bound)) : null;
  }
  override forward(x: Tensor): Tensor {
    return scope(() => {
      const y = matmul(x, transpose(this.weight));
      return this.bias ? add(y, this.bias) : y;
    });
  }
  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
