// ResNet-20 for 28x28 / 32x32 inputs (He et al. 2016, the CIFAR variant: 3 stages x 3 basic blocks,
// 16/32/64 channels). Downsampling uses the chosen pooling instead of stride-2 convolutions, in the
// main path and in the shortcut, so the pooling choice matters as in the paper's substitution.
import { BatchNorm2d, Conv2d, GlobalAvgPool, Linear, Module } from '@softpool/layers';
import { add, relu, type Tensor } from '@softpool/tensor';
import type { ModelOptions } from './lenet.js';
import { createPool, type PoolName } from './pools.js';

class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly pool: Module | null;
  readonly shortcutPool: Module | null;
  readonly shortcut: Conv2d | null;
  readonly shortcutBn: BatchNorm2d | null;
  constructor(cin: number, cout: number, downsample: boolean, pool: PoolName) {
    super();
    this.conv1 = new Conv2d(cin, cout, 3, { padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(cout);
    this.pool = downsample ? createPool(pool, { channels: cout }) : null;
    this.conv2 = new Conv2d(cout, cout, 3, { padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(cout);
    this.shortcutPool = downsample ? createPool(pool, { channels: cin }) : null;
    this.shortcut = cin !== cout ? new Conv2d(cin, cout, 1, { bias: false }) : null;
    this.shortcutBn = cin !== cout ? new BatchNorm2d(cout) : null;
  }
  override forward(x: Tensor): Tensor {
    let h = relu(this.bn1.forward(this.conv1.forward(x)));
    if (this.pool) h = this.pool.forward(h);
    h = this.bn2.forward(this.conv2.forward(h));
    let s = this.shortcutPool ? this.shortcutPool.forward(x) : x;
    if (this.shortcut && this.shortcutBn) s = this.shortcutBn.forward(this.shortcut.forward(s));
    return relu(add(h, s));
  }
}

export class ResNet20 extends Module {
  readonly stem: Conv2d;
  readonly bn: BatchNorm2d;
  readonly blocks: BasicBlock[];
  readonly pool = new GlobalAvgPool();
  readonly fc: Linear;
  constructor({ pool = 'max', numClasses = 10, inChannels = 1 }: ModelOptions = {}) {
    super();
    this.stem = new Conv2d(inChannels, 16, 3, { padding: 1, bias: false });
    this.bn = new BatchNorm2d(16);
    this.blocks = [];
    let cin = 16;
    for (const [stage, cout] of [16, 32, 64].entries()) {
      for (let b = 0; b < 3; b++) {
        this.blocks.push(new BasicBlock(cin, cout, stage > 0 && b === 0, pool));
        cin = cout;
      }
    }
    this.fc = new Linear(64, numClasses);
  }
  override forward(x: Tensor): Tensor {
    let h = relu(this.bn.forward(this.stem.forward(x)));
    for (const b of this.blocks) h = b.forward(h);
    return this.fc.forward(this.pool.forward(h));
  }
}
