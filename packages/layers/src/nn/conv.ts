// Convolution layers Conv1d/2d/3d over [N, C, ...spatial], PyTorch's arguments and initialisation.
import { ArgumentError, type ConvOptions, conv1d, conv2d, conv3d, type Tensor } from '@softpool/tensor';
import { uniform } from '../init.js';
import { Module, type Parameter, param } from '../module.js';

export interface ConvLayerOptions extends ConvOptions {
  bias?: boolean;
}

abstract class ConvNd extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly kernelSize: number[];
  readonly options: ConvOptions;
  constructor(
    spatial: number,
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | readonly number[],
    { bias = true, ...options }: ConvLayerOptions = {},
  ) {
    super();
    const name = `Conv${spatial}d`;
    const groups = options.groups ?? 1;
    if (!Number.isInteger(inChannels) || inChannels <= 0 || inChannels % groups !== 0) {
      throw new ArgumentError(
        `${name}: inChannels ${inChannels} must be a positive multiple of groups ${groups}`,
      );
    }
    if (!Number.isInteger(outChannels) || outChannels <= 0 || outChannels % groups !== 0) {
      throw new ArgumentError(
        `${name}: outChannels ${outChannels} must be a positive multiple of groups ${groups}`,
      );
    }
    this.kernelSize =
      typeof kernelSize === 'number' ? new Array<number>(spatial).fill(kernelSize) : [...kernelSize];
    if (this.kernelSize.length !== spatial || this.kernelSize.some((k) => !Number.isInteger(k) || k <= 0)) {
      throw new ArgumentError(
        `${name}: kernelSize must be a positive integer or ${spatial} of them, got ${JSON.stringify(kernelSize)}`,
      );
    }
    this.options = options;
    const fanIn = (inChannels / groups) * this.kernelSize.reduce((a, b) => a * b, 1);
    const bound = 1 / Math.sqrt(fanIn);
    this.weight = param(uniform([outChannels, inChannels / groups, ...this.kernelSize], -bound, bound));
    this.bias = bias ? param(uniform([outChannels], -bound, bound)) : null;
  }
  override extraRepr(): string {
    const o = this.options;
    const parts = [`${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize.join(', ')}]`];
    for (const k of ['stride', 'padding', 'dilation', 'groups'] as const)
      if (o[k] !== undefined) parts.push(`${k}=${JSON.stringify(o[k])}`);
    if (!this.bias) parts.push('bias=false');
    return parts.join(', ');
  }
}

/** @example new Conv1d(16, 32, 3, { padding: 1 }) */
export class Conv1d extends ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    options: ConvLayerOptions = {},
  ) {
    super(1, inChannels, outChannels, kernelSize, options);
  }
  override forward(x: Tensor): Tensor {
    return conv1d(x, this.weight, this.bias, this.options);
  }
}

/** @example new Conv2d(3, 16, 3, { stride: 2, padding: 1 }) */
export class Conv2d extends ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    options: ConvLayerOptions = {},
  ) {
    super(2, inChannels, outChannels, kernelSize, options);
  }
  override forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.options);
  }
}

export class Conv3d extends ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    options: ConvLayerOptions = {},
  ) {
    super(3, inChannels, outChannels, kernelSize, options);
  }
  override forward(x: Tensor): Tensor {
    return conv3d(x, this.weight, this.bias, this.options);
  }
}
