// @softpool/layers: modules, SoftPool and the baseline poolings, losses, optimizers, checkpoints.
import '@softpool/autograd';

import './op-attrs.js';

export * from './image/index.js';
export * from './init.js';
export * from './io/checkpoint.js';
export * from './io/safetensors.js';
export { Module, ModuleDict, ModuleList, Parameter, param, Sequential, type StateDict } from './module.js';
export * from './nn/index.js';
export * from './optim/index.js';
export * from './pooling/index.js';
