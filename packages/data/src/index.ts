// @softpool/data: IDX files, Fashion-MNIST (an embedded subset or the full dataset), a seeded
// DataLoader with normalisation and augmentation, and a synthetic video dataset.
export * from './clips.js';
export * from './dataset.js';
export * from './fashion-mnist.js';
export * from './idx.js';
export * from './loader.js';
