// @softpool/layers: modules, SoftPool and the baseline poolings, losses, optimizers.
import '@softpool/autograd';

export * from './init.js';
export { Module, ModuleDict, ModuleList, Parameter, param, Sequential, type StateDict } from './module.js';
export * from './pooling/index.js';
