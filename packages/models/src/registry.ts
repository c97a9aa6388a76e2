// Models by name, for the train CLI and the benchmarks.
import type { Module } from '@softpool/layers';
import { ArgumentError } from '@softpool/tensor';
import { CNN3D } from './cnn3d.js';
import { LeNet5, type ModelOptions } from './lenet.js';
import { ResNet20 } from './resnet.js';
import { VGGSmall } from './vgg.js';

export interface ModelInfo {
  name: string;
  description: string;
  /** Input of one example, [C, H, W] or [C, T, H, W]. */
  input: number[];
  create: (options?: ModelOptions) => Module;
}

export const MODELS: Record<string, ModelInfo> = {
  lenet5: {
    name: 'lenet5',
    description: 'LeNet-5 with ReLU, 2 pooling layers',
    input: [1, 28, 28],
    create: (o) => new LeNet5(o),
  },
  vgg: {
    name: 'vgg',
    description: 'VGG-style, BatchNorm, 5 conv layers (16-32-64 channels), 2 pooling layers',
    input: [1, 28, 28],
    create: (o) => new VGGSmall(o),
  },
  resnet20: {
    name: 'resnet20',
    description: 'ResNet-20 (CIFAR variant), pooling downsampling',
    input: [1, 28, 28],
    create: (o) => new ResNet20(o),
  },
  cnn3d: {
    name: 'cnn3d',
    description: '3-D CNN for clips, 2 pooling layers',
    input: [1, 8, 32, 32],
    create: (o) => new CNN3D(o),
  },
};

/**
 * A model by name with a pooling choice.
 * @example createModel('lenet5', { pool: 'soft' })
 */
export function createModel(name: string, options: ModelOptions = {}): Module {
  const info = MODELS[name];
  if (!info)
    throw new ArgumentError(
      `createModel: unknown model '${name}'; choose one of ${Object.keys(MODELS).join(', ')}`,
    );
  return info.create(options);
}
