// A small 3-D CNN for short clips [N, C, T, H, W]: two conv3d stages with BatchNorm, each followed by
// the chosen 3-D pooling, then global average pooling and a classifier.
import { BatchNorm3d, Conv3d, GlobalAvgPool, Linear, Module } from '@softpool/layers';
import type { Tensor } from '@softpool/tensor';
import type { ModelOptions } from './lenet.js';
import { createPool } from './pools.js';

export class CNN3D extends Module {
  readonly conv1: Conv3d;
  readonly bn1: BatchNorm3d;
  readonly pool1: Module;
  readonly conv2: Conv3d;
  readonly bn2: BatchNorm3d;
  readonly pool2: Module;
  readonly gap = new GlobalAvgPool();
  readonly fc: Linear;
  constructor({ pool = 'max', numClasses = 4, inChannels = 1 }: ModelOptions = {}) {
    super();
    this.conv1 = new Conv3d(inChannels, 8, 3, { padding: 1, bias: false });
    this.bn1 = new BatchNorm3d(8);
    this.pool1 = createPool(pool, { spatial: 3, channels: 8 });
    this.conv2 = new Conv3d(8, 16, 3, { padding: 1, bias: false });
    this.bn2 = new BatchNorm3d(16);
    this.pool2 = createPool(pool, { spatial: 3, channels: 16 });
    this.fc = new Linear(16, numClasses);
  }
  override forward(x: Tensor): Tensor {
    const h = this.pool1.forward(this.bn1.forwardRelu(this.conv1.forward(x)));
    const g = this.pool2.forward(this.bn2.forwardRelu(this.conv2.forward(h)));
    return this.fc.forward(this.gap.forward(g));
  }
}
