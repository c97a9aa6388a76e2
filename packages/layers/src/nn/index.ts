export * from './activations.js';
export * from './batchnorm.js';
export * from './conv.js';
export * from './dropout.js';
export * from './linear.js';
export * from './losses.js';
