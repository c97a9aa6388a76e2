// A small VGG-style network with BatchNorm: conv stages of width w, 2w, 4w (2, 2 and 1 conv layers)
// separated by the chosen pooling, then dropout and a linear classifier on the flattened features.
import { BatchNorm2d, Conv2d, Dropout, Flatten, Linear, Module, ReLU, Sequential } from '@softpool/layers';
import type { Tensor } from '@softpool/tensor';
import type { ModelOptions } from './lenet.js';
import { createPool } from './pools.js';

function block(cin: number, cout: number): Module[] {
  return [new Conv2d(cin, cout, 3, { padding: 1, bias: false }), new BatchNorm2d(cout), new ReLU()];
}

export class VGGSmall extends Module {
  readonly features: Sequential;
  readonly head: Sequential;
  constructor({
    pool = 'max',
    numClasses = 10,
    inChannels = 1,
    inputSize = 28,
    width = 16,
  }: ModelOptions & { width?: number } = {}) {
    super();
    const w = width;
    this.features = new Sequential(
      ...block(inChannels, w),
      ...block(w, w),
      createPool(pool, { channels: w }),
      ...block(w, 2 * w),
      ...block(2 * w, 2 * w),
      createPool(pool, { channels: 2 * w }),
      ...block(2 * w, 4 * w),
    );
    const s = Math.floor(Math.floor(inputSize / 2) / 2);
    this.head = new Sequential(new Flatten(), new Dropout(0.3), new Linear(4 * w * s * s, numClasses));
  }
  override forward(x: Tensor): Tensor {
    return this.head.forward(this.features.forward(x));
  }
}
