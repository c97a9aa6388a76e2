// LeNet-5 (LeCun et al. 1998) with ReLU: two 5x5 convolutions each followed by the chosen pooling,
// then three fully connected layers. For 28x28 input the first conv pads by 2 (the classic 32x32 layout).
import { Conv2d, Flatten, Linear, Module, ReLU } from '@softpool/layers';
import type { Tensor } from '@softpool/tensor';
import { createPool, type PoolName } from './pools.js';

export interface ModelOptions {
  pool?: PoolName;
  numClasses?: number;
  inChannels?: number;
  /** Input height = width. */
  inputSize?: number;
}

export class LeNet5 extends Module {
  readonly conv1: Conv2d;
  readonly pool1: Module;
  readonly conv2: Conv2d;
  readonly pool2: Module;
  readonly flatten = new Flatten();
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly fc3: Linear;
  readonly relu = new ReLU();
  constructor({ pool = 'max', numClasses = 10, inChannels = 1, inputSize = 28 }: ModelOptions = {}) {
    super();
    this.conv1 = new Conv2d(inChannels, 6, 5, { padding: inputSize === 28 ? 2 : 0 });
    this.pool1 = createPool(pool, { channels: 6 });
    this.conv2 = new Conv2d(6, 16, 5);
    this.pool2 = createPool(pool, { channels: 16 });
    const s = Math.floor((Math.floor((inputSize === 28 ? 28 : inputSize - 4) / 2) - 4) / 2);
    this.fc1 = new Linear(16 * s * s, 120);
    this.fc2 = new Linear(120, 84);
    this.fc3 = new Linear(84, numClasses);
  }
  override forward(x: Tensor): Tensor {
    let h = this.pool1.forward(this.relu.forward(this.conv1.forward(x)));
    h = this.pool2.forward(this.relu.forward(this.conv2.forward(h)));
    h = this.relu.forward(this.fc1.forward(this.flatten.forward(h)));
    return this.fc3.forward(this.relu.forward(this.fc2.forward(h)));
  }
}
