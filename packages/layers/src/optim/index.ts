// Optimizers, learning-rate schedulers and gradient clipping.
export * from './adam.js';
export * from './clip.js';
export * from './optimizer.js';
export * from './rmsprop.js';
export * from './schedulers.js';
export * from './sgd.js';
